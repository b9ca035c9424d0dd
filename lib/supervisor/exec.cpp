// exec_in_service / project_command: what `devx exec` and `devx run` execute, with which
// environment and working directory. The environment formulas are the orchestrator's
// (service_environment); containers go through the engine adapter's exec argv.
#include <devx/bridge.hpp>
#include <devx/error.hpp>
#include <devx/supervisor.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/json.hpp"
#include "orchestrator/environment.hpp"
#include "runtime/container_engine.hpp"

namespace devx {
namespace {

namespace json = boost::json;

struct RunningNode {
  std::string container;
  bool running = false;
};

// Ports of the running nodes (pinned for the environment) and the node's container.
RunningNode running_node(Context& context, const Project& project, const std::string& name,
                         std::map<std::string, int>& ports) {
  RunningNode found;
  RunClient client = connect_run(context, project);
  if (!client.running()) return found;
  const json::value doc = core::parse_json_or_null(client.status_json());
  if (!doc.is_object()) return found;
  const auto* services = doc.get_object().if_contains("services");
  if (services == nullptr || !services->is_array()) return found;
  for (const auto& s : services->get_array()) {
    if (!s.is_object()) continue;
    const auto& o = s.get_object();
    const auto* n = o.if_contains("name");
    if (n == nullptr || !n->is_string()) continue;
    const std::string node(n->get_string());
    if (const auto* p = o.if_contains("port"); p != nullptr && p->is_int64()) {
      ports[node] = static_cast<int>(p->get_int64());
    }
    if (node == name) {
      found.running = true;
      if (const auto* c = o.if_contains("container"); c != nullptr && c->is_string()) {
        found.container = std::string(c->get_string());
      }
    }
  }
  return found;
}

}  // namespace

ExecSpec exec_in_service(Context& context, const Project& project, const std::string& service,
                         std::vector<std::string> command, bool tty) {
  if (command.empty()) {
    throw Error(ErrorCode::invalid_argument, "no command given",
                "usage: devx exec <service> -- command [args…]");
  }
  const Service* svc = project.find_service(service);
  const Database* db = svc == nullptr ? project.find_database(service) : nullptr;
  if (svc == nullptr && db == nullptr) {
    throw Error(ErrorCode::not_found, "no service or database named '" + service + "'",
                "see `devx ps` or `devx config show`");
  }
  std::map<std::string, int> ports;
  const RunningNode node = running_node(context, project, service, ports);
  const bool in_container =
      !node.container.empty() || (svc != nullptr && svc->runtime == ServiceRuntime::container);
  ExecSpec spec;
  if (in_container) {
    if (node.container.empty()) {
      throw Error(ErrorCode::not_found, "service '" + service + "' is not running",
                  "start it with `devx up " + service + "`; exec runs inside its container");
    }
    const auto engine = runtime::ContainerEngine::detect_or_throw(context);
    runtime::ExecOptions options;
    options.interactive = true;
    options.tty = tty;
    spec.argv = engine.exec_argv(node.container, command, options);
    spec.env = context.env();
    spec.cwd = project.root_dir;
    return spec;
  }
  spec.argv = std::move(command);
  spec.env = service_environment(context, project, service, ports);
  if (svc != nullptr) {
    spec.cwd = !svc->working_dir.empty() ? std::filesystem::path(svc->working_dir)
               : !svc->dir.empty()       ? svc->dir
                                         : project.root_dir;
  } else {
    spec.cwd = !db->dir.empty() ? db->dir : project.root_dir;
  }
  return spec;
}

ExecSpec project_command(Context& context, const Project& project,
                         std::vector<std::string> command) {
  if (command.empty()) {
    throw Error(ErrorCode::invalid_argument, "no command given", "usage: devx run -- command…");
  }
  ExecSpec spec;
  spec.argv = std::move(command);
  orchestrator::EnvMap env = context.env();
  for (const auto& uri : project.env) {
    for (auto& [key, value] : orchestrator::read_env_source(context, uri, env)) env[key] = value;
  }
  // Live `devx bridge connect` forwards: remote Services under their BRIDGE_* names.
  for (auto& [key, value] : bridge_environment(context)) env.emplace(key, value);
  env["DEVX_PROJECT"] = project.name;
  spec.env = std::move(env);
  std::error_code ec;
  spec.cwd = std::filesystem::current_path(ec);
  return spec;
}

}  // namespace devx
