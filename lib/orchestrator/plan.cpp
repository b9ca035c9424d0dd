// Planning `up`: node selection, topological order, port shifting with propagation, environment.
#include <devx/bridge.hpp>
#include <devx/error.hpp>
#include <devx/orchestrator.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <queue>
#include <set>

#include "core/json.hpp"
#include "orchestrator/bridge_runtime.hpp"
#include "orchestrator/environment.hpp"
#include "orchestrator/plan.hpp"
#include "runtime/database.hpp"
#include "tunnel/project_routes.hpp"

namespace devx {
namespace orchestrator {
namespace {

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += sep;
    out += part;
  }
  return out;
}

std::string describe_health(const HealthCheck& health) {
  if (!health.http.empty()) return "http " + health.http;
  if (!health.tcp.empty()) return "tcp " + health.tcp;
  if (!health.exec.empty()) return "exec " + join(health.exec, " ");
  if (!health.log.empty()) return "log /" + health.log + "/";
  return {};
}

// The readiness check of a database: its port accepting connections. Engine processes exit on
// fatal errors, which fails the node at once; start_period covers initdb and first start.
HealthCheck database_health(int port) {
  HealthCheck health;
  health.tcp = "127.0.0.1:" + std::to_string(port);
  health.interval = std::chrono::milliseconds(500);
  health.timeout = std::chrono::milliseconds(2000);
  health.start_period = std::chrono::milliseconds(120000);
  health.retries = 3;
  return health;
}

std::optional<int> requested_port(const NodePlan& node) {
  if (node.database != nullptr) {
    return node.database->port > 0 ? node.database->port : default_port(node.database->engine);
  }
  if (node.service->runtime == ServiceRuntime::bridge) {
    // A forward gets its local port like any service (0 = any free one); an intercept has none.
    if (node.service->bridge_target) return node.service->bridge_target->local_port;
    return std::nullopt;
  }
  return node.service->port;
}

}  // namespace

std::string run_key(const Project& project) {
  std::uint32_t hash = 2166136261U;
  for (const unsigned char c : project.root_file.string()) {
    hash ^= c;
    hash *= 16777619U;
  }
  std::string name;
  for (const char c : project.name) {
    name +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
  }
  if (name.empty() || name.front() == '.') name = "project" + name;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", hash);
  return name + "-" + hex;
}

std::string substitute_port(std::string_view target, int from, int to) {
  std::string out(target);
  const std::string to_text = std::to_string(to);
  for (const std::string placeholder : {"${PORT}", "$PORT"}) {
    for (auto at = out.find(placeholder); at != std::string::npos; at = out.find(placeholder)) {
      out.replace(at, placeholder.size(), to_text);
    }
  }
  if (from == to || from <= 0) return out;
  const std::string from_text = std::to_string(from);
  for (const std::string host : {"localhost:", "127.0.0.1:", "[::1]:", "0.0.0.0:"}) {
    const std::string needle = host + from_text;
    for (auto at = out.find(needle); at != std::string::npos; at = out.find(needle, at + 1)) {
      const std::size_t end = at + needle.size();
      // "localhost:80" must not match "localhost:8080".
      if (end < out.size() && std::isdigit(static_cast<unsigned char>(out[end]))) continue;
      const bool boundary = at == 0 || out[at - 1] == '/' || out[at - 1] == '@';
      if (!boundary) continue;
      out.replace(at + host.size(), from_text.size(), to_text);
    }
  }
  return out;
}

Plan build_plan(Context& context, const Project& project, const UpOptions& options,
                bool resolve_env, const std::map<std::string, int>* pinned_ports) {
  Plan plan;
  plan.up.project = project.name;
  plan.run_key = run_key(project);

  // 1. Nodes, in declaration order: databases, then services.
  std::vector<NodePlan> all;
  std::map<std::string, std::size_t, std::less<>> index;
  auto add = [&](NodePlan node) {
    const std::string name = node.planned.name;
    if (!index.emplace(name, all.size()).second) {
      throw Error(ErrorCode::config_invalid, "'" + name + "' names both a database and a service",
                  "rename one of them: node names must be unique");
    }
    all.push_back(std::move(node));
  };
  for (const auto& db : project.databases) {
    NodePlan node;
    node.run_key = plan.run_key;
    node.database = &db;
    node.project = &project;
    node.planned.name = db.name.empty() ? std::string(to_string(db.engine)) : db.name;
    node.planned.kind = NodeKind::database;
    node.planned.runtime = std::string(to_string(db.runtime));
    node.planned.cwd = db.dir.string();
    add(std::move(node));
  }
  for (const auto& svc : project.services) {
    NodePlan node;
    node.run_key = plan.run_key;
    node.service = &svc;
    node.project = &project;
    node.planned.name = svc.name;
    node.planned.kind = NodeKind::service;
    node.planned.runtime = std::string(to_string(svc.runtime));
    node.planned.argv = svc.command;
    node.planned.cwd = !svc.working_dir.empty() ? svc.working_dir
                       : !svc.dir.empty()       ? svc.dir.string()
                                                : project.root_dir.string();
    node.planned.waits_for = svc.depends_on;
    node.planned.env_sources = svc.env_sources;
    add(std::move(node));
  }
  auto deps_of = [&](const NodePlan& node) {
    std::vector<std::size_t> deps;
    for (const auto& dep : node.planned.waits_for) {
      const auto it = index.find(dep.name);
      if (it == index.end()) {
        throw Error(
            ErrorCode::config_invalid,
            "node \"" + node.planned.name + "\" depends on unknown node \"" + dep.name + "\"");
      }
      deps.push_back(it->second);
    }
    return deps;
  };

  // 2. Selection: `only` and everything it depends on.
  std::vector<bool> selected(all.size(), options.only.empty());
  std::function<void(std::size_t)> select = [&](std::size_t i) {
    if (selected[i]) return;
    selected[i] = true;
    for (const std::size_t d : deps_of(all[i])) select(d);
  };
  for (const auto& name : options.only) {
    const auto it = index.find(name);
    if (it == index.end()) {
      throw Error(ErrorCode::not_found, "no service or database named '" + name + "'",
                  "see `devx config show` for the nodes of this project");
    }
    select(it->second);
  }

  // 3. Kahn's algorithm; ties broken by declaration order (deterministic).
  std::vector<std::vector<std::size_t>> deps(all.size());
  std::vector<int> indegree(all.size(), 0);
  std::vector<std::vector<std::size_t>> users(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!selected[i]) continue;
    deps[i] = deps_of(all[i]);
    for (const std::size_t d : deps[i]) {
      ++indegree[i];
      users[d].push_back(i);
    }
  }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (selected[i] && indegree[i] == 0) ready.push(i);
  }
  std::vector<std::size_t> order;
  while (!ready.empty()) {
    const std::size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (const std::size_t u : users[i]) {
      if (--indegree[u] == 0) ready.push(u);
    }
  }
  const auto selected_count =
      static_cast<std::size_t>(std::count(selected.begin(), selected.end(), true));
  if (order.size() != selected_count) {
    // Report one actual cycle (not every node stuck behind it): walk unresolved edges.
    std::size_t start = 0;
    while (!selected[start] || indegree[start] == 0) ++start;
    std::vector<std::size_t> path;
    std::vector<int> seen(all.size(), -1);
    std::size_t at = start;
    while (seen[at] < 0) {
      seen[at] = static_cast<int>(path.size());
      path.push_back(at);
      for (const std::size_t d : deps[at]) {
        if (indegree[d] > 0) {
          at = d;
          break;
        }
      }
    }
    std::vector<std::string> names;
    for (std::size_t k = static_cast<std::size_t>(seen[at]); k < path.size(); ++k) {
      names.push_back(all[path[k]].planned.name);
    }
    names.push_back(all[at].planned.name);
    throw Error(ErrorCode::config_invalid, "dependency cycle detected: " + join(names, " -> "));
  }

  // 4. Move the selected nodes into topological order; remap edges.
  std::vector<std::size_t> position(all.size(), 0);
  for (std::size_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  for (const std::size_t i : order) plan.nodes.push_back(std::move(all[i]));
  for (std::size_t k = 0; k < order.size(); ++k) {
    for (const std::size_t d : deps[order[k]]) {
      plan.nodes[k].deps.push_back(position[d]);
      plan.nodes[position[d]].dependents.push_back(k);
    }
    int wave = 0;
    for (const std::size_t d : plan.nodes[k].deps)
      wave = std::max(wave, plan.nodes[d].planned.wave + 1);
    plan.nodes[k].planned.wave = wave;
  }

  // 5. Ports: reserve (shifting a busy one), then propagate to health targets.
  for (auto& node : plan.nodes) {
    const auto wanted = requested_port(node);
    node.planned.requested_port = wanted;
    const auto pinned = pinned_ports != nullptr ? pinned_ports->find(node.planned.name)
                                                : std::map<std::string, int>::const_iterator();
    if (wanted && pinned_ports != nullptr && pinned != pinned_ports->end()) {
      node.planned.port = pinned->second;
    } else if (wanted) {
      PortReservation reservation =
          context.ports().reserve(static_cast<std::uint16_t>(std::max(0, *wanted)));
      node.planned.port = reservation.port();
      if (*wanted > 0 && reservation.port() != *wanted) {
        plan.up.warnings.push_back(
            "port " + std::to_string(*wanted) + " is busy: " + node.planned.name + " moved to " +
            std::to_string(reservation.port()) + " (dependents get it in $" +
            env_name(node.planned.name) + "_PORT / _URL; the service in $PORT)");
      }
      node.reservation = std::move(reservation);
    }
    if (node.database != nullptr) {
      node.health = database_health(*node.planned.port);
    } else if (node.service->healthcheck) {
      node.health = *node.service->healthcheck;
      const int from = wanted.value_or(0);
      const int to = node.planned.port.value_or(0);
      if (to > 0) {
        if (!node.health->http.empty())
          node.health->http = substitute_port(node.health->http, from, to);
        if (!node.health->tcp.empty())
          node.health->tcp = substitute_port(node.health->tcp, from, to);
      }
    }
    if (node.health) node.planned.healthcheck = describe_health(*node.health);
    if (node.service != nullptr && node.service->runtime == ServiceRuntime::bridge) {
      node.planned.argv = bridge_argv(project, *node.service, node.planned.port.value_or(0));
      node.planned.bridge = describe_bridge(project, *node.service, node.planned.port);
    }
  }

  // 6. Wait reasons and environments.
  for (auto& node : plan.nodes) {
    for (std::size_t k = 0; k < node.deps.size(); ++k) {
      const NodePlan& dep = plan.nodes[node.deps[k]];
      std::string reason =
          dep.planned.name + " " + std::string(to_string(node.planned.waits_for[k].condition));
      if (node.planned.waits_for[k].condition == DependencyCondition::service_healthy &&
          !dep.planned.healthcheck.empty()) {
        reason += " (" + dep.planned.healthcheck + ")";
      }
      node.planned.wait_reasons.push_back(std::move(reason));
    }

    EnvMap env = context.env();
    std::set<std::string> names;
    for (const auto& uri : node.planned.env_sources) {
      if (!resolve_env && env_source_command(uri, env)) continue;  // a secret manager: not in plans
      EnvMap values;
      try {
        values = read_env_source(context, uri, env);
      } catch (const Error& e) {
        if (resolve_env) throw;
        plan.up.warnings.push_back(node.planned.name + ": " + e.message());
      }
      for (auto& [key, value] : values) {
        names.insert(key);
        env[key] = std::move(value);
      }
    }
    EnvMap injected;
    if (node.planned.port) injected["PORT"] = std::to_string(*node.planned.port);
    EnvMap dependency_vars;
    for (const std::size_t d : node.deps) {
      const NodePlan& dep = plan.nodes[d];
      auto vars = dependency_environment(project, dep.planned.name, dep.planned.port.value_or(0));
      if (dep.database != nullptr && resolve_env && dep.planned.port) {
        // The runtime's endpoint carries the real credentials (a generated password).
        const auto endpoint =
            runtime::database_endpoint(context, plan.run_key, *dep.database, *dep.planned.port);
        for (const auto& [key, value] : endpoint.env) vars[key] = value;
        vars[env_name(dep.planned.name) + "_URL"] = endpoint.url;
      }
      for (auto& [key, value] : vars) {
        dependency_vars.emplace(key, value);  // the first database of an engine wins DATABASE_URL
      }
    }
    for (auto& [key, value] : dependency_vars) injected[key] = value;
    injected["DEVX_PROJECT"] = project.name;
    injected["DEVX_SERVICE"] = node.planned.name;
    if (node.service != nullptr) {
      const Lookup lookup = [&](std::string_view name) -> std::optional<std::string> {
        if (auto it = injected.find(std::string(name)); it != injected.end()) return it->second;
        if (auto it = env.find(std::string(name)); it != env.end()) return it->second;
        return std::nullopt;
      };
      EnvMap own;
      for (const auto& [key, value] : node.service->env) own[key] = expand_variables(value, lookup);
      for (auto& [key, value] : own) {
        names.insert(key);
        env[key] = std::move(value);
      }
    }
    for (auto& [key, value] : injected) {
      names.insert(key);
      env[key] = std::move(value);
    }
    node.planned.env_names.assign(names.begin(), names.end());
    if (resolve_env) node.env = std::move(env);
  }

  for (const auto& node : plan.nodes) plan.up.nodes.push_back(node.planned);
  return plan;
}

namespace {

// The routes `up` adds for the project's `tunnels:` (lib/orchestrator/tunnel_runtime.cpp),
// from devx.yaml alone: names, hostnames and layers as lib/tunnel computes them, the port of the
// node listening there after shifting. Problems become warnings, as they do at `up`.
void plan_tunnel_routes(const Context& context, const Project& project, UpPlan& plan) {
  if (project.tunnels.empty()) return;
  const std::string zone = tunnel::project_zone(context, project);
  std::vector<tunnel::ProjectRoute> routes;
  try {
    if (zone.empty()) {
      // The entries are still checked (against a placeholder zone); no hostname is shown.
      routes = tunnel::project_routes(project, "zone.invalid");
      for (auto& r : routes) r.hostname.clear();
      plan.warnings.push_back(
          "tunnels: no zone is known, so no route will be added; set `domain:` in devx.yaml or "
          "DEVX_TUNNEL_ZONE");
    } else {
      routes = tunnel::project_routes(project, zone);
    }
  } catch (const Error& e) {
    plan.warnings.push_back("tunnels: " + e.message());
    return;
  }
  for (const auto& route : routes) {
    PlannedTunnelRoute planned;
    planned.name = route.name;
    planned.hostname = route.hostname;
    planned.port = route.config->port;
    planned.layers = route.layers;
    for (const auto& node : plan.nodes) {
      if (node.requested_port == route.config->port) {
        planned.service = node.name;
        if (node.port) planned.port = *node.port;
        break;
      }
    }
    plan.tunnels.push_back(std::move(planned));
  }
}

}  // namespace

}  // namespace orchestrator

std::map<std::string, std::string> dependency_environment(const Project& project,
                                                          std::string_view node, int port) {
  std::map<std::string, std::string> env;
  const std::string prefix = orchestrator::env_name(node);
  env[prefix + "_HOST"] = "127.0.0.1";
  if (port <= 0) return env;
  env[prefix + "_PORT"] = std::to_string(port);
  const Database* db = project.find_database(node);
  if (db == nullptr) {
    for (const auto& candidate : project.databases) {
      if (candidate.name.empty() && to_string(candidate.engine) == node) db = &candidate;
    }
  }
  if (db != nullptr && project.find_service(node) == nullptr) {
    const std::string url = orchestrator::database_url(*db, port);
    env[prefix + "_URL"] = url;
    env[orchestrator::database_url_variable(db->engine)] = url;
  } else {
    env[prefix + "_URL"] = "http://127.0.0.1:" + std::to_string(port);
  }
  // A forwarded Service is also known by its own name, with the formula of `devx bridge env`.
  if (const Service* s = project.find_service(node); s != nullptr && s->bridge_target) {
    std::string ns = s->bridge_target->namespace_;
    if (ns.empty() && project.bridge) ns = project.bridge->namespace_;
    const std::string bridge = bridge_env_prefix(s->bridge_target->service, ns, false);
    env[bridge + "_URL"] = "http://127.0.0.1:" + std::to_string(port);
    env[bridge + "_HOST"] = "127.0.0.1";
    env[bridge + "_PORT"] = std::to_string(port);
  }
  return env;
}

std::string UpPlan::to_json() const {
  boost::json::object out;
  out["v"] = 1;
  out["project"] = project;
  boost::json::array list;
  for (const auto& node : nodes) {
    boost::json::object n;
    n["name"] = node.name;
    n["kind"] = node.kind == NodeKind::service ? "service" : "database";
    n["runtime"] = node.runtime;
    if (!node.bridge.empty()) n["bridge"] = node.bridge;
    boost::json::array argv;
    for (const auto& a : node.argv) argv.emplace_back(a);
    n["argv"] = std::move(argv);
    n["cwd"] = node.cwd;
    n["requested_port"] = node.requested_port ? boost::json::value(*node.requested_port) : nullptr;
    n["port"] = node.port ? boost::json::value(*node.port) : nullptr;
    boost::json::array waits;
    for (std::size_t k = 0; k < node.waits_for.size(); ++k) {
      boost::json::object w;
      w["name"] = node.waits_for[k].name;
      w["condition"] = to_string(node.waits_for[k].condition);
      if (k < node.wait_reasons.size()) w["reason"] = node.wait_reasons[k];
      waits.push_back(std::move(w));
    }
    n["waits_for"] = std::move(waits);
    boost::json::array names;
    for (const auto& e : node.env_names) names.emplace_back(e);
    n["env_names"] = std::move(names);
    boost::json::array sources;
    for (const auto& e : node.env_sources) sources.emplace_back(e);
    n["env_sources"] = std::move(sources);
    n["healthcheck"] = node.healthcheck.empty() ? boost::json::value(nullptr)
                                                : boost::json::value(node.healthcheck);
    n["wave"] = node.wave;
    list.push_back(std::move(n));
  }
  out["nodes"] = std::move(list);
  if (!tunnels.empty()) {
    boost::json::array routes;
    for (const auto& t : tunnels) {
      boost::json::array layers;
      for (const auto& l : t.layers) layers.emplace_back(l);
      routes.push_back(boost::json::object{
          {"name", t.name},
          {"service",
           t.service.empty() ? boost::json::value(nullptr) : boost::json::value(t.service)},
          {"hostname",
           t.hostname.empty() ? boost::json::value(nullptr) : boost::json::value(t.hostname)},
          {"port", t.port},
          {"layers", std::move(layers)}});
    }
    out["tunnels"] = std::move(routes);
  }
  boost::json::array warning_list;
  for (const auto& w : warnings) warning_list.emplace_back(w);
  out["warnings"] = std::move(warning_list);
  return core::to_json_string(out);
}

UpPlan plan_up(Context& context, const Project& project, const UpOptions& options) {
  UpPlan plan = orchestrator::build_plan(context, project, options, false).up;
  orchestrator::plan_tunnel_routes(context, project, plan);
  return plan;
}

std::map<std::string, std::string> service_environment(Context& context, const Project& project,
                                                       std::string_view service,
                                                       const std::map<std::string, int>& ports) {
  UpOptions options;
  options.only.emplace_back(service);
  auto plan = orchestrator::build_plan(context, project, options, true, &ports);
  for (auto& node : plan.nodes) {
    if (node.planned.name == service) return std::move(node.env);
  }
  throw Error(ErrorCode::not_found, "no service or database named '" + std::string(service) + "'");
}

std::filesystem::path run_directory(const Context& context, const Project& project) {
  return context.home() / "run" / orchestrator::run_key(project);
}

}  // namespace devx
