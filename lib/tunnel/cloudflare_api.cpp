#include "tunnel/cloudflare_api.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <random>

#include "core/json.hpp"
#include "orchestrator/environment.hpp"

namespace devx::tunnel {
namespace {

namespace json = boost::json;

constexpr int max_attempts = 4;  // the first request and at most 3 retries

std::string env_value(Context& context, const char* name) {
  const auto& env = context.env();
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string field(const json::object& o, std::string_view key) {
  return core::string_field(o, key);
}

Zone zone_from(const json::object& o) {
  Zone z{field(o, "id"), field(o, "name"), field(o, "status"), {}};
  if (auto* account = o.if_contains("account"); account && account->is_object())
    z.account_id = field(account->as_object(), "id");
  return z;
}

DnsRecord record_from(const json::object& o) {
  DnsRecord r;
  r.id = field(o, "id");
  r.type = field(o, "type");
  r.name = field(o, "name");
  r.content = field(o, "content");
  if (auto* p = o.if_contains("proxied"); p && p->is_bool()) r.proxied = p->as_bool();
  r.ttl = static_cast<int>(core::int_field(o, "ttl"));
  r.comment = field(o, "comment");
  return r;
}

CloudflareTunnel tunnel_from(const json::object& o) {
  return {field(o, "id"), field(o, "name"), field(o, "status"), field(o, "created_at")};
}

json::object record_body(const DnsRecord& record) {
  json::object body{{"type", record.type},
                    {"name", record.name},
                    {"content", record.content},
                    {"proxied", record.proxied},
                    {"ttl", record.ttl}};
  if (!record.comment.empty()) body["comment"] = record.comment;
  return body;
}

// The error code a Cloudflare failure maps to: credentials, conflicts and missing objects get
// their own codes so callers (and the CLI's exit status) can tell them apart.
ErrorCode classify(long status, const std::vector<std::pair<int, std::string>>& errors) {
  for (const auto& [code, message] : errors) {
    if (code == 10000 || code == 9109 || code == 6003 || code == 6111 || code == 1000)
      return ErrorCode::permission_denied;
    if (code == 81053 || code == 81057 || code == 81058 || code == 1013) return ErrorCode::conflict;
    if (code == 7003 || code == 7000 || code == 81044) return ErrorCode::not_found;
  }
  if (status == 401 || status == 403) return ErrorCode::permission_denied;
  if (status == 409) return ErrorCode::conflict;
  if (status == 404) return ErrorCode::not_found;
  return ErrorCode::http;
}

std::string hint_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::permission_denied:
      return "check CLOUDFLARE_API_TOKEN: it needs Account › Cloudflare Tunnel › Edit and "
             "Zone › DNS › Edit on the zone";
    case ErrorCode::conflict:
      return "the name is taken in Cloudflare; pick another --name or remove the existing record";
    default:
      return {};
  }
}

}  // namespace

std::string url_encode(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

std::string tunnel_cname_target(std::string_view tunnel_id) {
  return std::string(tunnel_id) + ".cfargotunnel.com";
}

ResolvedCloudflare resolve_cloudflare(Context& context, const CloudflareSettings& settings) {
  ResolvedCloudflare out;
  out.api_url = settings.api_url;
  if (out.api_url.empty()) out.api_url = env_value(context, "DEVX_CLOUDFLARE_API_URL");
  if (out.api_url.empty()) out.api_url = std::string(default_api_url);
  while (!out.api_url.empty() && out.api_url.back() == '/') out.api_url.pop_back();
  out.api_token = settings.api_token;
  for (const char* name : {"CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"}) {
    if (out.api_token.empty()) out.api_token = env_value(context, name);
  }
  if (out.api_token.empty() && !settings.env_sources.empty()) {
    orchestrator::EnvMap base(context.env().begin(), context.env().end());
    for (const auto& uri : settings.env_sources) {
      const auto values = orchestrator::read_env_source(context, uri, base);
      for (const char* name : {"CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"}) {
        auto it = values.find(name);
        if (out.api_token.empty() && it != values.end()) out.api_token = it->second;
      }
      if (out.api_token.empty()) continue;
      if (auto it = values.find("CLOUDFLARE_ACCOUNT_ID"); it != values.end())
        out.account_id = it->second;
      break;
    }
  }
  if (!settings.account_id.empty()) out.account_id = settings.account_id;
  if (out.account_id.empty()) out.account_id = env_value(context, "CLOUDFLARE_ACCOUNT_ID");
  out.cloudflared = settings.cloudflared.empty() ? "cloudflared" : settings.cloudflared;
  return out;
}

std::chrono::milliseconds cloudflare_retry_delay(int retry, std::string_view retry_after,
                                                 double jitter) {
  using namespace std::chrono;
  constexpr milliseconds cap = 30s;
  if (!retry_after.empty() && std::all_of(retry_after.begin(), retry_after.end(),
                                          [](char c) { return c >= '0' && c <= '9'; })) {
    if (retry_after.size() > 4) return cap;  // anything that long is over the cap
    return std::min<milliseconds>(seconds(std::stoi(std::string(retry_after))), cap);
  }
  const milliseconds base = seconds(1) * (1 << std::clamp(retry - 1, 0, 4));
  const auto spread = duration_cast<milliseconds>(base * std::clamp(jitter, 0.0, 1.0) / 4);
  return std::min<milliseconds>(base + spread, cap);
}

CloudflareApi::CloudflareApi(Context& context, ResolvedCloudflare settings)
    : context_(context), settings_(std::move(settings)) {}

void CloudflareApi::set_recorder(std::function<void(const ApiCall&)> recorder, bool dry_run) {
  recorder_ = std::move(recorder);
  dry_run_ = dry_run;
}

void CloudflareApi::wait_before_retry(int retry, const std::string& retry_after,
                                      std::string_view what) {
  thread_local std::minstd_rand random{std::random_device{}()};
  const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  const auto delay = cloudflare_retry_delay(retry, retry_after, jitter);
  const std::string message = "Cloudflare API " + std::string(what) + "; retry " +
                              std::to_string(retry) + " of " + std::to_string(max_attempts - 1) +
                              " in " + std::to_string(delay.count()) + " ms";
  if (scope_) {
    Event event;
    event.type = EventType::warning;
    event.level = LogLevel::warn;
    event.source = "cloudflare";
    event.message = message;
    event.data_json =
        core::to_json_string(json::object{{"retry", retry}, {"delay_ms", delay.count()}});
    scope_->emit(std::move(event));
  } else {
    context_.log(LogLevel::warn, "cloudflare", message);
  }
  if (!context_.clock().sleep_for(delay, stop_)) {
    throw Error(ErrorCode::cancelled,
                "cancelled while waiting to retry the Cloudflare API (" + std::string(what) + ")");
  }
}

std::string CloudflareApi::send(std::string_view method, const std::string& path,
                                const std::string& body, std::string_view description,
                                std::string* result_info) {
  const std::string url = settings_.api_url + path;
  const bool mutating = method != "GET";
  if (recorder_ && (mutating || dry_run_))
    recorder_(ApiCall{std::string(description), std::string(method), url});
  if (dry_run_) return {};
  if (settings_.api_token.empty()) {
    throw Error(ErrorCode::invalid_argument, "no Cloudflare API token",
                "set CLOUDFLARE_API_TOKEN (or CF_API_TOKEN) in the environment or an env source");
  }
  HttpRequest request;
  request.method = std::string(method);
  request.url = url;
  request.headers = {{"Authorization", "Bearer " + settings_.api_token},
                     {"Accept", "application/json"}};
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
  }
  // Only idempotent requests are sent again after a failure Cloudflare may have half-processed.
  const bool idempotent = method == "GET" || method == "PUT" || method == "DELETE";
  HttpResponse response;
  int attempt = 1;
  for (;; ++attempt) {
    try {
      response = context_.http().send(request);
    } catch (const Error& e) {
      const bool transport = e.code() == ErrorCode::http || e.code() == ErrorCode::timeout;
      if (transport && idempotent && attempt < max_attempts) {
        wait_before_retry(attempt, {}, std::string(description) + ": " + e.message());
        continue;
      }
      if (attempt == 1) throw;
      json::value details = core::parse_json_or_null(e.details_json());
      if (!details.is_object()) details = json::object{};
      details.as_object()["attempts"] = attempt;
      throw Error(e.code(), e.message(), e.hint(), core::to_json_string(details));
    }
    const bool retryable = response.status == 429 ||
                           (idempotent && (response.status == 502 || response.status == 503 ||
                                           response.status == 504));
    if (!retryable || attempt >= max_attempts) break;
    wait_before_retry(attempt, response.header("retry-after"),
                      std::string(description) + ": HTTP " + std::to_string(response.status));
  }

  json::object details{
      {"status", response.status}, {"method", method}, {"url", url}, {"attempts", attempt}};
  const json::value parsed = core::parse_json_or_null(response.body);
  if (!parsed.is_object()) {
    std::string excerpt = response.body.substr(0, 200);
    details["body"] = excerpt;
    throw Error(ErrorCode::http,
                "Cloudflare API " + std::string(method) + " " + path + " returned HTTP " +
                    std::to_string(response.status) + " with a body that is not JSON",
                response.status >= 500 ? "Cloudflare's side failed; try again in a moment" : "",
                core::to_json_string(details));
  }
  const auto& envelope = parsed.as_object();
  const auto* success = envelope.if_contains("success");
  const bool ok = success && success->is_bool() && success->as_bool() && response.status < 400;
  if (!ok) {
    std::vector<std::pair<int, std::string>> errors;
    json::array listed;
    if (auto* e = envelope.if_contains("errors"); e && e->is_array()) {
      for (const auto& item : e->as_array()) {
        if (!item.is_object()) continue;
        const int code = static_cast<int>(core::int_field(item.as_object(), "code"));
        std::string message = field(item.as_object(), "message");
        listed.push_back(json::object{{"code", code}, {"message", message}});
        errors.emplace_back(code, std::move(message));
      }
    }
    details["cloudflare_errors"] = listed;
    const ErrorCode code = classify(response.status, errors);
    std::string message = "Cloudflare API " + std::string(description) + " failed (HTTP " +
                          std::to_string(response.status) + ")";
    if (!errors.empty())
      message +=
          ": " + errors.front().second + " (code " + std::to_string(errors.front().first) + ")";
    std::string hint = hint_for(code);
    if (response.status == 429)
      hint = "Cloudflare allows 1200 API requests per 5 minutes per user; wait a few minutes";
    throw Error(code, message, hint, core::to_json_string(details));
  }
  if (result_info) {
    const auto* info = envelope.if_contains("result_info");
    *result_info = info ? core::to_json_string(*info) : std::string();
  }
  const auto* result = envelope.if_contains("result");
  return result ? core::to_json_string(*result) : "null";
}

std::vector<std::string> CloudflareApi::list_all(
    const std::string& path, std::vector<std::pair<std::string, std::string>> query) {
  std::vector<std::string> items;
  for (int page = 1;; ++page) {
    std::string url = path + "?";
    for (const auto& [k, v] : query) url += url_encode(k) + "=" + url_encode(v) + "&";
    url += "page=" + std::to_string(page) + "&per_page=50";
    std::string info_text;
    const std::string result = send("GET", url, {}, "list " + path, &info_text);
    if (dry_run_) return items;
    const json::value parsed = core::parse_json_or_null(result);
    if (!parsed.is_array()) break;
    for (const auto& item : parsed.as_array()) items.push_back(core::to_json_string(item));
    const json::value info = core::parse_json_or_null(info_text);
    if (!info.is_object() || parsed.as_array().empty()) break;
    const auto total_pages = core::int_field(info.as_object(), "total_pages");
    if (page >= total_pages || page >= 10000) break;
  }
  return items;
}

const std::string& CloudflareApi::account_id() {
  if (!settings_.account_id.empty()) return settings_.account_id;
  if (dry_run_) {
    settings_.account_id = "ACCOUNT_ID";
    return settings_.account_id;
  }
  std::vector<std::string> ids;
  json::array seen;
  for (const auto& text : list_all("/accounts", {})) {
    const auto o = core::parse_json_object_or_throw(text, "Cloudflare account");
    ids.push_back(field(o, "id"));
    seen.push_back(json::object{{"id", field(o, "id")}, {"name", field(o, "name")}});
  }
  if (ids.size() != 1) {
    throw Error(ErrorCode::invalid_argument,
                ids.empty()
                    ? "the Cloudflare API token sees no account"
                    : "the Cloudflare API token sees " + std::to_string(ids.size()) + " accounts",
                "set CLOUDFLARE_ACCOUNT_ID to the account that holds the tunnels",
                core::to_json_string(json::object{{"accounts", seen}}));
  }
  settings_.account_id = ids.front();
  return settings_.account_id;
}

std::vector<Zone> CloudflareApi::list_zones(std::string_view name) {
  std::vector<std::pair<std::string, std::string>> query;
  if (!name.empty()) query.emplace_back("name", std::string(name));
  std::vector<Zone> zones;
  for (const auto& text : list_all("/zones", std::move(query)))
    zones.push_back(zone_from(core::parse_json_object_or_throw(text, "Cloudflare zone")));
  return zones;
}

Zone CloudflareApi::zone_by_name(std::string_view name) {
  if (dry_run_) {
    list_zones(name);
    return Zone{"ZONE_ID", std::string(name), "active", {}};
  }
  auto zones = list_zones(name);
  if (zones.empty()) {
    throw Error(ErrorCode::not_found,
                "zone '" + std::string(name) + "' is not in the Cloudflare account",
                "name a zone the API token can see (the domain you added to Cloudflare)");
  }
  return zones.front();
}

Zone CloudflareApi::zone_for_hostname(std::string_view hostname) {
  std::string_view rest = hostname;
  while (true) {
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) break;  // a single label is never a zone
    if (dry_run_) return zone_by_name(rest);
    auto zones = list_zones(rest);
    if (!zones.empty()) return zones.front();
    rest.remove_prefix(dot + 1);
  }
  throw Error(ErrorCode::not_found,
              "no zone of the Cloudflare account contains '" + std::string(hostname) + "'",
              "pass --zone, or use a hostname inside one of your zones");
}

std::vector<DnsRecord> CloudflareApi::list_dns_records(std::string_view zone_id,
                                                       std::string_view type,
                                                       std::string_view name) {
  std::vector<std::pair<std::string, std::string>> query;
  if (!type.empty()) query.emplace_back("type", std::string(type));
  if (!name.empty()) query.emplace_back("name", std::string(name));
  std::vector<DnsRecord> records;
  for (const auto& text :
       list_all("/zones/" + url_encode(zone_id) + "/dns_records", std::move(query)))
    records.push_back(record_from(core::parse_json_object_or_throw(text, "DNS record")));
  return records;
}

DnsRecord CloudflareApi::create_dns_record(std::string_view zone_id, const DnsRecord& record) {
  const auto result =
      send("POST", "/zones/" + url_encode(zone_id) + "/dns_records",
           core::to_json_string(record_body(record)), "create DNS record " + record.name);
  if (dry_run_)
    return DnsRecord{"DNS_RECORD_ID", record.type, record.name,   record.content,
                     record.proxied,  record.ttl,  record.comment};
  return record_from(core::parse_json_object_or_throw(result, "DNS record"));
}

DnsRecord CloudflareApi::update_dns_record(std::string_view zone_id, std::string_view record_id,
                                           const DnsRecord& record) {
  const auto result =
      send("PUT", "/zones/" + url_encode(zone_id) + "/dns_records/" + url_encode(record_id),
           core::to_json_string(record_body(record)), "update DNS record " + record.name);
  if (dry_run_) {
    DnsRecord planned = record;
    planned.id = std::string(record_id);
    return planned;
  }
  return record_from(core::parse_json_object_or_throw(result, "DNS record"));
}

void CloudflareApi::delete_dns_record(std::string_view zone_id, std::string_view record_id) {
  send("DELETE", "/zones/" + url_encode(zone_id) + "/dns_records/" + url_encode(record_id), {},
       "delete DNS record " + std::string(record_id));
}

DnsRecord CloudflareApi::upsert_dns_record(std::string_view zone_id, const DnsRecord& record) {
  const auto existing = list_dns_records(zone_id, {}, record.name);
  const DnsRecord* same_type = nullptr;
  json::array others;
  for (const auto& r : existing) {
    if (r.type == record.type && !same_type) {
      same_type = &r;
    } else if (r.type == "A" || r.type == "AAAA" || r.type == "CNAME" || record.type == "CNAME") {
      others.push_back(json::object{{"id", r.id}, {"type", r.type}, {"content", r.content}});
    }
  }
  if (!others.empty()) {
    throw Error(ErrorCode::conflict,
                "'" + record.name + "' already has DNS records that a " + record.type +
                    " cannot sit next to",
                "remove them in the Cloudflare dashboard, or pick another name",
                core::to_json_string(json::object{{"records", others}}));
  }
  if (same_type) return update_dns_record(zone_id, same_type->id, record);
  return create_dns_record(zone_id, record);
}

std::vector<CloudflareTunnel> CloudflareApi::list_tunnels(std::string_view name) {
  std::vector<std::pair<std::string, std::string>> query{{"is_deleted", "false"}};
  if (!name.empty()) query.emplace_back("name", std::string(name));
  std::vector<CloudflareTunnel> tunnels;
  for (const auto& text :
       list_all("/accounts/" + url_encode(account_id()) + "/cfd_tunnel", std::move(query)))
    tunnels.push_back(tunnel_from(core::parse_json_object_or_throw(text, "tunnel")));
  return tunnels;
}

std::optional<CloudflareTunnel> CloudflareApi::get_tunnel(std::string_view tunnel_id) {
  try {
    const auto result = send(
        "GET", "/accounts/" + url_encode(account_id()) + "/cfd_tunnel/" + url_encode(tunnel_id), {},
        "get tunnel");
    if (dry_run_) return CloudflareTunnel{std::string(tunnel_id), {}, "inactive", {}};
    auto tunnel = tunnel_from(core::parse_json_object_or_throw(result, "tunnel"));
    const auto parsed = core::parse_json_object_or_throw(result, "tunnel");
    if (auto* deleted = parsed.if_contains("deleted_at"); deleted && deleted->is_string())
      return std::nullopt;
    return tunnel;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return std::nullopt;
    throw;
  }
}

CloudflareTunnel CloudflareApi::create_tunnel(std::string_view name) {
  const json::object body{{"name", name}, {"config_src", "cloudflare"}};
  const auto result = send("POST", "/accounts/" + url_encode(account_id()) + "/cfd_tunnel",
                           core::to_json_string(body), "create tunnel " + std::string(name));
  if (dry_run_) return CloudflareTunnel{"TUNNEL_ID", std::string(name), "inactive", {}};
  return tunnel_from(core::parse_json_object_or_throw(result, "tunnel"));
}

std::string CloudflareApi::tunnel_token(std::string_view tunnel_id) {
  const auto result = send(
      "GET",
      "/accounts/" + url_encode(account_id()) + "/cfd_tunnel/" + url_encode(tunnel_id) + "/token",
      {}, "get the connector token");
  if (dry_run_) return {};
  const json::value parsed = core::parse_json_or_null(result);
  if (!parsed.is_string()) throw Error(ErrorCode::http, "Cloudflare API returned no tunnel token");
  return std::string(parsed.as_string());
}

void CloudflareApi::delete_tunnel(std::string_view tunnel_id) {
  send("DELETE",
       "/accounts/" + url_encode(account_id()) + "/cfd_tunnel/" + url_encode(tunnel_id) +
           "?cascade=true",
       {}, "delete tunnel " + std::string(tunnel_id));
}

std::vector<IngressRule> CloudflareApi::get_ingress(std::string_view tunnel_id) {
  const auto result = send("GET",
                           "/accounts/" + url_encode(account_id()) + "/cfd_tunnel/" +
                               url_encode(tunnel_id) + "/configurations",
                           {}, "read the tunnel's ingress");
  std::vector<IngressRule> rules;
  const json::value parsed = core::parse_json_or_null(result);
  if (!parsed.is_object()) return rules;
  const auto* config = parsed.as_object().if_contains("config");
  if (!config || !config->is_object()) return rules;
  const auto* ingress = config->as_object().if_contains("ingress");
  if (!ingress || !ingress->is_array()) return rules;
  for (const auto& rule : ingress->as_array()) {
    if (!rule.is_object()) continue;
    rules.push_back({field(rule.as_object(), "hostname"), field(rule.as_object(), "service")});
  }
  return rules;
}

void CloudflareApi::put_ingress(std::string_view tunnel_id, std::vector<IngressRule> rules) {
  if (rules.empty() || !rules.back().hostname.empty()) rules.push_back({"", "http_status:404"});
  json::array ingress;
  for (const auto& rule : rules) {
    json::object o;
    if (!rule.hostname.empty()) o["hostname"] = rule.hostname;
    o["service"] = rule.service;
    ingress.push_back(std::move(o));
  }
  const json::object body{{"config", json::object{{"ingress", ingress}}}};
  send("PUT",
       "/accounts/" + url_encode(account_id()) + "/cfd_tunnel/" + url_encode(tunnel_id) +
           "/configurations",
       core::to_json_string(body), "update the tunnel's ingress");
}

}  // namespace devx::tunnel
