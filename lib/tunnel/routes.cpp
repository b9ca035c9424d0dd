#include "tunnel/routes.hpp"

#include <devx/error.hpp>
#include <devx/tunnel.hpp>

#include <unistd.h>

#include <boost/json/array.hpp>

#include <algorithm>

#include "core/json.hpp"
#include "core/proc_stat.hpp"
#include "tunnel/connector.hpp"

namespace devx::tunnel {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
    return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::vector<IngressRule> without_host(std::vector<IngressRule> rules, std::string_view host) {
  std::erase_if(rules, [&](const IngressRule& r) { return r.hostname == host; });
  return rules;
}

}  // namespace

std::string normalise_hostname(std::string_view hostname, std::string_view what) {
  std::string host(hostname);
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!host.empty() && host.back() == '.') host.pop_back();
  bool ok = !host.empty() && host.size() <= 253;
  for (std::size_t start = 0; ok;) {
    const auto dot = host.find('.', start);
    ok = valid_label(std::string_view(host).substr(
        start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (!ok) {
    throw Error(ErrorCode::invalid_argument,
                std::string(what) + " '" + std::string(hostname) + "' is not a valid DNS name",
                "labels are letters, digits and '-', at most 63 characters, not starting or "
                "ending with '-'");
  }
  return host;
}

std::string exposure_hostname(std::string_view label, std::string_view zone,
                              std::string_view domain) {
  const std::string zone_name = normalise_hostname(zone, "zone");
  if (domain.empty()) return normalise_hostname(std::string(label) + "." + zone_name, "hostname");
  const std::string host = normalise_hostname(domain, "domain");
  if (host != zone_name && !host.ends_with("." + zone_name)) {
    throw Error(ErrorCode::invalid_argument,
                "domain '" + host + "' is not inside the zone '" + zone_name + "'",
                "pass a hostname ending in ." + zone_name + ", or the zone that holds it");
  }
  return host;
}

void check_port(int port, std::string_view what) {
  if (port < 1 || port > 65535) {
    throw Error(ErrorCode::invalid_argument,
                std::string(what) + " " + std::to_string(port) + " is not a port (1-65535)");
  }
}

TunnelRecord ensure_tunnel(Context& context, TunnelPlan& plan, CloudflareApi& api,
                           const TunnelScope& scope) {
  // One creator at a time: two concurrent `expose` calls must not create two tunnels.
  const StateLock held =
      plan.dry_run() ? StateLock() : context.state().lock("tunnel-" + scope.tunnel_name, 60s);
  if (auto recorded = read_tunnel(context, scope)) {
    if (api.get_tunnel(recorded->id)) return *recorded;
    plan.note("state", "recorded tunnel " + recorded->name + " no longer exists in Cloudflare",
              json::object{{"key", scope.key}});
  }
  TunnelRecord tunnel;
  tunnel.name = scope.tunnel_name;
  tunnel.account_id = api.account_id();
  const auto found = api.list_tunnels(scope.tunnel_name);
  if (!found.empty()) {
    tunnel.id = found.front().id;
    tunnel.created_at = found.front().created_at;
  } else {
    const auto created = api.create_tunnel(scope.tunnel_name);
    tunnel.id = created.id;
    tunnel.created_at = created.created_at;
  }
  plan.note("state", "record tunnel " + tunnel.name, json::object{{"key", scope.key}});
  if (!plan.dry_run()) write_tunnel(context, scope, tunnel);
  return tunnel;
}

ExposureRecord add_route(Context& context, TunnelPlan& plan, CloudflareApi& api,
                         const TunnelScope& scope, const TunnelRecord& tunnel,
                         const RouteRequest& request) {
  const auto previous = read_exposure(context, request.hostname);
  if (previous && previous->tunnel_id != tunnel.id) {
    throw Error(ErrorCode::already_exists,
                request.hostname + " is already exposed through tunnel " + previous->tunnel_name,
                "run `devx tunnel unexpose " + request.hostname + "` first");
  }
  ExposureRecord exposure;
  exposure.id = request.hostname;
  exposure.name = request.name;
  exposure.hostname = request.hostname;
  exposure.port = request.port;
  exposure.service = request.service;
  exposure.zone = request.zone.name;
  exposure.zone_id = request.zone.id;
  exposure.dns_record_id = previous ? previous->dns_record_id : std::string();
  exposure.tunnel_id = tunnel.id;
  exposure.tunnel_name = tunnel.name;
  exposure.tunnel_key = scope.key;
  exposure.proxies = request.proxies;
  exposure.origin = request.origin;
  exposure.project = request.project;
  exposure.machine_id = machine_id(context);
  if (request.owned_by_this_process) {
    exposure.owner_pid = static_cast<int>(::getpid());
    exposure.owner_start_time = core::process_start_time(exposure.owner_pid).value_or(0);
  }
  exposure.created_at = previous ? previous->created_at : now_rfc3339(context);

  plan.note("state", "record exposure " + exposure.id,
            json::object{{"key", exposure_key(exposure.id)}});
  // Recorded first, so a crash between the next steps leaves a record cleanup can follow.
  if (!plan.dry_run()) write_exposure(context, exposure);
  bool ingress_changed = false;
  try {
    auto rules = without_host(api.get_ingress(tunnel.id), request.hostname);
    const auto catch_all = std::find_if(rules.begin(), rules.end(),
                                        [](const IngressRule& r) { return r.hostname.empty(); });
    rules.insert(catch_all, IngressRule{request.hostname, request.service});
    api.put_ingress(tunnel.id, std::move(rules));
    ingress_changed = true;

    const std::string target = tunnel_cname_target(tunnel.id);
    DnsRecord wanted{"",
                     "CNAME",
                     request.hostname,
                     target,
                     true,
                     1,
                     "devx: machine " + exposure.machine_id + ", " + request.origin};
    std::string ours;
    json::array others;
    for (const auto& r : api.list_dns_records(request.zone.id, {}, request.hostname)) {
      if (r.type == "CNAME" && r.content == target && ours.empty()) {
        ours = r.id;
      } else {
        others.push_back(json::object{{"id", r.id}, {"type", r.type}, {"content", r.content}});
      }
    }
    if (!others.empty()) {
      throw Error(
          ErrorCode::conflict,
          "DNS name " + request.hostname + " is already used by records devx did not create",
          "pick another --name/--domain, or remove those records in Cloudflare",
          core::to_json_string(json::object{{"records", others}}));
    }
    exposure.dns_record_id = ours.empty() ? api.create_dns_record(request.zone.id, wanted).id
                                          : api.update_dns_record(request.zone.id, ours, wanted).id;
  } catch (...) {
    if (!plan.dry_run()) {
      bool keep_record = previous.has_value();
      if (ingress_changed) {
        try {
          api.put_ingress(tunnel.id, without_host(api.get_ingress(tunnel.id), request.hostname));
        } catch (const Error&) {
          keep_record = true;  // it names the rule that `unexpose` still has to remove
        }
      }
      if (!keep_record) remove_exposure(context, exposure.id);
    }
    throw;
  }
  if (!plan.dry_run()) write_exposure(context, exposure);
  return exposure;
}

void remove_route(Context& context, TunnelPlan& plan, CloudflareApi& api,
                  const ExposureRecord& exposure) {
  try {
    const auto rules = api.get_ingress(exposure.tunnel_id);
    const auto kept = without_host(rules, exposure.hostname);
    if (kept.size() != rules.size() || plan.dry_run()) api.put_ingress(exposure.tunnel_id, kept);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;  // the tunnel is gone, and its rules with it
  }
  const std::string target = tunnel_cname_target(exposure.tunnel_id);
  std::vector<std::string> record_ids;
  if (!exposure.dns_record_id.empty()) {
    record_ids.push_back(exposure.dns_record_id);
  } else if (!plan.dry_run()) {
    // Recorded before its DNS record was: find the CNAME to this tunnel, if it was made.
    for (const auto& r : api.list_dns_records(exposure.zone_id, "CNAME", exposure.hostname))
      if (r.content == target) record_ids.push_back(r.id);
  }
  for (const auto& id : record_ids) {
    try {
      api.delete_dns_record(exposure.zone_id, id);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
    }
  }
  plan.note("state", "remove exposure " + exposure.id,
            json::object{{"key", exposure_key(exposure.id)}});
  if (!plan.dry_run()) remove_exposure(context, exposure.id);
}

void stop_idle_connector(Context& context, TunnelPlan& plan, const std::string& tunnel_key) {
  for (const auto& e : read_exposures(context)) {
    if (e.tunnel_key == tunnel_key) return;
  }
  for (auto& [scope, tunnel] : recorded_tunnels(context)) {
    if (scope.key == tunnel_key && tunnel.connector) stop_connector(context, plan, scope, tunnel);
  }
}

CloudflareApi api_for(Context& context, const CloudflareSettings& settings,
                      const std::string& account_id) {
  auto resolved = resolve_cloudflare(context, settings);
  if (resolved.account_id.empty()) resolved.account_id = account_id;
  return CloudflareApi(context, std::move(resolved));
}

}  // namespace devx::tunnel
