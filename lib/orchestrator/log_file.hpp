#pragma once
// A node's log file with size-based rotation: <name>.log, <name>.log.1 … <name>.log.<keep-1>.
// Each line is written with one write(2) (no user-space buffer, so `tail -f` sees it at once and
// memory stays constant however much a service prints). Not thread-safe: one writer per node
// (its output reader thread) — the caller serialises.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace devx::orchestrator {

class RotatingLog {
 public:
  static constexpr std::uint64_t kDefaultMaxBytes = 10ULL * 1024 * 1024;
  static constexpr int kDefaultFiles = 3;

  RotatingLog(std::filesystem::path path, std::uint64_t max_bytes = kDefaultMaxBytes,
              int files = kDefaultFiles);
  ~RotatingLog();
  RotatingLog(const RotatingLog&) = delete;
  RotatingLog& operator=(const RotatingLog&) = delete;

  // Appends `line` + '\n' (lines longer than max_bytes are cut). Errors are swallowed: a full
  // disk must not stop the service.
  void write_line(std::string_view line);
  // Appends one output line as a record: "<UTC time, ms> <out|err> <line>", for example
  // "2026-11-28T16:57:13.123Z out listening on :8080". The fixed-width prefix keeps the files
  // readable with `tail -f` and lets readers merge several files by time (parse_log_record).
  void write_record(std::int64_t time_ms, bool from_stderr, std::string_view line);
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void open_current(bool truncate);
  void rotate();

  std::filesystem::path path_;
  std::uint64_t max_bytes_;
  int files_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// One line of a log file, split into its record prefix. Lines written without a prefix (by
// write_line, or by older versions) come back with time_ms = 0, stream "out" and the whole text.
struct LogRecord {
  std::int64_t time_ms = 0;
  std::string_view stream = "out";
  std::string_view text;
};
LogRecord parse_log_record(std::string_view line);
// "2026-11-28T16:57:13.123Z" (24 characters).
std::string format_log_time(std::int64_t time_ms);

// The last `capacity` lines (each cut to 4 KiB).
class LineRing {
 public:
  explicit LineRing(std::size_t capacity = 20) : capacity_(capacity) {}
  void push(std::string_view line);
  std::vector<std::string> lines() const { return {lines_.begin(), lines_.end()}; }
  void clear() { lines_.clear(); }

 private:
  std::size_t capacity_;
  std::deque<std::string> lines_;
};

}  // namespace devx::orchestrator
