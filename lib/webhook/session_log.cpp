#include "webhook/session_log.hpp"

#include <devx/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "vm/ignition/encoding.hpp"

namespace devx::webhook {

namespace json = boost::json;

std::filesystem::path sessions_dir(const Context& context) { return context.home() / "webhooks"; }

void check_session_name(std::string_view session) {
  const bool ok = !session.empty() && session.size() <= 100 &&
                  session.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string_view::npos;
  if (!ok)
    throw Error(ErrorCode::invalid_argument,
                "'" + core::valid_utf8(session) + "' is not a webhook session name",
                "session names use letters, digits, '-' and '_' (at most 100)");
}

std::string new_session_name(const Context& context) {
  const std::time_t t = std::chrono::system_clock::to_time_t(context.clock().now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device random;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", random() & 0xffffu);
  return std::string(stamp) + "-" + suffix;
}

std::string rfc3339_ms(std::chrono::system_clock::time_point time) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char stamp[40];
  const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms % 1000));
  return stamp;
}

json::object make_record(const std::string& session, std::int64_t seq,
                         std::chrono::system_clock::time_point received,
                         const net::HttpServerRequest& request,
                         std::chrono::steady_clock::time_point answered) {
  json::array headers;
  for (const auto& [name, value] : request.headers)
    headers.push_back(
        json::array{json::string(core::valid_utf8(name)), json::string(core::valid_utf8(value))});
  const auto query_at = request.target.find('?');
  const std::string path = request.target.substr(0, query_at);
  const std::string query =
      query_at == std::string::npos ? std::string() : request.target.substr(query_at + 1);
  const bool text = core::valid_utf8(request.body) == request.body;
  const double duration_ms =
      std::chrono::duration<double, std::milli>(answered - request.started).count();
  return json::object{
      {"v", 1},
      {"id", session + "." + std::to_string(seq)},
      {"session", session},
      {"seq", seq},
      {"time", rfc3339_ms(received)},
      {"method", request.method},
      {"target", core::valid_utf8(request.target)},
      {"path", core::valid_utf8(path)},
      {"query", core::valid_utf8(query)},
      {"headers", std::move(headers)},
      {"body", text ? request.body : ignition::base64_encode(request.body)},
      {"body_encoding", text ? "utf8" : "base64"},
      {"body_size", request.body_size},
      {"truncated", request.truncated},
      {"remote", request.remote},
      {"duration_ms", static_cast<double>(static_cast<std::int64_t>(duration_ms * 1000)) / 1000},
  };
}

std::string record_body(const json::object& record) {
  const auto body = core::string_field(record, "body");
  if (core::string_field(record, "body_encoding") != "base64") return body;
  auto decoded = ignition::base64_decode(body);
  if (!decoded)
    throw Error(ErrorCode::invalid_argument,
                "request " + core::string_field(record, "id") + " has a body that is not base64",
                "the session file was edited; record the request again");
  return *decoded;
}

SessionLog::SessionLog(const Context& context, const std::string& session)
    : path_(sessions_dir(context) / (session + ".jsonl")) {
  std::error_code ec;
  const auto dir = path_.parent_path();
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(ErrorCode::io, "cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd_)
    throw Error(ErrorCode::io, "cannot open " + path_.string() + ": " + std::strerror(errno));
  ::fchmod(fd_.get(), 0600);  // an existing session file made by someone's umask
}

void SessionLog::append(const json::object& record) {
  const std::string line = core::to_json_string(record) + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_.get(), line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::io, "cannot write " + path_.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::vector<json::object> read_session(const Context& context, std::string_view session) {
  check_session_name(session);
  const auto path = sessions_dir(context) / (std::string(session) + ".jsonl");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(ErrorCode::not_found, "no webhook session '" + std::string(session) + "'",
                "`devx webhook list` shows the recorded sessions");
  std::vector<json::object> records;
  std::string line;
  while (std::getline(in, line)) {
    auto value = core::parse_json_or_null(line);
    if (auto* o = value.if_object()) records.push_back(std::move(*o));
  }
  return records;
}

}  // namespace devx::webhook
