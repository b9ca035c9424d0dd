// devx tunnel up: the project's `tunnels:` on the project's own tunnel (include/devx/tunnel.hpp).
#include <devx/edge.hpp>
#include <devx/error.hpp>
#include <devx/tunnel.hpp>

#include <boost/json/array.hpp>

#include <list>
#include <set>

#include "core/json.hpp"
#include "tunnel/connector.hpp"
#include "tunnel/project_routes.hpp"
#include "tunnel/routes.hpp"

namespace devx {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct Entry {
  tunnel::ProjectRoute route;
  std::optional<BasicAuthCredentials> credentials;
};

}  // namespace

namespace tunnel {

std::string project_zone(const Context& context, const Project& project, std::string_view zone) {
  if (!zone.empty()) return std::string(zone);
  if (auto it = context.env().find("DEVX_TUNNEL_ZONE");
      it != context.env().end() && !it->second.empty())
    return it->second;
  return project.domain;
}

std::string project_route_name(const Tunnel& entry) {
  return entry.name.empty() ? "port-" + std::to_string(entry.port) : entry.name;
}

std::string project_route_hostname(std::string_view project, std::string_view name,
                                   std::string_view zone) {
  return exposure_hostname(tunnel_dns_label(name) + "-" + tunnel_dns_label(project), zone, {});
}

std::vector<ProjectRoute> project_routes(const Project& project, std::string_view zone) {
  std::vector<ProjectRoute> routes;
  std::set<std::string> hostnames;
  for (const auto& t : project.tunnels) {
    tunnel::check_port(t.port, "tunnel '" + t.name + "' port");
    ProjectRoute route;
    route.config = &t;
    route.name = project_route_name(t);
    route.hostname = project_route_hostname(project.name, route.name, zone);
    if (!hostnames.insert(route.hostname).second) {
      throw Error(ErrorCode::invalid_argument,
                  "two tunnels of project '" + project.name + "' would both be " + route.hostname,
                  "give them distinct names");
    }
    if (!t.throttle.empty()) {
      throttle_profile(t.throttle);
      route.layers.emplace_back("throttle");
    }
    if (!t.basic_auth.empty()) route.layers.emplace_back("basic_auth");
    routes.push_back(std::move(route));
  }
  return routes;
}

}  // namespace tunnel

namespace {}  // namespace

Operation start_tunnel_up(Context& context, const Project& project, TunnelUpOptions options) {
  const std::string zone = tunnel::project_zone(context, project, options.zone);
  if (zone.empty()) {
    throw Error(ErrorCode::invalid_argument, "no zone for the project's tunnels",
                "set `domain:` in devx.yaml to a zone of your Cloudflare account, pass --zone "
                "or set DEVX_TUNNEL_ZONE");
  }
  if (project.tunnels.empty()) {
    throw Error(ErrorCode::invalid_argument, "project '" + project.name + "' has no tunnels",
                "add a `tunnels:` list to devx.yaml");
  }
  // Every entry is checked before anything is created; target ports are taken as they are.
  std::vector<Entry> entries;
  for (auto& route : tunnel::project_routes(project, zone)) {
    std::optional<BasicAuthCredentials> credentials;
    if (!route.config->basic_auth.empty()) credentials = parse_basic_auth(route.config->basic_auth);
    entries.push_back({std::move(route), credentials});
  }
  if (options.cloudflare.env_sources.empty()) options.cloudflare.env_sources = project.env;
  auto settings = tunnel::resolve_cloudflare(context, options.cloudflare);
  if (settings.api_token.empty() && !context.dry_run()) {
    throw Error(ErrorCode::invalid_argument, "no Cloudflare API token",
                "set CLOUDFLARE_API_TOKEN (or CF_API_TOKEN) in the environment or an env source");
  }

  return context.start(
      "tunnel.up",
      [&context, project_name = project.name, zone, entries = std::move(entries),
       settings](OperationScope& scope) -> std::string {
        tunnel::TunnelPlan plan(context, "tunnel.up");
        tunnel::CloudflareApi api(context, settings);
        plan.attach(api);
        api.set_operation(scope);
        const auto tunnel_scope = tunnel::project_scope(context, project_name);
        auto record = tunnel::ensure_tunnel(context, plan, api, tunnel_scope);
        const auto zone_info = api.zone_by_name(zone);

        std::list<EdgeProxy> proxies;  // stable addresses; stopped when this operation ends
        std::vector<tunnel::ExposureRecord> added;
        bool started_connector = false;
        const auto undo = [&] {
          api.set_stop_token({});  // removing what was added is worth its retries after Ctrl-C
          for (const auto& e : added) tunnel::remove_route(context, plan, api, e);
          for (auto& p : proxies) p.stop();
          if (started_connector) tunnel::stop_idle_connector(context, plan, tunnel_scope.key);
        };
        json::array exposures;
        try {
          for (const auto& entry : entries) {
            std::string service = "http://127.0.0.1:" + std::to_string(entry.route.config->port);
            std::vector<tunnel::ProxyRecord> layers;
            if (entry.credentials || !entry.route.config->throttle.empty()) {
              EdgeProxyOptions edge;
              edge.target_port = entry.route.config->port;
              edge.basic_auth = entry.credentials;
              edge.throttle = entry.route.config->throttle;
              if (!edge.throttle.empty()) layers.push_back({"throttle", edge.throttle});
              if (entry.credentials) layers.push_back({"basic_auth", ""});
              plan.note(
                  "proxy", "start the edge proxies of tunnel " + entry.route.name,
                  json::object{{"plan", core::parse_json_or_null(edge_proxy_plan(context, edge))}});
              proxies.push_back(start_edge_proxy(context, edge));
              service = plan.dry_run() ? "http://127.0.0.1:PROXY_PORT" : proxies.back().url();
            }
            tunnel::RouteRequest request{entry.route.name,
                                         entry.route.hostname,
                                         zone_info,
                                         entry.route.config->port,
                                         service,
                                         layers,
                                         "up",
                                         project_name,
                                         true};
            added.push_back(tunnel::add_route(context, plan, api, tunnel_scope, record, request));
            exposures.push_back(tunnel::exposure_to_json(added.back()));
          }
          started_connector = tunnel::ensure_connector(context, plan, api, settings, tunnel_scope,
                                                       record, scope.stop_token());
        } catch (...) {
          if (!plan.dry_run()) undo();
          throw;
        }
        if (plan.dry_run()) return plan.to_string({{"exposures", exposures}});

        for (const auto& e : exposures) {
          Event event;
          event.type = EventType::state;
          event.source = "tunnel";
          event.message = "exposed " + std::string(e.as_object().at("url").as_string());
          event.data_json =
              core::to_json_string(json::object{{"state", "exposed"}, {"exposure", e}});
          scope.emit(std::move(event));
        }
        try {
          while (!scope.cancelled()) {
            for (auto& p : proxies)
              if (p.operation().done()) p.operation().result();
            context.clock().sleep_for(200ms, scope.stop_token());
          }
        } catch (...) {
          undo();
          throw;
        }
        undo();
        return plan.to_string({{"exposures", exposures}, {"removed", true}});
      });
}

}  // namespace devx
