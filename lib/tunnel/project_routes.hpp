#pragma once
// The routes of a project's `tunnels:` (docs/tunnels.md, "devx up"): the one place their names,
// hostnames and proxy layers are computed, for `devx tunnel up`, the routes `devx up` adds and
// the plan `devx up --dry-run` prints. Nothing here talks to Cloudflare.
#include <devx/config.hpp>
#include <devx/context.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace devx::tunnel {

// The zone of a project's tunnels: `zone` when given, else $DEVX_TUNNEL_ZONE, else the
// project's `domain:`; "" when none is known.
std::string project_zone(const Context& context, const Project& project,
                         std::string_view zone = {});

struct ProjectRoute {
  const Tunnel* config = nullptr;  // points into the project
  std::string name;                // the entry's name, "port-<port>" when it has none
  std::string hostname;            // "<name>-<project>.<zone>" (DNS labels)
  std::vector<std::string>
      layers;  // edge proxies in front, in chain order: "throttle", "basic_auth"
};

// The name of an entry ("port-<port>" when it has none) and its hostname,
// "<name>-<project>.<zone>" as DNS labels; Error(invalid_argument) when it is not a hostname.
std::string project_route_name(const Tunnel& entry);
std::string project_route_hostname(std::string_view project, std::string_view name,
                                   std::string_view zone);

// Every entry of `project.tunnels`, each checked (port, throttle profile, hostnames distinct)
// before anything is created: Error(invalid_argument). `zone` must be non-empty.
std::vector<ProjectRoute> project_routes(const Project& project, std::string_view zone);

}  // namespace devx::tunnel
