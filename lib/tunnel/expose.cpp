// devx tunnel expose / unexpose / list / status (include/devx/tunnel.hpp).
#include <devx/edge.hpp>
#include <devx/error.hpp>
#include <devx/tunnel.hpp>

#include <boost/json/array.hpp>

#include <optional>

#include "core/json.hpp"
#include "tunnel/connector.hpp"
#include "tunnel/routes.hpp"

namespace devx {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using tunnel::TunnelPlan;

std::string env_or(Context& context, const char* name, const std::string& value) {
  if (!value.empty()) return value;
  auto it = context.env().find(name);
  return it == context.env().end() ? std::string() : it->second;
}

// Waits for cancellation; fails early when the proxy chain stopped by itself.
void hold_until_cancelled(Context& context, OperationScope& scope,
                          std::optional<EdgeProxy>& proxy) {
  while (!scope.cancelled()) {
    if (proxy && proxy->operation().done()) proxy->operation().result();
    context.clock().sleep_for(200ms, scope.stop_token());
  }
}

}  // namespace

std::string tunnel_dns_label(std::string_view name) {
  std::string label;
  for (const unsigned char c : name) {
    const char lower = static_cast<char>(std::tolower(c));
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9')) {
      label.push_back(lower);
    } else if (!label.empty() && label.back() != '-') {
      label.push_back('-');
    }
  }
  while (!label.empty() && label.back() == '-') label.pop_back();
  if (label.size() > 63) label.resize(63);
  while (!label.empty() && label.back() == '-') label.pop_back();
  if (label.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "'" + std::string(name) + "' has no letters or digits to make a DNS label from",
                "use a name with letters or digits");
  }
  return label;
}

std::string tunnel_machine_id(Context& context) { return tunnel::machine_id(context); }

Operation start_tunnel_expose(Context& context, TunnelExposeOptions options) {
  // Everything is checked before anything is created.
  tunnel::check_port(options.port, "port");
  const std::string name =
      options.name.empty() ? "port-" + std::to_string(options.port) : options.name;
  const std::string label = tunnel_dns_label(name);
  const std::string zone = env_or(context, "DEVX_TUNNEL_ZONE", options.zone);
  if (zone.empty() && options.domain.empty()) {
    throw Error(ErrorCode::invalid_argument, "no zone for the public hostname",
                "pass --zone (a domain in your Cloudflare account) or --domain, or set "
                "DEVX_TUNNEL_ZONE");
  }
  const std::string hostname = zone.empty()
                                   ? tunnel::normalise_hostname(options.domain, "domain")
                                   : tunnel::exposure_hostname(label, zone, options.domain);
  std::optional<BasicAuthCredentials> credentials;
  if (!options.basic_auth.empty()) credentials = parse_basic_auth(options.basic_auth);
  if (!options.throttle.empty()) throttle_profile(options.throttle);
  auto settings = tunnel::resolve_cloudflare(context, options.cloudflare);
  if (settings.api_token.empty() && !context.dry_run()) {
    throw Error(ErrorCode::invalid_argument, "no Cloudflare API token",
                "set CLOUDFLARE_API_TOKEN (or CF_API_TOKEN) in the environment or an env source");
  }

  return context.start(
      "tunnel.expose",
      [&context, options, name, zone, hostname, credentials,
       settings](OperationScope& scope) -> std::string {
        TunnelPlan plan(context, "tunnel.expose");
        tunnel::CloudflareApi api(context, settings);
        plan.attach(api);
        api.set_operation(scope);  // retries are announced on it, Ctrl-C ends their waits

        std::optional<EdgeProxy> proxy;
        std::vector<tunnel::ProxyRecord> proxies;
        std::string service = "http://127.0.0.1:" + std::to_string(options.port);
        if (credentials || !options.throttle.empty()) {
          EdgeProxyOptions edge;
          edge.target_port = options.port;
          edge.basic_auth = credentials;
          edge.throttle = options.throttle;
          if (!options.throttle.empty()) proxies.push_back({"throttle", options.throttle});
          if (credentials) proxies.push_back({"basic_auth", ""});
          plan.note(
              "proxy", "start the edge proxies in front of port " + std::to_string(options.port),
              json::object{{"plan", core::parse_json_or_null(edge_proxy_plan(context, edge))}});
          proxy.emplace(start_edge_proxy(context, edge));
          service = plan.dry_run() ? "http://127.0.0.1:PROXY_PORT" : proxy->url();
        }

        const auto scope_of_tunnel = tunnel::machine_scope(context);
        auto record = tunnel::ensure_tunnel(context, plan, api, scope_of_tunnel);
        scope.progress("tunnel", "using " + record.name + " (" + record.id + ")");
        const auto zone_info =
            zone.empty() ? api.zone_for_hostname(hostname) : api.zone_by_name(zone);
        if (!zone.empty() && hostname != zone_info.name &&
            !hostname.ends_with("." + zone_info.name)) {
          throw Error(ErrorCode::invalid_argument,
                      "hostname " + hostname + " is not inside the zone " + zone_info.name);
        }
        tunnel::RouteRequest request{name,    hostname, zone_info, options.port,     service,
                                     proxies, "expose", "",        proxy.has_value()};
        auto exposure = tunnel::add_route(context, plan, api, scope_of_tunnel, record, request);
        try {
          tunnel::ensure_connector(context, plan, api, settings, scope_of_tunnel, record,
                                   scope.stop_token());
        } catch (const Error&) {
          api.set_stop_token({});  // the clean-up keeps its retries after a cancellation
          if (!plan.dry_run()) tunnel::remove_route(context, plan, api, exposure);
          throw;
        }
        auto exposure_json = tunnel::exposure_to_json(exposure);
        if (plan.dry_run() || !proxy) return plan.to_string({{"exposure", exposure_json}});

        Event event;
        event.type = EventType::state;
        event.source = "tunnel";
        event.message =
            "exposed https://" + hostname + " → 127.0.0.1:" + std::to_string(options.port);
        event.data_json =
            core::to_json_string(json::object{{"state", "exposed"}, {"exposure", exposure_json}});
        scope.emit(std::move(event));
        try {
          hold_until_cancelled(context, scope, proxy);
        } catch (...) {
          api.set_stop_token({});
          tunnel::remove_route(context, plan, api, exposure);
          tunnel::stop_idle_connector(context, plan, exposure.tunnel_key);
          throw;
        }
        // The proxies end with this operation, so the route they carry goes too.
        api.set_stop_token({});
        tunnel::remove_route(context, plan, api, exposure);
        tunnel::stop_idle_connector(context, plan, exposure.tunnel_key);
        proxy->stop();
        return plan.to_string({{"exposure", exposure_json}, {"removed", true}});
      });
}

std::string tunnel_unexpose(Context& context, const TunnelUnexposeOptions& options) {
  const auto all = tunnel::read_exposures(context);
  std::vector<tunnel::ExposureRecord> targets;
  if (options.all) {
    targets = all;
  } else {
    std::string wanted = options.target;
    std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const auto& e : all)
      if (e.id == wanted || e.hostname == wanted || e.name == options.target) targets.push_back(e);
    if (targets.empty()) {
      json::array known;
      for (const auto& e : all) known.push_back(json::value(e.id));
      throw Error(ErrorCode::not_found,
                  options.target.empty() ? "name an exposure (id or hostname) or pass --all"
                                         : "no exposure '" + options.target + "'",
                  all.empty() ? "nothing is exposed" : "`devx tunnel list` shows the exposures",
                  core::to_json_string(json::object{{"exposures", known}}));
    }
  }
  TunnelPlan plan(context, "tunnel.unexpose");
  json::array removed;
  std::vector<std::string> keys;
  for (const auto& exposure : targets) {
    auto tunnel_record = std::optional<tunnel::TunnelRecord>();
    for (auto& [scope, t] : tunnel::recorded_tunnels(context))
      if (scope.key == exposure.tunnel_key) tunnel_record = t;
    auto api = tunnel::api_for(context, options.cloudflare,
                               tunnel_record ? tunnel_record->account_id : std::string());
    plan.attach(api);
    tunnel::remove_route(context, plan, api, exposure);
    removed.push_back(json::value(exposure.id));
    if (std::find(keys.begin(), keys.end(), exposure.tunnel_key) == keys.end())
      keys.push_back(exposure.tunnel_key);
  }
  for (const auto& key : keys) {
    if (plan.dry_run()) {
      bool left = false;
      for (const auto& e : all) {
        const bool going = std::any_of(targets.begin(), targets.end(),
                                       [&](const auto& t) { return t.id == e.id; });
        left = left || (e.tunnel_key == key && !going);
      }
      if (!left) {
        for (auto& [scope, t] : tunnel::recorded_tunnels(context))
          if (scope.key == key && t.connector) tunnel::stop_connector(context, plan, scope, t);
      }
    } else {
      tunnel::stop_idle_connector(context, plan, key);
    }
  }
  return plan.to_string({{"removed", removed}});
}

std::string tunnel_status(Context& context) {
  const auto tunnels = tunnel::recorded_tunnels(context);
  json::array tunnel_list;
  for (const auto& [scope, t] : tunnels) {
    json::object o{
        {"id", t.id}, {"name", t.name}, {"scope", scope.kind}, {"created_at", t.created_at}};
    if (!scope.project.empty()) o["project"] = scope.project;
    if (t.connector) {
      o["connector"] = json::object{{"pid", t.connector->pid},
                                    {"started_at", t.connector->started_at},
                                    {"log", t.connector->log},
                                    {"running", t.connector->alive()}};
    } else {
      o["connector"] = nullptr;
    }
    tunnel_list.push_back(std::move(o));
  }
  json::array exposures;
  for (const auto& e : tunnel::read_exposures(context)) {
    auto o = tunnel::exposure_to_json(e);
    std::string connector = "stopped";
    for (const auto& [scope, t] : tunnels)
      if (scope.key == e.tunnel_key && t.connector && t.connector->alive()) connector = "running";
    o["connector"] = connector;
    // Proxies (and `tunnel up` routes) live in their owner's process: without it the route is
    // dead even though it is still recorded.
    const bool owner_alive =
        e.owner_pid == 0 ||
        tunnel::ConnectorRecord{e.owner_pid, e.owner_start_time, {}, {}, {}}.alive();
    o["state"] = !owner_alive ? "stale" : connector == "running" ? "active" : "down";
    exposures.push_back(std::move(o));
  }
  return core::to_json_string(
      json::object{{"v", 1}, {"exposures", exposures}, {"tunnels", tunnel_list}});
}

}  // namespace devx
