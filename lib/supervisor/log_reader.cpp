// The log reader of `devx logs`: the rotated files of a run (<node>.log.<k> … <node>.log), each
// line a record "<UTC time> <out|err> <text>" (orchestrator/log_file.hpp), merged by time.
// Following polls the files every 100 ms: cheap, and it survives rotation (a file that shrank
// or was replaced is read again from its start).
#include <devx/error.hpp>
#include <devx/supervisor.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <ctime>
#include <fstream>
#include <map>
#include <thread>

#include "core/json.hpp"
#include "orchestrator/log_file.hpp"
#include "orchestrator/plan.hpp"

namespace devx {
namespace {

using std::chrono::milliseconds;

constexpr int kMaxRotated = 16;

std::filesystem::path logs_dir(const Context& context, const Project& project) {
  return run_directory(context, project) / "logs";
}

std::vector<std::string> selected_services(const std::filesystem::path& dir,
                                           const LogQuery& query) {
  std::vector<std::string> names;
  if (!query.services.empty()) {
    for (const auto& name : query.services) {
      std::error_code ec;
      if (!std::filesystem::exists(dir / (name + ".log"), ec)) {
        throw Error(ErrorCode::not_found, "no logs for '" + name + "'",
                    "logs exist once the service was started by `devx up`");
      }
      names.push_back(name);
    }
    return names;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto file = entry.path().filename().string();
    if (file.size() > 4 && file.ends_with(".log")) names.push_back(file.substr(0, file.size() - 4));
  }
  std::sort(names.begin(), names.end());
  return names;
}

LogLine to_line(const std::string& service, std::string_view text) {
  const auto record = orchestrator::parse_log_record(text);
  LogLine line;
  line.time_ms = record.time_ms;
  line.service = service;
  line.stream = std::string(record.stream);
  line.line = std::string(record.text);
  return line;
}

void read_file(const std::filesystem::path& path, const std::string& service,
               std::vector<LogLine>& out) {
  std::ifstream in(path);
  for (std::string text; std::getline(in, text);) out.push_back(to_line(service, text));
}

// Follows one live file: the byte offset read so far and the inode it belongs to.
struct Cursor {
  std::string service;
  std::filesystem::path path;
  ino_t inode = 0;
  std::uint64_t offset = 0;
  std::string partial;
};

void poll_cursor(Cursor& c, std::vector<LogLine>& out) {
  struct stat info {};
  if (::stat(c.path.c_str(), &info) != 0) return;
  if (info.st_ino != c.inode || static_cast<std::uint64_t>(info.st_size) < c.offset) {
    // Rotated (a new file) or truncated: start over.
    c.inode = info.st_ino;
    c.offset = 0;
    c.partial.clear();
  }
  if (static_cast<std::uint64_t>(info.st_size) == c.offset) return;
  std::ifstream in(c.path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(c.offset));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c.offset += chunk.size();
  c.partial += chunk;
  std::size_t start = 0;
  for (std::size_t nl; (nl = c.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(to_line(c.service, std::string_view(c.partial).substr(start, nl - start)));
  }
  c.partial.erase(0, start);
}

}  // namespace

std::optional<std::int64_t> parse_log_since(std::string_view text, std::int64_t now_ms) {
  if (text.empty()) return std::nullopt;
  // A duration: one or more <digits><unit>.
  if (text.find('-') == std::string_view::npos && text.find(':') == std::string_view::npos) {
    std::int64_t total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      std::int64_t value = 0;
      const std::size_t digits_start = i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value = value * 10 + (text[i] - '0');
        if (value > (std::int64_t{1} << 40)) return std::nullopt;
        ++i;
      }
      if (i == digits_start) return std::nullopt;
      const std::size_t unit_start = i;
      while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
      const std::string_view unit = text.substr(unit_start, i - unit_start);
      std::int64_t factor = 0;
      if (unit == "ms")
        factor = 1;
      else if (unit == "s")
        factor = 1000;
      else if (unit == "m")
        factor = 60 * 1000;
      else if (unit == "h")
        factor = 3600 * 1000;
      else if (unit == "d")
        factor = 24 * 3600 * 1000;
      else
        return std::nullopt;
      total += value * factor;
    }
    return now_ms - total;
  }
  // RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  auto number = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    int value = 0;
    for (std::size_t k = at; k < at + count; ++k) {
      if (k >= text.size() || text[k] < '0' || text[k] > '9') return std::nullopt;
      value = value * 10 + (text[k] - '0');
    }
    return value;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2), hour = number(11, 2),
             minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  std::size_t i = 19;
  int ms = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int scale = 100;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      ms += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  std::int64_t offset_ms = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const auto oh = number(i + 1, 2), om = number(i + 4, 2);
    if (!oh || !om || i + 3 >= text.size() || text[i + 3] != ':') return std::nullopt;
    offset_ms = (static_cast<std::int64_t>(*oh) * 60 + *om) * 60 * 1000;
    if (text[i] == '-') offset_ms = -offset_ms;
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  std::tm utc{};
  utc.tm_year = *year - 1900;
  utc.tm_mon = *month - 1;
  utc.tm_mday = *day;
  utc.tm_hour = *hour;
  utc.tm_min = *minute;
  utc.tm_sec = *second;
  return static_cast<std::int64_t>(::timegm(&utc)) * 1000 + ms - offset_ms;
}

std::string LogLine::to_json() const {
  boost::json::object o;
  o["time"] = time_ms > 0 ? boost::json::value(orchestrator::format_log_time(time_ms))
                          : boost::json::value(nullptr);
  o["time_ms"] = time_ms;
  o["service"] = service;
  o["stream"] = stream;
  o["line"] = line;
  return core::to_json_string(o);
}

std::vector<LogLine> read_logs(const Context& context, const Project& project,
                               const LogQuery& query) {
  const auto dir = logs_dir(context, project);
  std::vector<LogLine> all;
  for (const auto& service : selected_services(dir, query)) {
    for (int k = kMaxRotated; k >= 1; --k) {
      const auto rotated = dir / (service + ".log." + std::to_string(k));
      std::error_code ec;
      if (std::filesystem::exists(rotated, ec)) read_file(rotated, service, all);
    }
    read_file(dir / (service + ".log"), service, all);
  }
  // Stable: lines of one file keep their order; lines without a time keep theirs within a file.
  std::stable_sort(all.begin(), all.end(),
                   [](const LogLine& a, const LogLine& b) { return a.time_ms < b.time_ms; });
  if (query.since_ms) {
    std::erase_if(all, [&](const LogLine& l) { return l.time_ms < *query.since_ms; });
  }
  if (query.tail && all.size() > *query.tail) {
    all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(*query.tail));
  }
  return all;
}

void follow_logs(const Context& context, const Project& project, const LogQuery& query,
                 const std::function<void(const LogLine&)>& on_line, std::stop_token stop) {
  const auto dir = logs_dir(context, project);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // History = the rotated files plus the live file read through its cursor from offset 0, so no
  // line written while we start is lost or shown twice.
  std::map<std::string, Cursor> cursors;
  auto add_cursor = [&](const std::string& service) {
    Cursor c;
    c.service = service;
    c.path = dir / (service + ".log");
    struct stat info {};
    if (::stat(c.path.c_str(), &info) == 0) c.inode = info.st_ino;
    cursors.emplace(service, std::move(c));
  };
  {
    std::vector<LogLine> lines;
    for (const auto& service : selected_services(dir, query)) {
      for (int k = kMaxRotated; k >= 1; --k) {
        const auto rotated = dir / (service + ".log." + std::to_string(k));
        std::error_code exists_ec;
        if (std::filesystem::exists(rotated, exists_ec)) read_file(rotated, service, lines);
      }
      add_cursor(service);
      poll_cursor(cursors[service], lines);
    }
    std::stable_sort(lines.begin(), lines.end(),
                     [](const LogLine& a, const LogLine& b) { return a.time_ms < b.time_ms; });
    if (query.since_ms) {
      std::erase_if(lines, [&](const LogLine& l) { return l.time_ms < *query.since_ms; });
    }
    if (query.tail && lines.size() > *query.tail) {
      lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(*query.tail));
    }
    for (const auto& line : lines) on_line(line);
  }
  while (!stop.stop_requested()) {
    std::this_thread::sleep_for(milliseconds(100));
    if (query.services.empty()) {
      for (const auto& service : selected_services(dir, LogQuery{})) {
        if (!cursors.contains(service)) add_cursor(service);  // new: all it wrote is new
      }
    }
    std::vector<LogLine> fresh;
    for (auto& [service, cursor] : cursors) poll_cursor(cursor, fresh);
    std::stable_sort(fresh.begin(), fresh.end(),
                     [](const LogLine& a, const LogLine& b) { return a.time_ms < b.time_ms; });
    for (const auto& line : fresh) {
      if (query.since_ms && line.time_ms < *query.since_ms) continue;
      on_line(line);
    }
  }
}

}  // namespace devx
