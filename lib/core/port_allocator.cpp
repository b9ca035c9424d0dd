// Local TCP port allocation by trial bind(): a port is usable when it can be bound on 127.0.0.1,
// 0.0.0.0 and ::1 with SO_REUSEADDR, as servers bind (Python, Node, nginx, PostgreSQL, Redis all
// set it). So a listener makes a port busy, while the TIME_WAIT leftovers of such a server that
// was just stopped do not: `devx down && devx up` keeps its ports instead of shifting them.
// A reservation is held without SO_REUSEADDR where possible, so other processes' probes see it
// as taken; our own reservations are also tracked explicitly.
#include <devx/error.hpp>
#include <devx/ports.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "core/json.hpp"
#include "core/unique_fd.hpp"

namespace devx {

PortReservation::PortReservation(PortReservation&& other) noexcept
    : port_(std::exchange(other.port_, 0)), fd_(std::exchange(other.fd_, -1)) {}

PortReservation& PortReservation::operator=(PortReservation&& other) noexcept {
  if (this != &other) {
    release();
    port_ = std::exchange(other.port_, 0);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

PortReservation::~PortReservation() { release(); }

// The port number stays readable after release(), so the caller can pass it on to the service.
void PortReservation::release() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

using core::UniqueFd;

enum class BindResult { ok, in_use, denied, unavailable };

// Binds a fresh TCP socket to addr:port. `keep` receives the socket when binding succeeded.
BindResult try_bind(int family, const char* address, std::uint16_t port, UniqueFd* keep,
                    int* error, bool reuse = true) {
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    *error = errno;
    // No IPv6 in this kernel / namespace: nothing can listen there either.
    return errno == EAFNOSUPPORT ? BindResult::unavailable : BindResult::in_use;
  }
  if (reuse) {
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  int rc = 0;
  if (family == AF_INET6) {
    const int on = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    ::inet_pton(AF_INET6, address, &sa.sin6_addr);
    rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &sa.sin_addr);
    rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  }
  if (rc == 0) {
    if (keep != nullptr) *keep = std::move(fd);
    return BindResult::ok;
  }
  *error = errno;
  switch (errno) {
    case EACCES:
    case EPERM:
      return BindResult::denied;  // privileged port: unusable, but not in use
    case EADDRNOTAVAIL:
      // ::1 missing (IPv6 disabled on lo): skip that address.
      return family == AF_INET6 ? BindResult::unavailable : BindResult::in_use;
    default:
      return BindResult::in_use;
  }
}

std::uint16_t bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.sin_port);
}

struct Probe {
  BindResult result = BindResult::ok;
  UniqueFd held;  // the 127.0.0.1 socket, when asked to keep it
};

// The wildcard and ::1 are probed first and released; 127.0.0.1 last, optionally kept (binding
// 0.0.0.0 while we hold 127.0.0.1 would collide with our own socket).
Probe probe(std::uint16_t port, bool keep) {
  Probe out;
  int error = 0;
  for (const auto& [family, address] :
       {std::pair{AF_INET, "0.0.0.0"}, std::pair{AF_INET6, "::1"}}) {
    const BindResult r = try_bind(family, address, port, nullptr, &error);
    if (r == BindResult::in_use || r == BindResult::denied) {
      out.result = r;
      return out;
    }
  }
  if (keep) {
    // Held exclusively when no TIME_WAIT leftover prevents it.
    out.result = try_bind(AF_INET, "127.0.0.1", port, &out.held, &error, false);
    if (out.result == BindResult::ok) return out;
  }
  out.result = try_bind(AF_INET, "127.0.0.1", port, keep ? &out.held : nullptr, &error);
  return out;
}

class SystemPortAllocator final : public PortAllocator {
 public:
  bool is_free(std::uint16_t port) override {
    if (port == 0) return false;
    std::lock_guard lock(mutex_);
    if (reserved_by_us(port)) return false;
    return probe(port, false).result == BindResult::ok;
  }

  PortReservation reserve(std::uint16_t preferred, std::uint16_t max_shift) override {
    std::lock_guard lock(mutex_);
    if (preferred == 0) return reserve_any();
    int in_use = 0;
    int denied = 0;
    const unsigned last = std::min<unsigned>(65535U, unsigned{preferred} + max_shift);
    for (unsigned candidate = preferred; candidate <= last; ++candidate) {
      const auto port = static_cast<std::uint16_t>(candidate);
      if (reserved_by_us(port)) {
        ++in_use;
        continue;
      }
      Probe p = probe(port, true);
      if (p.result == BindResult::ok) return remember(port, std::move(p.held));
      ++(p.result == BindResult::denied ? denied : in_use);
    }
    boost::json::object details;
    details["preferred"] = preferred;
    details["last"] = last;
    details["in_use"] = in_use;
    details["permission_denied"] = denied;
    std::string why = std::to_string(in_use) + " in use";
    if (denied > 0) {
      why += ", " + std::to_string(denied) + " privileged (binding needs CAP_NET_BIND_SERVICE)";
    }
    throw Error(ErrorCode::port_in_use,
                "no free port in " + std::to_string(preferred) + "-" + std::to_string(last) + " (" +
                    why + ")",
                "stop what is using the port or configure another one",
                core::to_json_string(details));
  }

 private:
  // The kernel picks an ephemeral port for 0.0.0.0; we then check the other addresses.
  PortReservation reserve_any() {
    for (int attempt = 0; attempt < 50; ++attempt) {
      UniqueFd any;
      int error = 0;
      if (try_bind(AF_INET, "0.0.0.0", 0, &any, &error) != BindResult::ok) {
        throw Error(ErrorCode::port_in_use,
                    std::string("cannot get a free port from the kernel: ") + std::strerror(error));
      }
      const std::uint16_t port = bound_port(any.get());
      any.reset();
      if (port == 0 || reserved_by_us(port)) continue;
      Probe p = probe(port, true);
      if (p.result == BindResult::ok) return remember(port, std::move(p.held));
    }
    throw Error(ErrorCode::port_in_use, "no free port found among kernel-chosen ports");
  }

  // The identity of a held socket: a reservation counts as live while its descriptor still refers
  // to the same socket bound to the port. PortReservation has no link back to us, so this is how
  // release() (or destruction) is noticed without changing the public type.
  struct Held {
    int fd;
    ino_t inode;
  };

  PortReservation remember(std::uint16_t port, UniqueFd fd) {
    struct stat st {};
    ::fstat(fd.get(), &st);
    reserved_[port] = Held{fd.get(), st.st_ino};
    return PortReservation(port, fd.release());
  }

  bool reserved_by_us(std::uint16_t port) {
    const auto it = reserved_.find(port);
    if (it == reserved_.end()) return false;
    struct stat st {};
    if (::fstat(it->second.fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == it->second.inode &&
        bound_port(it->second.fd) == port) {
      return true;
    }
    reserved_.erase(it);
    return false;
  }

  std::mutex mutex_;
  std::map<std::uint16_t, Held> reserved_;
};

}  // namespace

std::shared_ptr<PortAllocator> make_system_port_allocator() {
  return std::make_shared<SystemPortAllocator>();
}

}  // namespace devx
