#include "orchestrator/log_file.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
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

void RotatingLog::write_record(std::int64_t time_ms, bool from_stderr, std::string_view line) {
  std::string record = format_log_time(time_ms);
  record += from_stderr ? " err " : " out ";
  record += line;
  write_line(record);
}

std::string format_log_time(std::int64_t time_ms) {
  const std::time_t seconds = static_cast<std::time_t>(time_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(time_ms % 1000));
  return buffer;
}

LogRecord parse_log_record(std::string_view line) {
  LogRecord record;
  record.text = line;
  // 0         1         2
  // 0123456789012345678901234567
  // 2026-11-28T16:57:13.123Z out …
  if (line.size() < 28 || line[4] != '-' || line[7] != '-' || line[10] != 'T' || line[13] != ':' ||
      line[16] != ':' || line[19] != '.' || line[23] != 'Z' || line[24] != ' ')
    return record;
  const std::string_view stream = line.substr(25, 3);
  if (stream != "out" && stream != "err") return record;
  if (line.size() > 28 && line[28] != ' ') return record;
  auto digits = [&](std::size_t at, std::size_t count, int& value) {
    value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (line[i] < '0' || line[i] > '9') return false;
      value = value * 10 + (line[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0;
  if (!digits(0, 4, year) || !digits(5, 2, month) || !digits(8, 2, day) || !digits(11, 2, hour) ||
      !digits(14, 2, minute) || !digits(17, 2, second) || !digits(20, 3, ms))
    return record;
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  record.time_ms = static_cast<std::int64_t>(::timegm(&utc)) * 1000 + ms;
  record.stream = line[25] == 'e' ? std::string_view("err") : std::string_view("out");
  record.text = line.size() > 29 ? line.substr(29) : std::string_view();
  return record;
}

void LineRing::push(std::string_view line) {
  if (capacity_ == 0) return;
  if (lines_.size() == capacity_) lines_.pop_front();
  lines_.emplace_back(line.substr(0, 4096));
}

}  // namespace devx::orchestrator
