#include "supervisor/control_socket.hpp"

#include <devx/error.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace devx::supervisor {
namespace {

sockaddr_un address_of(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() > kMaxSocketPath) {
    throw Error(ErrorCode::io, "control socket path too long: " + text);
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

}  // namespace

std::filesystem::path socket_path_for(const std::filesystem::path& run_dir,
                                      const std::string& run_key) {
  auto path = run_dir / "control.sock";
  if (path.string().size() <= kMaxSocketPath) return path;
  // A deep DEVX_HOME: a short, per-user directory. The key is unique per project file.
  return std::filesystem::path("/tmp") / ("devx-" + std::to_string(::getuid())) /
         (run_key.substr(0, 60) + ".sock");
}

core::UniqueFd listen_unix(const std::filesystem::path& path) {
  std::error_code ec;
  const auto dir = path.parent_path();
  if (std::filesystem::create_directories(dir, ec); ec) {
    throw Error(ErrorCode::io, "cannot create " + dir.string() + ": " + ec.message());
  }
  if (dir.string().rfind("/tmp/devx-", 0) == 0) {
    // Our own fallback directory: private, and really ours (not someone else's planted dir).
    struct stat info {};
    if (::lstat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != ::getuid()) {
      throw Error(ErrorCode::io, dir.string() + " is not a directory owned by this user");
    }
    ::chmod(dir.c_str(), 0700);
  }
  const sockaddr_un address = address_of(path);
  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw Error(ErrorCode::io, std::string("socket: ") + std::strerror(errno));
  // The caller holds the run lock: a socket file still there belongs to a dead supervisor.
  std::filesystem::remove(path, ec);
  const mode_t old_mask = ::umask(0177);
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0) {
    throw Error(ErrorCode::io, "cannot bind " + path.string() + ": " + std::strerror(bind_errno));
  }
  ::chmod(path.c_str(), 0600);
  if (::listen(fd.get(), 16) != 0) {
    throw Error(ErrorCode::io, std::string("listen: ") + std::strerror(errno));
  }
  return fd;
}

core::UniqueFd connect_unix(const std::filesystem::path& path) {
  if (path.string().size() > kMaxSocketPath) return {};
  const sockaddr_un address = address_of(path);
  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return {};
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return {};
  }
  return fd;
}

bool send_line(int fd, std::string_view line) {
  std::string data(line);
  data += '\n';
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) <= 0) return false;  // a client that does not read is dropped
      continue;
    }
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::string> LineReader::next(std::chrono::milliseconds timeout) {
  timed_out_ = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out_ = true;
      return std::nullopt;
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;
    if (ready < 0) return std::nullopt;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    if (buffer_.size() > (64U << 20)) return std::nullopt;  // a runaway peer
  }
}

}  // namespace devx::supervisor

#include <boost/json/value.hpp>

#include "core/json.hpp"

namespace devx::supervisor {

Error error_from_json(const boost::json::value& value) {
  if (!value.is_object()) return Error(ErrorCode::internal, "malformed error from the supervisor");
  const auto& o = value.get_object();
  auto text = [&](std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  int status = static_cast<int>(ErrorCode::internal);
  if (const auto* s = o.if_contains("status"); s != nullptr && s->is_int64()) {
    status = static_cast<int>(s->get_int64());
  }
  std::string details;
  if (const auto* d = o.if_contains("details"); d != nullptr && d->is_object()) {
    details = core::to_json_string(*d);
  }
  Error error(static_cast<ErrorCode>(status), text("message"), text("hint"), details);
  if (const auto* c = o.if_contains("cause"); c != nullptr && c->is_object()) {
    error.with_cause(error_from_json(*c));
  }
  return error;
}

}  // namespace devx::supervisor
