#pragma once
// The steps every route goes through, shared by expose, unexpose and tunnel up: the tunnel that
// carries it, the hostname inside its zone, the ingress rule in the tunnel's remote
// configuration, the proxied CNAME and the exposure record.
#include <devx/context.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "tunnel/cloudflare_api.hpp"
#include "tunnel/plan.hpp"
#include "tunnel/records.hpp"

namespace devx::tunnel {

// A hostname lower-cased, without a trailing dot, every label checked ([a-z0-9-], no leading or
// trailing '-', at most 63 characters, 253 in all). Error(invalid_argument) naming `what`.
std::string normalise_hostname(std::string_view hostname, std::string_view what);

// The hostname of an exposure: `domain` (which must be `zone` or below it) or
// "<label>.<zone>". Error(invalid_argument) when it would leave the zone.
std::string exposure_hostname(std::string_view label, std::string_view zone,
                              std::string_view domain);

// Validates 1..65535. Error(invalid_argument) naming `what`.
void check_port(int port, std::string_view what);

// The scope's tunnel: the recorded one if Cloudflare still has it, else the one named
// scope.tunnel_name (adopted after a lost record), else a new one (config_src "cloudflare").
TunnelRecord ensure_tunnel(Context& context, TunnelPlan& plan, CloudflareApi& api,
                           const TunnelScope& scope);

struct RouteRequest {
  std::string name;
  std::string hostname;
  Zone zone;
  int port = 0;
  std::string service;  // "http://127.0.0.1:<port>" (of the first proxy when there are some)
  std::vector<ProxyRecord> proxies;
  std::string origin;  // "expose" | "up"
  std::string project;
  bool owned_by_this_process = false;  // proxies (or `tunnel up`) live in this process
};

// Adds (or updates) the ingress rule and the proxied CNAME and records the exposure. A DNS name
// held by anything but this tunnel's CNAME is Error(conflict); what was done is undone on
// failure.
ExposureRecord add_route(Context& context, TunnelPlan& plan, CloudflareApi& api,
                         const TunnelScope& scope, const TunnelRecord& tunnel,
                         const RouteRequest& request);

// Removes the ingress rule, the DNS record and the record. Objects already gone are fine.
void remove_route(Context& context, TunnelPlan& plan, CloudflareApi& api,
                  const ExposureRecord& exposure);

// Stops the connector of `tunnel_key`'s tunnel when no recorded exposure uses it any more.
void stop_idle_connector(Context& context, TunnelPlan& plan, const std::string& tunnel_key);

// The API client for recorded objects: `settings` with the tunnel's account.
CloudflareApi api_for(Context& context, const CloudflareSettings& settings,
                      const std::string& account_id);

}  // namespace devx::tunnel
