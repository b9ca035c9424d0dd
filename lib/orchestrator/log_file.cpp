#include "orchestrator/log_file.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace devx::orchestrator {

RotatingLog::RotatingLog(std::filesystem::path path, std::uint64_t max_bytes, int files)
    : path_(std::move(path)),
      max_bytes_(std::max<std::uint64_t>(max_bytes, 1024)),
      files_(std::max(files, 1)) {
  std::error_code ec;
  std::filesystem::create_directories(path_.parent_path(), ec);
  // A new session starts a new file: the previous one becomes .1 (crash tails never show lines
  // of an earlier run as if they were this one's).
  if (std::filesystem::exists(path_, ec)) rotate();
  open_current(true);
}

RotatingLog::~RotatingLog() {
  if (fd_ >= 0) ::close(fd_);
}

void RotatingLog::open_current(bool truncate) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0),
               0644);
  size_ = 0;
}

void RotatingLog::rotate() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::error_code ec;
  const std::string base = path_.string();
  std::filesystem::remove(base + "." + std::to_string(files_ - 1), ec);
  for (int k = files_ - 2; k >= 1; --k) {
    std::filesystem::rename(base + "." + std::to_string(k), base + "." + std::to_string(k + 1), ec);
  }
  if (files_ > 1) {
    std::filesystem::rename(path_, base + ".1", ec);
  } else {
    std::filesystem::remove(path_, ec);
  }
}

void RotatingLog::write_line(std::string_view line) {
  if (line.size() + 1 > max_bytes_) line = line.substr(0, max_bytes_ - 1);
  if (size_ > 0 && size_ + line.size() + 1 > max_bytes_) {
    rotate();
    open_current(true);
  }
  if (fd_ < 0) return;
  char newline = '\n';
  iovec parts[2] = {{const_cast<char*>(line.data()), line.size()}, {&newline, 1}};
  const ssize_t n = ::writev(fd_, parts, 2);
  if (n > 0) size_ += static_cast<std::uint64_t>(n);
}

void LineRing::push(std::string_view line) {
  if (capacity_ == 0) return;
  if (lines_.size() == capacity_) lines_.pop_front();
  lines_.emplace_back(line.substr(0, 4096));
}

}  // namespace devx::orchestrator
