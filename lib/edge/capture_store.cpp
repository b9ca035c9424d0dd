// The inspector's captures on disk: writing exchanges as they finish, listing, reading, replaying
// and removing them.
#include <devx/edge.hpp>
#include <devx/error.hpp>
#include <devx/http.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "core/unique_fd.hpp"
#include "core/utf8.hpp"
#include "edge/edge_internal.hpp"
#include "vm/ignition/encoding.hpp"

namespace devx {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLog = "exchanges.jsonl";
constexpr std::string_view kSessionFile = "session.json";
constexpr std::size_t kReplayBodyLimit = 1024 * 1024;
// Bodies up to this size stay in the exchange's line: a file per small body costs more than the
// rest of the exchange.
constexpr std::size_t kInlineBody = 4096;

std::string rfc3339_ms(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::array<char, 40> text{};
  const auto n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &utc);
  std::array<char, 8> millis{};
  std::snprintf(millis.data(), millis.size(), ".%03dZ", static_cast<int>(unix_ms % 1000));
  return std::string(text.data(), n) + millis.data();
}

core::UniqueFd open_private(const fs::path& path, int flags) {
  core::UniqueFd fd(::open(path.c_str(), flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    throw Error(ErrorCode::io, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  ::fchmod(fd.get(), 0600);
  return fd;
}

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::io, "cannot write " + path.string() + ": " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::io, "cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Header bytes as the peers sent them may be any octets (obs-text): a record must stay valid
// UTF-8 JSON, or its line would not read back and the exchange would vanish from the session.
boost::json::array headers_json(const edge::HeaderList& headers) {
  boost::json::array out;
  for (const auto& [name, value] : headers)
    out.push_back(boost::json::array{core::valid_utf8(name), core::valid_utf8(value)});
  return out;
}

boost::json::object summary_of(const boost::json::object& record) {
  boost::json::object summary;
  for (const char* key : {"id", "time", "method", "url", "host", "status", "duration_ms"}) {
    if (const auto* v = record.if_contains(key)) summary[key] = *v;
  }
  auto bytes = [&](const char* side) -> std::int64_t {
    const auto* message = record.if_contains(side);
    return message != nullptr && message->is_object()
               ? core::int_field(message->as_object(), "body_bytes")
               : 0;
  };
  summary["request_bytes"] = bytes("request");
  summary["response_bytes"] = bytes("response");
  const auto* ws = record.if_contains("websocket");
  summary["websocket"] = ws != nullptr && ws->is_bool() && ws->as_bool();
  if (const auto* error = record.if_contains("error")) summary["error"] = *error;
  return summary;
}

fs::path inspect_root(Context& context) { return context.home() / "inspect"; }

// Body text for JSON: as is when it is UTF-8, else base64.
void put_body(boost::json::object& out, const std::string& body) {
  if (core::valid_utf8(body) == body) {
    out["body"] = body;
    out["body_encoding"] = "utf-8";
  } else {
    out["body"] = ignition::base64_encode(body);
    out["body_encoding"] = "base64";
  }
}

struct SessionInfo {
  std::string name;
  fs::path dir;
  std::string created;
  std::int64_t target_port = 0;
};

std::vector<SessionInfo> sessions_newest_first(Context& context) {
  std::vector<SessionInfo> sessions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(inspect_root(context), ec)) {
    if (!entry.is_directory()) continue;
    SessionInfo info{entry.path().filename().string(), entry.path(), {}, 0};
    const auto meta = core::parse_json_or_null(
        fs::exists(entry.path() / kSessionFile) ? read_file(entry.path() / kSessionFile) : "");
    if (!meta.is_object()) continue;  // not a session written by devx
    info.created = core::string_field(meta.as_object(), "created");
    info.target_port = core::int_field(meta.as_object(), "target_port");
    sessions.push_back(std::move(info));
  }
  std::sort(sessions.begin(), sessions.end(), [](const SessionInfo& a, const SessionInfo& b) {
    return a.created != b.created ? a.created > b.created : a.name > b.name;
  });
  return sessions;
}

SessionInfo find_session(Context& context, std::string_view session) {
  const auto sessions = sessions_newest_first(context);
  if (session.empty()) {
    if (sessions.empty()) {
      throw Error(ErrorCode::not_found,
                  "no inspector sessions in " + inspect_root(context).string(),
                  "start one with `devx tunnel inspect <port>`");
    }
    return sessions.front();
  }
  edge::validate_session_name(session);
  for (const auto& info : sessions) {
    if (info.name == session) return info;
  }
  boost::json::array names;
  for (const auto& info : sessions) names.emplace_back(info.name);
  boost::json::object details;
  details["session"] = session;
  details["sessions"] = names;
  throw Error(ErrorCode::not_found, "no inspector session \"" + std::string(session) + "\"",
              "list them with `devx tunnel inspect --list`", core::to_json_string(details));
}

std::vector<boost::json::object> read_records(const SessionInfo& info) {
  std::vector<boost::json::object> records;
  std::ifstream in(info.dir / kLog);
  std::string line;
  while (std::getline(in, line)) {
    // A line cut short by a crash is skipped; every complete line is a whole record.
    const auto value = core::parse_json_or_null(line);
    if (value.is_object()) records.push_back(value.as_object());
  }
  return records;
}

boost::json::object find_record(const SessionInfo& info, std::string_view id) {
  for (auto& record : read_records(info)) {
    if (core::string_field(record, "id") == id) return record;
  }
  throw Error(ErrorCode::not_found,
              "no exchange \"" + std::string(id) + "\" in inspector session " + info.name,
              "list them with `devx tunnel inspect --list`");
}

std::string body_of(const SessionInfo& info, const boost::json::object& message) {
  const std::string file = core::string_field(message, "body_file");
  if (!file.empty()) return read_file(info.dir / file);
  const std::string inline_body = core::string_field(message, "body");
  if (core::string_field(message, "body_encoding") != "base64") return inline_body;
  return ignition::base64_decode(inline_body).value_or(std::string());
}

}  // namespace

namespace edge {

CaptureWriter::CaptureWriter(fs::path dir, std::string session, int target_port,
                             std::size_t body_limit)
    : dir_(std::move(dir)),
      session_(std::move(session)),
      target_port_(target_port),
      body_limit_(body_limit) {
  make_private_dir(dir_ / "bodies");
  ::chmod(dir_.c_str(), 0700);
  if (!fs::exists(dir_ / kSessionFile)) {
    boost::json::object meta;
    meta["v"] = 1;
    meta["session"] = session_;
    meta["target_port"] = target_port_;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    meta["created"] = rfc3339_ms(now);
    const auto fd = open_private(dir_ / kSessionFile, O_WRONLY | O_TRUNC);
    write_all(fd.get(), core::to_json_string(meta) + "\n", dir_ / kSessionFile);
  }
  // A reused session continues its numbering.
  std::ifstream in(dir_ / kLog);
  std::string line;
  while (std::getline(in, line)) ++next_;
  log_ = open_private(dir_ / kLog, O_WRONLY | O_APPEND);
}

std::string CaptureWriter::next_id() {
  std::lock_guard lock(mutex_);
  return std::to_string(next_++);
}

boost::json::object CaptureWriter::record(const Exchange& exchange) {
  auto message_json = [&](const CapturedMessage& message, std::string_view side) {
    boost::json::object out;
    out["headers"] = headers_json(message.headers);
    out["body_bytes"] = message.body_bytes;
    out["body_truncated"] = message.body_truncated;
    if (!message.body.empty() && message.body.size() <= kInlineBody) {
      put_body(out, message.body);
    } else if (!message.body.empty()) {
      const std::string file = "bodies/" + exchange.id + "." + std::string(side);
      const auto fd = open_private(dir_ / file, O_WRONLY | O_TRUNC);
      write_all(fd.get(), message.body, dir_ / file);
      out["body_file"] = file;
    }
    return out;
  };
  boost::json::object record;
  record["v"] = 1;
  record["id"] = exchange.id;
  record["time"] = rfc3339_ms(exchange.started_ms);
  record["method"] = core::valid_utf8(exchange.method);
  record["url"] = core::valid_utf8(exchange.url);
  record["host"] = core::valid_utf8(exchange.host);
  record["http_version"] = exchange.http_version;
  record["status"] = exchange.status;
  record["reason"] = core::valid_utf8(exchange.reason);
  record["ttfb_ms"] = exchange.ttfb_ms;
  record["duration_ms"] = exchange.duration_ms;
  record["websocket"] = exchange.websocket;
  record["target_port"] = target_port_;
  if (!exchange.error.empty()) record["error"] = core::valid_utf8(exchange.error);
  record["request"] = message_json(exchange.request, "request");
  record["response"] = message_json(exchange.response, "response");

  const std::string line = core::to_json_string(record) + "\n";
  {
    std::lock_guard lock(mutex_);
    // Whole lines appended under the lock: readers never see two records interleaved.
    write_all(log_.get(), line, dir_ / kLog);
  }
  return summary_of(record);
}

}  // namespace edge

std::string list_inspect_sessions(Context& context) {
  boost::json::array out;
  for (const auto& info : sessions_newest_first(context)) {
    const auto records = read_records(info);
    boost::json::object entry;
    entry["session"] = info.name;
    entry["dir"] = info.dir.string();
    entry["exchanges"] = records.size();
    entry["first"] = records.empty() ? std::string() : core::string_field(records.front(), "time");
    entry["last"] = records.empty() ? std::string() : core::string_field(records.back(), "time");
    entry["target_port"] = info.target_port;
    out.push_back(std::move(entry));
  }
  boost::json::object result;
  result["v"] = 1;
  result["sessions"] = std::move(out);
  return core::to_json_string(result);
}

std::string list_captures(Context& context, std::string_view session) {
  const auto info = find_session(context, session);
  boost::json::array exchanges;
  for (const auto& record : read_records(info)) exchanges.push_back(summary_of(record));
  boost::json::object result;
  result["v"] = 1;
  result["session"] = info.name;
  result["exchanges"] = std::move(exchanges);
  return core::to_json_string(result);
}

std::string get_capture(Context& context, std::string_view session, std::string_view id) {
  const auto info = find_session(context, session);
  const auto record = find_record(info, id);
  boost::json::object result = summary_of(record);
  result["v"] = 1;
  result["session"] = info.name;
  result["target_port"] = core::int_field(record, "target_port");
  for (const char* side : {"request", "response"}) {
    const auto* stored = record.if_contains(side);
    if (stored == nullptr || !stored->is_object()) continue;
    boost::json::object message;
    message["headers"] = stored->as_object().contains("headers") ? stored->as_object().at("headers")
                                                                 : boost::json::array();
    put_body(message, body_of(info, stored->as_object()));
    message["body_bytes"] = core::int_field(stored->as_object(), "body_bytes");
    const auto* truncated = stored->as_object().if_contains("body_truncated");
    message["body_truncated"] =
        truncated != nullptr && truncated->is_bool() && truncated->as_bool();
    if (std::string_view(side) == "response") {
      message["status"] = core::int_field(record, "status");
      message["reason"] = core::string_field(record, "reason");
    }
    result[side] = std::move(message);
  }
  boost::json::object timing;
  timing["started"] = core::string_field(record, "time");
  timing["ttfb_ms"] = record.contains("ttfb_ms") ? record.at("ttfb_ms") : boost::json::value(0);
  timing["duration_ms"] =
      record.contains("duration_ms") ? record.at("duration_ms") : boost::json::value(0);
  result["timing"] = std::move(timing);
  return core::to_json_string(result);
}

std::string replay_capture(Context& context, std::string_view session, std::string_view id,
                           const ReplayOptions& options) {
  const auto info = find_session(context, session);
  const auto record = find_record(info, id);
  const int port = options.target_port != 0
                       ? options.target_port
                       : static_cast<int>(core::int_field(record, "target_port"));
  if (port < 1 || port > 65535) {
    throw Error(ErrorCode::invalid_argument,
                "replay target port " + std::to_string(port) + " is not a TCP port", "use 1-65535");
  }
  const auto& request = record.at("request").as_object();
  const auto* truncated = request.if_contains("body_truncated");
  if (truncated != nullptr && truncated->is_bool() && truncated->as_bool()) {
    throw Error(ErrorCode::unsupported,
                "exchange " + std::string(id) +
                    " cannot be replayed: its request body was recorded "
                    "truncated (" +
                    std::to_string(core::int_field(request, "body_bytes")) + " bytes)",
                "record it again with a larger inspector body limit");
  }
  HttpRequest out;
  out.method = core::string_field(record, "method");
  out.url = "http://127.0.0.1:" + std::to_string(port) + core::string_field(record, "url");
  out.timeout = options.timeout;
  if (const auto* headers = request.if_contains("headers");
      headers != nullptr && headers->is_array()) {
    for (const auto& pair : headers->as_array()) {
      if (!pair.is_array() || pair.as_array().size() != 2) continue;
      std::string name(pair.as_array()[0].as_string());
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      // Framing is the client's business (the body is sent whole); Expect would stall it.
      if (edge::is_hop_by_hop(lower) || lower == "content-length" || lower == "transfer-encoding" ||
          lower == "expect") {
        continue;
      }
      out.headers.emplace_back(std::move(name), std::string(pair.as_array()[1].as_string()));
    }
  }
  boost::json::object result;
  result["v"] = 1;
  result["session"] = info.name;
  result["id"] = id;
  boost::json::object summary;
  summary["method"] = out.method;
  summary["url"] = out.url;
  result["request"] = summary;
  if (context.dry_run()) {
    boost::json::object action;
    action["kind"] = "http";
    action["description"] = "replay exchange " + std::string(id) + " of " + info.name;
    action["method"] = out.method;
    action["url"] = out.url;
    result["dry_run"] = true;
    result["actions"] = boost::json::array{action};
    return core::to_json_string(result);
  }
  out.body = body_of(info, request);
  const auto started = context.clock().steady_now();
  const HttpResponse response = context.http().send(out);
  const auto elapsed = context.clock().steady_now() - started;

  boost::json::object message;
  message["status"] = response.status;
  message["headers"] = headers_json(response.headers);
  const bool cut = response.body.size() > kReplayBodyLimit;
  put_body(message, cut ? response.body.substr(0, kReplayBodyLimit) : response.body);
  message["body_bytes"] = response.body.size();
  message["body_truncated"] = cut;
  result["response"] = std::move(message);
  result["duration_ms"] = std::chrono::duration<double, std::milli>(elapsed).count();
  result["dry_run"] = false;
  return core::to_json_string(result);
}

std::string remove_inspect_session(Context& context, std::string_view session) {
  edge::validate_session_name(session);
  const auto info = find_session(context, session);
  boost::json::object result;
  result["v"] = 1;
  result["session"] = info.name;
  result["dry_run"] = context.dry_run();
  if (context.dry_run()) {
    boost::json::object action;
    action["kind"] = "file";
    action["description"] = "remove the captures of inspector session " + info.name;
    action["path"] = info.dir.string();
    result["actions"] = boost::json::array{action};
    result["removed"] = false;
    return core::to_json_string(result);
  }
  std::error_code ec;
  fs::remove_all(info.dir, ec);
  if (ec) throw Error(ErrorCode::io, "cannot remove " + info.dir.string() + ": " + ec.message());
  result["removed"] = true;
  return core::to_json_string(result);
}

}  // namespace devx
