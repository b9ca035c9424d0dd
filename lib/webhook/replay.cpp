// `devx webhook replay`: a recorded request sent again through the context's HTTP client.
#include <devx/error.hpp>
#include <devx/webhook.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cctype>

#include "core/json.hpp"
#include "core/utf8.hpp"
#include "vm/ignition/encoding.hpp"
#include "webhook/session_log.hpp"

namespace devx {
namespace {

namespace json = boost::json;

// RFC 9110 §7.6.1 connection-specific fields, plus what the client recomputes for the new target.
bool dropped_on_replay(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::array<std::string_view, 11> kDropped = {"connection",
                                                                "keep-alive",
                                                                "proxy-connection",
                                                                "proxy-authenticate",
                                                                "proxy-authorization",
                                                                "te",
                                                                "trailer",
                                                                "transfer-encoding",
                                                                "upgrade",
                                                                "host",
                                                                "content-length"};
  return std::find(kDropped.begin(), kDropped.end(), name) != kDropped.end();
}

// The newest session, by file modification time.
std::string newest_session(Context& context) {
  std::filesystem::path newest;
  std::filesystem::file_time_type newest_time{};
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(webhook::sessions_dir(context), ec)) {
    if (entry.path().extension() != ".jsonl") continue;
    const auto t = entry.last_write_time(ec);
    if (newest.empty() || t > newest_time) {
      newest = entry.path();
      newest_time = t;
    }
  }
  if (newest.empty())
    throw Error(ErrorCode::not_found, "no webhook session has been recorded",
                "run `devx webhook catch` first");
  return newest.stem().string();
}

json::object find_record(Context& context, std::string_view id) {
  const auto dot = id.rfind('.');
  const std::string seq_text(dot == std::string_view::npos ? id : id.substr(dot + 1));
  const bool numeric = !seq_text.empty() && seq_text.size() < 12 &&
                       std::all_of(seq_text.begin(), seq_text.end(),
                                   [](unsigned char c) { return std::isdigit(c); });
  if (!numeric)
    throw Error(ErrorCode::invalid_argument,
                "'" + core::valid_utf8(id) + "' is not a webhook request id",
                "ids are <session>.<n> (or <n> for the newest session), as `devx webhook list` "
                "shows");
  const std::string session =
      dot == std::string_view::npos ? newest_session(context) : std::string(id.substr(0, dot));
  const std::int64_t seq = std::stoll(seq_text);
  for (auto& record : webhook::read_session(context, session))
    if (record.contains("seq") && record.at("seq").is_int64() && record.at("seq").as_int64() == seq)
      return std::move(record);
  throw Error(ErrorCode::not_found,
              "no request " + std::to_string(seq) + " in webhook session '" + session + "'",
              "`devx webhook list " + session + "` shows its requests");
}

}  // namespace

std::string webhook_replay(Context& context, std::string_view id, std::string_view to_url) {
  if (!(to_url.starts_with("http://") || to_url.starts_with("https://")))
    throw Error(ErrorCode::invalid_argument,
                "'" + core::valid_utf8(to_url) + "' is not an http(s) URL",
                "pass --to http://127.0.0.1:<port>");
  const auto record = find_record(context, id);
  if (record.contains("truncated") && record.at("truncated").is_bool() &&
      record.at("truncated").as_bool())
    throw Error(ErrorCode::unsupported,
                "request " + core::string_field(record, "id") +
                    " was recorded with a truncated body and cannot be replayed faithfully",
                "raise the body limit of `devx webhook catch` and capture it again");

  HttpRequest request;
  request.method = core::string_field(record, "method");
  std::string base(to_url);
  while (base.ends_with('/')) base.pop_back();
  request.url = base + core::string_field(record, "target");
  if (const auto* headers = record.if_contains("headers"); headers && headers->is_array()) {
    for (const auto& h : headers->as_array()) {
      if (!h.is_array() || h.as_array().size() != 2 || !h.as_array()[0].is_string() ||
          !h.as_array()[1].is_string())
        continue;
      std::string name(h.as_array()[0].as_string());
      if (dropped_on_replay(name)) continue;
      request.headers.emplace_back(std::move(name), std::string(h.as_array()[1].as_string()));
    }
  }
  request.body = webhook::record_body(record);
  const json::object summary{{"method", request.method}, {"url", request.url}};

  if (context.dry_run()) {
    json::array actions;
    actions.push_back(json::object{{"kind", "http"},
                                   {"description", "replay " + core::string_field(record, "id")},
                                   {"method", request.method},
                                   {"url", request.url}});
    return core::to_json_string(json::object{{"v", 1},
                                             {"operation", "webhook.replay"},
                                             {"dry_run", true},
                                             {"id", core::string_field(record, "id")},
                                             {"actions", std::move(actions)}});
  }
  const auto response = context.http().send(request);
  json::array headers;
  for (const auto& [name, value] : response.headers)
    headers.push_back(json::array{json::string(name), json::string(core::valid_utf8(value))});
  const bool text = core::valid_utf8(response.body) == response.body;
  return core::to_json_string(json::object{
      {"v", 1},
      {"id", core::string_field(record, "id")},
      {"request", summary},
      {"response",
       json::object{{"status", response.status},
                    {"headers", std::move(headers)},
                    {"body", text ? response.body : ignition::base64_encode(response.body)},
                    {"body_encoding", text ? "utf8" : "base64"}}}});
}

}  // namespace devx
