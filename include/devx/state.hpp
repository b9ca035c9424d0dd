#pragma once
// Per-object state files under DEVX_HOME. Keys are relative paths ("run/shop.json"); writes are
// atomic (temporary file + fsync + rename) and serialised across processes with flock.
#include <devx/export.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devx {

enum class FileAccess {
  shared,   // 0644
  private_  // 0600: anything holding secrets
};

// An exclusive advisory lock; released on destruction.
class DEVX_API StateLock {
 public:
  StateLock() = default;
  explicit StateLock(int fd) : fd_(fd) {}
  StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class DEVX_API StateStore {
 public:
  virtual ~StateStore() = default;
  virtual const std::filesystem::path& root() const = 0;
  // Keys must be relative, without "..", and made of [A-Za-z0-9._-/]: Error(invalid_argument).
  virtual std::optional<std::string> read(std::string_view key) const = 0;
  virtual void write(std::string_view key, std::string_view content,
                     FileAccess access = FileAccess::shared) = 0;
  virtual bool remove(std::string_view key) = 0;
  // Keys directly below `dir` (a key prefix naming a folder), sorted.
  virtual std::vector<std::string> list(std::string_view dir) const = 0;
  // Takes the named lock, waiting up to `wait`; Error(locked) if another holder keeps it.
  virtual StateLock lock(std::string_view name, std::chrono::milliseconds wait) = 0;
  // Read-modify-write under the key's lock. `change` gets the current content (or nullopt) and
  // returns the new content, or nullopt to delete the key.
  virtual void update(std::string_view key,
                      const std::function<std::optional<std::string>(std::optional<std::string>)>& change,
                      FileAccess access = FileAccess::shared) = 0;
};

DEVX_API std::shared_ptr<StateStore> make_file_state_store(std::filesystem::path root);

}  // namespace devx
