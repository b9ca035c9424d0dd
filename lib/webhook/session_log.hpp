#pragma once
// The JSON Lines file of a webhook catch session (DEVX_HOME/webhooks/<session>.jsonl, 0600) and
// the record of one request in it (format in include/devx/webhook.hpp).
#include <devx/context.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "webhook/loopback_server.hpp"

namespace devx::webhook {

std::filesystem::path sessions_dir(const Context& context);
// Error(invalid_argument) unless `session` is [A-Za-z0-9_-] (dots separate the request number).
void check_session_name(std::string_view session);
// "<UTC yyyymmddThhmmssZ>-<4 hex>".
std::string new_session_name(const Context& context);
// "2026-11-28T22:40:12.345Z".
std::string rfc3339_ms(std::chrono::system_clock::time_point time);

// The record of one request (body as UTF-8 text when it is valid UTF-8, else base64).
boost::json::object make_record(const std::string& session, std::int64_t seq,
                                std::chrono::system_clock::time_point received,
                                const net::HttpServerRequest& request,
                                std::chrono::steady_clock::time_point answered);

// The request body a record holds (base64 decoded).
std::string record_body(const boost::json::object& record);

// Appends records, one line per write(2), to a file created 0600 in a 0700 directory.
class SessionLog {
 public:
  SessionLog(const Context& context, const std::string& session);
  const std::filesystem::path& path() const noexcept { return path_; }
  void append(const boost::json::object& record);

 private:
  std::filesystem::path path_;
  core::UniqueFd fd_;
};

// Every record of a session file (lines that are not JSON objects, such as a torn last line
// after a crash, are skipped). Error(not_found) when the session has no file.
std::vector<boost::json::object> read_session(const Context& context, std::string_view session);

}  // namespace devx::webhook
