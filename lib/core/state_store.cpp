// File-backed StateStore: one file per key under the root, written atomically (temporary file in
// the same directory + fsync + rename + fsync of the directory) so readers, including other
// processes and a post-crash `doctor`, see either the old or the new content, never a mix.
#include <devx/error.hpp>
#include <devx/state.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "core/json.hpp"
#include "core/unique_fd.hpp"

namespace devx {

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

// Closing the descriptor releases the flock.
StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

using core::UniqueFd;
namespace fs = std::filesystem;

constexpr std::string_view kTempPrefix = ".devx-tmp-";
constexpr std::chrono::milliseconds kUpdateLockWait{10000};

std::string errno_text(int err) { return std::strerror(err); }  // NOLINT(concurrency-mt-unsafe)

[[noreturn]] void throw_io(const std::string& what, const fs::path& path, int err) {
  boost::json::object details;
  details["path"] = path.string();
  details["errno"] = err;
  throw Error(ErrorCode::io, what + " '" + path.string() + "': " + errno_text(err), {},
              core::to_json_string(details));
}

bool valid_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

// Keys are relative paths below the root: [A-Za-z0-9._-/], no empty, "." or ".." component.
void validate_key(std::string_view key, std::string_view what, bool allow_empty = false) {
  auto reject = [&](std::string_view why) {
    std::string printable;
    for (const char c : key) {
      printable += (c >= 0x20 && c < 0x7f)
                       ? std::string(1, c)
                       : std::string("\\x") + "0123456789abcdef"[(c >> 4) & 0xf] +
                             "0123456789abcdef"[c & 0xf];
    }
    throw Error(ErrorCode::invalid_argument,
                "invalid state " + std::string(what) + " '" + printable + "': " + std::string(why),
                "use a relative path made of letters, digits, '.', '_', '-' and '/'");
  };
  if (key.empty()) {
    if (allow_empty) return;
    reject("it is empty");
  }
  if (key.size() > 1024) reject("it is too long");
  if (!std::all_of(key.begin(), key.end(), valid_key_char))
    reject("it contains invalid characters");
  if (key.front() == '/') reject("it must be relative");
  std::size_t start = 0;
  while (start <= key.size()) {
    const auto slash = key.find('/', start);
    const auto part = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (part.empty()) reject("it has an empty path component");
    if (part == "." || part == "..") reject("it must not contain '.' or '..' components");
    if (part.size() > 200) reject("a path component is too long");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
}

// mkdir -p with 0700 for every directory we create (state may hold secrets).
void make_dirs(const fs::path& dir) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return;
    throw_io("not a directory:", dir, ENOTDIR);
  }
  make_dirs(dir.parent_path() == dir ? fs::path() : dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw_io("cannot create directory", dir, errno);
}

void fsync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());  // best effort: some filesystems refuse fsync on directories
}

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 12; ++i) out += kAlphabet[rng() % kAlphabet.size()];
  return out;
}

class FileStateStore final : public StateStore {
 public:
  explicit FileStateStore(fs::path root) : root_(std::move(root)) {
    if (root_.empty()) throw Error(ErrorCode::invalid_argument, "state store root is empty");
    root_ = fs::absolute(root_).lexically_normal();
  }

  const fs::path& root() const override { return root_; }

  std::optional<std::string> read(std::string_view key) const override {
    validate_key(key, "key");
    const fs::path path = root_ / std::string(key);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
      if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
      throw_io("cannot open", path, errno);
    }
    std::string content;
    std::array<char, 16384> buffer;
    while (true) {
      const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_io("cannot read", path, errno);
      }
      if (n == 0) break;
      content.append(buffer.data(), static_cast<std::size_t>(n));
    }
    return content;
  }

  void write(std::string_view key, std::string_view content, FileAccess access) override {
    validate_key(key, "key");
    const fs::path path = root_ / std::string(key);
    const fs::path dir = path.parent_path();
    make_dirs(dir);
    const mode_t mode = access == FileAccess::private_ ? 0600 : 0644;
    const fs::path temp =
        dir / (std::string(kTempPrefix) + path.filename().string() + "-" + random_suffix());
    // Created with the final mode (O_EXCL: never follows or reuses an existing file), then
    // fchmod'ed, because the umask may have removed bits or a permissive umask never matters.
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd) throw_io("cannot create", temp, errno);
    try {
      if (::fchmod(fd.get(), mode) != 0) throw_io("cannot chmod", temp, errno);
      write_all(fd.get(), content, temp);
      if (::fsync(fd.get()) != 0) throw_io("cannot fsync", temp, errno);
      if (::close(fd.release()) != 0) throw_io("cannot close", temp, errno);
      if (::rename(temp.c_str(), path.c_str()) != 0) throw_io("cannot rename onto", path, errno);
    } catch (...) {
      ::unlink(temp.c_str());
      throw;
    }
    fsync_dir(dir);
  }

  bool remove(std::string_view key) override {
    validate_key(key, "key");
    const fs::path path = root_ / std::string(key);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return false;
      throw_io("cannot remove", path, errno);
    }
    fsync_dir(path.parent_path());
    return true;
  }

  std::vector<std::string> list(std::string_view dir) const override {
    while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
    validate_key(dir, "directory", /*allow_empty=*/true);
    const fs::path path = dir.empty() ? root_ : root_ / std::string(dir);
    std::vector<std::string> keys;
    DIR* raw = ::opendir(path.c_str());
    if (raw == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return keys;
      throw_io("cannot list", path, errno);
    }
    const std::unique_ptr<DIR, int (*)(DIR*)> handle(raw, ::closedir);
    const std::string prefix = dir.empty() ? std::string() : std::string(dir) + "/";
    while (const dirent* entry = ::readdir(raw)) {
      const std::string_view name(entry->d_name);
      if (name == "." || name == ".." || name.starts_with(kTempPrefix)) continue;
      struct stat st {};
      if (::fstatat(::dirfd(raw), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode)) {
        continue;
      }
      keys.push_back(prefix + std::string(name));
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  StateLock lock(std::string_view name, std::chrono::milliseconds wait) override {
    validate_key(name, "lock name");
    const fs::path path = root_ / "locks" / (std::string(name) + ".lock");
    make_dirs(path.parent_path());
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) throw_io("cannot open lock", path, errno);
    const auto deadline = std::chrono::steady_clock::now() + wait;
    auto pause = std::chrono::milliseconds(5);
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK) throw_io("cannot lock", path, errno);
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) throw_locked(name, path, fd.get());
      // flock has no timed wait; poll with a short, growing pause.
      std::this_thread::sleep_for(
          std::min({pause, std::chrono::ceil<std::chrono::milliseconds>(deadline - now)}));
      pause = std::min(pause * 2, std::chrono::milliseconds(25));
    }
    // Record the holder for the error message of whoever waits next (informational only).
    const std::string holder = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) == 0) {
      [[maybe_unused]] const ssize_t n = ::pwrite(fd.get(), holder.data(), holder.size(), 0);
    }
    return StateLock(fd.release());
  }

  void update(std::string_view key,
              const std::function<std::optional<std::string>(std::optional<std::string>)>& change,
              FileAccess access) override {
    validate_key(key, "key");
    const StateLock held = lock(key, kUpdateLockWait);
    std::optional<std::string> next = change(read(key));
    if (next) {
      write(key, *next, access);
    } else {
      remove(key);
    }
  }

 private:
  [[noreturn]] static void throw_locked(std::string_view name, const fs::path& path, int fd) {
    std::array<char, 32> buffer{};
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size() - 1, 0);
    std::string holder = n > 0 ? std::string(buffer.data(), static_cast<std::size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    boost::json::object details;
    details["lock"] = std::string(name);
    details["path"] = path.string();
    if (!holder.empty()) details["holder_pid"] = holder;
    throw Error(ErrorCode::locked,
                "state lock '" + std::string(name) + "' is held by another process" +
                    (holder.empty() ? "" : " (pid " + holder + ")"),
                "wait for the other devx process to finish; a lock is released automatically "
                "when its holder exits",
                core::to_json_string(details));
  }

  fs::path root_;
};

}  // namespace

std::shared_ptr<StateStore> make_file_state_store(std::filesystem::path root) {
  return std::make_shared<FileStateStore>(std::move(root));
}

}  // namespace devx
