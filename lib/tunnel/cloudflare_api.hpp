#pragma once
// The one adapter for the Cloudflare API v4 (https://developers.cloudflare.com/api/): requests go
// through context.http(), every query value is URL-encoded, list calls follow pagination
// (page/per_page/result_info), and every response is read as the v4 envelope
// {"success","errors":[{"code","message"}],"messages","result","result_info"}. Failures throw
// devx::Error: 10000/9109/401/403 → permission_denied, 81053/81057/409 → conflict,
// 404 (and 7003/7000 bad route) → not_found, anything else → http; details hold
// {"status","method","url","cloudflare_errors":[…],"attempts"} (never the token).
//
// Retries (at most 3, so 4 attempts): HTTP 429 for every method (Cloudflare did not process the
// request); 502/503/504 and transport failures (Error http/timeout from context.http()) only for
// GET/PUT/DELETE, never POST/PATCH (a tunnel or record created twice is worse than a failure).
// The wait is Retry-After (seconds, capped at 30 s) when the answer has one, else 1 s, 2 s, 4 s
// plus up to a quarter of jitter; it goes through context.clock().sleep_for, so a fake clock
// makes tests instant and the operation's stop token (set_operation) cuts it short.
//
// Callers that must honour dry_run give the client a recorder (set_recorder): every mutating
// call is reported there first. In dry-run mode nothing at all is sent (reads are reported too and
// return nothing: empty lists, placeholder ids such as "ZONE_ID"), so a caller that wants
// a plan built on real answers reads before switching the client to dry run.
#include <devx/context.hpp>
#include <devx/tunnel.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace devx::tunnel {

inline constexpr std::string_view default_api_url = "https://api.cloudflare.com/client/v4";

struct Zone {
  std::string id;
  std::string name;
  std::string status;
  std::string account_id;
};

struct DnsRecord {
  std::string id;
  std::string type;  // "CNAME", "A", "TXT" …
  std::string name;  // fully qualified
  std::string content;
  bool proxied = false;
  int ttl = 1;  // 1 = automatic
  std::string comment;
};

struct CloudflareTunnel {
  std::string id;
  std::string name;
  std::string status;  // "inactive" | "healthy" | "degraded" | "down"
  std::string created_at;
};

struct IngressRule {
  std::string hostname;  // "" only for the final catch-all rule
  std::string service;   // "http://127.0.0.1:8080", "http_status:404"
  bool operator==(const IngressRule&) const = default;
};

// One mutating request, as plans show it: method and URL (the token never appears).
struct ApiCall {
  std::string description;
  std::string method;
  std::string url;
};

// Settings with every empty field resolved (token, account left "" when not known yet).
struct ResolvedCloudflare {
  std::string api_url;
  std::string api_token;
  std::string account_id;
  std::string cloudflared;
};

// Resolves `settings` against the context's environment and the env sources. A missing token is
// Error(invalid_argument) with a hint naming CLOUDFLARE_API_TOKEN.
ResolvedCloudflare resolve_cloudflare(Context& context, const CloudflareSettings& settings);

class CloudflareApi {
 public:
  CloudflareApi(Context& context, ResolvedCloudflare settings);

  // Mutating calls (POST/PUT/PATCH/DELETE) are reported to `recorder` before they are sent; with
  // `dry_run` every call is reported and none is sent (see the file comment).
  void set_recorder(std::function<void(const ApiCall&)> recorder, bool dry_run);
  bool dry_run() const noexcept { return dry_run_; }

  // The operation the calls run in: retries are announced on it as warning events and its stop
  // token ends a retry wait (Error(cancelled)). Without one, retries are logged on the context.
  // `scope` must outlive the client's calls.
  void set_operation(OperationScope& scope) {
    scope_ = &scope;
    stop_ = scope.stop_token();
  }
  // The token that ends a retry wait; an empty one lets waits run to the end (cleanup after a
  // cancellation still deserves its retries).
  void set_stop_token(std::stop_token stop) noexcept { stop_ = std::move(stop); }

  // The account: settings.account_id, else the single account the token sees
  // (Error(invalid_argument) listing them when there are several; set CLOUDFLARE_ACCOUNT_ID).
  const std::string& account_id();

  // Zones (all pages) whose name is exactly `name` ("" = every zone).
  std::vector<Zone> list_zones(std::string_view name = {});
  // The zone named `name`; Error(not_found) when the token sees no such zone.
  Zone zone_by_name(std::string_view name);
  // The zone `hostname` lives in: the longest suffix of it that is a zone (one lookup per
  // suffix, longest first). Error(not_found) when none is.
  Zone zone_for_hostname(std::string_view hostname);

  // DNS records (all pages) filtered by type and exact name ("" = no filter).
  std::vector<DnsRecord> list_dns_records(std::string_view zone_id, std::string_view type = {},
                                          std::string_view name = {});
  DnsRecord create_dns_record(std::string_view zone_id, const DnsRecord& record);
  DnsRecord update_dns_record(std::string_view zone_id, std::string_view record_id,
                              const DnsRecord& record);
  void delete_dns_record(std::string_view zone_id, std::string_view record_id);
  // Creates `record`, or updates the first existing record of the same type and name.
  // Records of another type with the same name (A/AAAA next to a CNAME) are Error(conflict).
  DnsRecord upsert_dns_record(std::string_view zone_id, const DnsRecord& record);

  // Named tunnels (config_src "cloudflare": ingress lives in the remote configuration).
  std::vector<CloudflareTunnel> list_tunnels(std::string_view name = {});  // not deleted ones
  std::optional<CloudflareTunnel> get_tunnel(std::string_view tunnel_id);
  CloudflareTunnel create_tunnel(std::string_view name);
  // The connector token (a secret: pass it to cloudflared through TUNNEL_TOKEN only).
  std::string tunnel_token(std::string_view tunnel_id);
  void delete_tunnel(std::string_view tunnel_id);

  // The remote ingress rules (the catch-all included); empty when none was ever set.
  std::vector<IngressRule> get_ingress(std::string_view tunnel_id);
  // Replaces the ingress; a final catch-all "http_status:404" is appended when missing.
  void put_ingress(std::string_view tunnel_id, std::vector<IngressRule> rules);

 private:
  // Sends one request (path relative to the API URL, query already encoded) and returns the
  // envelope's "result" as JSON text; `result_info` receives the envelope's result_info.
  std::string send(std::string_view method, const std::string& path, const std::string& body,
                   std::string_view description, std::string* result_info = nullptr);
  // Every "result" element of a paged list, as JSON text.
  std::vector<std::string> list_all(const std::string& path,
                                    std::vector<std::pair<std::string, std::string>> query);

  Context& context_;
  ResolvedCloudflare settings_;
  // Waits before retry `retry` (1-based) of a call: `retry_after` is the server's Retry-After
  // header ("" when none). Throws Error(cancelled) when the operation is stopped meanwhile.
  void wait_before_retry(int retry, const std::string& retry_after, std::string_view what);

  std::function<void(const ApiCall&)> recorder_;
  bool dry_run_ = false;
  OperationScope* scope_ = nullptr;
  std::stop_token stop_;
};

// Percent-encodes a query value or path segment (RFC 3986 unreserved characters are kept).
std::string url_encode(std::string_view value);

// The CNAME target of a tunnel: "<tunnel-id>.cfargotunnel.com".
std::string tunnel_cname_target(std::string_view tunnel_id);

// The wait before retry `retry` (1-based) of a Cloudflare call: the Retry-After header's seconds
// when it is a number (capped at 30 s), else 2^(retry-1) s plus `jitter` (0..1) of a quarter of
// that.
std::chrono::milliseconds cloudflare_retry_delay(int retry, std::string_view retry_after,
                                                 double jitter);

}  // namespace devx::tunnel
