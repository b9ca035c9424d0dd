#include "config/validate.hpp"

#include "config/suggest.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <tuple>
#include <string_view>

namespace devx::config {
namespace {

bool is_identifier(std::string_view name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool is_dns_label(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string where(const SourceLocation& location) {
  return location.file + ":" + std::to_string(location.line) + ":" + std::to_string(location.column);
}

class Validator {
 public:
  struct Node {
    SourceLocation location;
    bool is_database;
    const Service* service;  // nullptr for a database
  };

  Validator(Project& project, std::vector<Diagnostic>& diagnostics)
      : project_(project), diagnostics_(diagnostics) {}

  void run() {
    collect_nodes();
    for (Service& service : project_.services) check_service(service);
    for (Database& database : project_.databases) check_database(database);
    check_tunnels();
    check_mocks();
    if (project_.bridge) check_bridge(*project_.bridge);
    check_dependencies();
    check_cycles();
    check_port_collisions();
  }

 private:
  void error(const SourceLocation& location, std::string message, std::string hint = {}) {
    diagnostics_.push_back({Severity::error, location, std::move(message), std::move(hint)});
  }
  void warning(const SourceLocation& location, std::string message, std::string hint = {}) {
    diagnostics_.push_back({Severity::warning, location, std::move(message), std::move(hint)});
  }
  SourceLocation root_location() const { return {project_.root_file.string(), 0, 0}; }

  void check_port(const SourceLocation& location, std::string_view what, int port, bool zero_ok) {
    if ((port == 0 && zero_ok) || (port >= 1 && port <= 65535)) return;
    error(location, std::string(what) + " " + std::to_string(port) + " is out of range",
          zero_ok ? "use 0 (any free port) or 1-65535" : "use a port from 1 to 65535");
  }

  // Services and databases share one namespace: they are the nodes of the graph. A duplicate is
  // reported at the later of the two declarations, in load order.
  void collect_nodes() {
    struct Declaration {
      std::size_t file_index;
      const SourceLocation* location;
      const std::string* name;
      bool is_database;
      const Service* service;
    };
    std::vector<Declaration> declarations;
    auto file_index = [&](const std::string& file) {
      auto it = std::find(project_.files.begin(), project_.files.end(), file);
      return static_cast<std::size_t>(it - project_.files.begin());
    };
    for (const Service& service : project_.services) {
      if (service.name.empty()) continue;  // reported as a missing key
      if (!is_identifier(service.name))
        error(service.location, "invalid service name '" + service.name + "'",
              "use letters, digits, '-', '_' and '.', starting with a letter or digit");
      declarations.push_back(
          {file_index(service.location.file), &service.location, &service.name, false, &service});
    }
    for (const Database& database : project_.databases)
      declarations.push_back(
          {file_index(database.location.file), &database.location, &database.name, true, nullptr});
    std::stable_sort(declarations.begin(), declarations.end(), [](const Declaration& a, const Declaration& b) {
      return std::tie(a.file_index, a.location->line, a.location->column) <
             std::tie(b.file_index, b.location->line, b.location->column);
    });
    for (const Declaration& d : declarations) {
      auto [it, inserted] = nodes_.emplace(*d.name, Node{*d.location, d.is_database, d.service});
      if (!inserted)
        error(*d.location,
              std::string(d.is_database ? "database" : "service") + " '" + *d.name + "' is already defined",
              "first defined at " + where(it->second.location) +
                  "; services and databases share one namespace — rename one");
    }
  }

  void check_service(Service& service) {
    if (service.name.empty()) return;  // not a usable entry; already reported
    const SourceLocation& at = service.location;
    const std::string label = "service '" + service.name + "'";
    if (service.port) check_port(at, label + " port", *service.port, false);
    if (service.container_port) check_port(at, label + " container_port", *service.container_port, false);
    if (service.healthcheck) check_healthcheck(service, *service.healthcheck);
    switch (service.runtime) {
      case ServiceRuntime::host:
        if (service.command.empty() && !service.healthcheck)
          error(at, label + " has no command", "set command, or a healthcheck for a service started elsewhere");
        break;
      case ServiceRuntime::container:
        if (service.image.empty()) error(at, label + " has runtime: container but no image");
        break;
      case ServiceRuntime::kubernetes:
      case ServiceRuntime::cloud:
        error(at,
              label + " uses runtime: " + std::string(to_string(service.runtime)) +
                  ", which is not supported yet",
              "use host, container or bridge");
        break;
      case ServiceRuntime::bridge:
        check_bridge_service(service);
        break;
    }
    if (service.runtime != ServiceRuntime::container) {
      if (!service.image.empty()) error(at, label + ": image is only used with runtime: container");
      if (service.container_port) error(at, label + ": container_port is only used with runtime: container");
    }
    if (service.runtime != ServiceRuntime::bridge && (service.bridge_target || service.bridge_intercept))
      error(at, label + ": bridge_target and bridge_intercept need runtime: bridge");
  }

  void check_bridge_service(Service& service) {
    const SourceLocation& at = service.location;
    const std::string label = "service '" + service.name + "'";
    if (!service.bridge_target && !service.bridge_intercept) {
      error(at, label + " has runtime: bridge but neither bridge_target nor bridge_intercept");
    } else if (service.bridge_target && service.bridge_intercept) {
      error(at, label + " cannot have both bridge_target and bridge_intercept",
            "use one service for each");
    }
    if (!project_.bridge)
      error(at, label + " uses runtime: bridge but devx.yaml has no top-level bridge: section");
    if (service.bridge_target) {
      check_port(at, label + " bridge_target.port", service.bridge_target->port, false);
      check_port(at, label + " bridge_target.local_port", service.bridge_target->local_port, true);
    }
    if (service.bridge_intercept) check_intercept(at, label + " bridge_intercept", *service.bridge_intercept);
    if (!service.command.empty()) warning(at, label + ": command is not used with runtime: bridge");
  }

  void check_intercept(const SourceLocation& at, const std::string& label, BridgeIntercept& intercept) {
    check_port(at, label + ".port", intercept.port, false);
    check_port(at, label + ".local_port", intercept.local_port, true);
    if (intercept.local_port == 0) intercept.local_port = intercept.port;
    if (intercept.mode != "steal")
      error(at, label + ".mode must be 'steal'", "mirror mode is not implemented yet");
  }

  void check_healthcheck(const Service& service, const HealthCheck& check) {
    const SourceLocation& at = check.location.line ? check.location : service.location;
    const std::string label = "service '" + service.name + "' healthcheck";
    const int kinds = !check.http.empty() + !check.tcp.empty() + !check.exec.empty() + !check.log.empty();
    if (kinds != 1)
      error(at, label + (kinds ? " sets several probe kinds" : " sets no probe kind"),
            "set exactly one of http, tcp, exec, log");
    if (!check.http.empty() && check.http.rfind("http://", 0) != 0 && check.http.rfind("https://", 0) != 0)
      error(at, label + ": http must be a URL starting with http:// or https://");
    if (!check.tcp.empty()) {
      const auto colon = check.tcp.rfind(':');
      const std::string port = colon == std::string::npos ? "" : check.tcp.substr(colon + 1);
      const bool numeric = !port.empty() && port.size() <= 5 &&
                           port.find_first_not_of("0123456789") == std::string::npos;
      if (colon == 0 || !numeric || std::stoi(port) < 1 || std::stoi(port) > 65535)
        error(at, label + ": tcp must be host:port, got '" + check.tcp + "'");
    }
    if (!check.log.empty()) {
      try {
        std::regex pattern(check.log);
      } catch (const std::regex_error& e) {
        error(at, label + ": invalid log pattern: " + e.what());
      }
    }
    if (check.interval.count() <= 0) error(at, label + ": interval must be positive");
    if (check.timeout.count() <= 0) error(at, label + ": timeout must be positive");
    if (check.retries < 1) error(at, label + ": retries must be at least 1");
  }

  void check_database(Database& database) {
    const std::string label = "database '" + database.name + "'";
    if (!is_identifier(database.name)) error(database.location, "invalid database name '" + database.name + "'");
    check_port(database.location, label + " port", database.port, true);
    if (database.port == 0) database.port = default_port(database.engine);
    if (database.pull) {
      if (database.pull->format != "sql" && database.pull->format != "custom")
        error(database.location, label + ": pull.format must be sql or custom");
      if (database.pull->format == "custom" && database.engine != DatabaseEngine::postgres)
        error(database.location, label + ": pull.format custom needs engine postgres");
      if (database.pull->jobs < 0) error(database.location, label + ": pull.jobs must not be negative");
    }
  }

  void check_tunnels() {
    std::map<std::string, SourceLocation> seen;
    for (Tunnel& tunnel : project_.tunnels) {
      const std::string label = "tunnel '" + tunnel.name + "'";
      check_port(tunnel.location, label + " port", tunnel.port, false);
      if (!tunnel.name.empty() && !is_dns_label(tunnel.name))
        error(tunnel.location, "invalid tunnel name '" + tunnel.name + "'",
              "use lower-case letters, digits and '-' (it becomes a DNS label)");
      if (!tunnel.basic_auth.empty() && tunnel.basic_auth.find(':') == std::string::npos)
        error(tunnel.location, label + ": basic_auth must be user:password");
      if (auto [it, inserted] = seen.emplace(tunnel.name, tunnel.location); !inserted)
        error(tunnel.location, label + " is already defined", "first defined at " + where(it->second));
    }
  }

  void check_mocks() {
    std::map<std::string, SourceLocation> seen;
    for (const Mock& mock : project_.mocks) {
      if (mock.name.empty()) continue;
      if (!is_identifier(mock.name)) error(mock.location, "invalid mock name '" + mock.name + "'");
      check_port(mock.location, "mock '" + mock.name + "' port", mock.port, true);
      if (auto [it, inserted] = seen.emplace(mock.name, mock.location); !inserted)
        error(mock.location, "mock '" + mock.name + "' is already defined",
              "first defined at " + where(it->second));
    }
  }

  void check_bridge(BridgeConfig& bridge) {
    for (const BridgeTarget& target : bridge.targets) {
      check_port(bridge.location, "bridge target '" + target.service + "' port", target.port, false);
      check_port(bridge.location, "bridge target '" + target.service + "' local_port", target.local_port, true);
    }
    for (BridgeIntercept& intercept : bridge.intercepts)
      check_intercept(bridge.location, "bridge intercept '" + intercept.service + "'", intercept);
  }

  void check_dependencies() {
    std::vector<std::string_view> names;
    for (const auto& [name, node] : nodes_) names.push_back(name);
    for (Service& service : project_.services) {
      std::set<std::string> seen;
      for (Dependency& dependency : service.depends_on) {
        const SourceLocation& at = dependency.location;
        if (dependency.name.empty()) {
          error(at, "service '" + service.name + "' has a dependency without a name");
          continue;
        }
        if (!seen.insert(dependency.name).second)
          error(at, "service '" + service.name + "' depends on '" + dependency.name + "' twice");
        auto node = nodes_.find(dependency.name);
        if (node == nodes_.end()) {
          const std::string suggestion = closest_match(dependency.name, names);
          error(at, "service '" + service.name + "' depends on unknown service '" + dependency.name + "'",
                suggestion.empty() ? "define it under services: or databases:"
                                   : "did you mean '" + suggestion + "'?");
          continue;
        }
        resolve_condition(service, dependency, node->second);
      }
    }
  }

  void resolve_condition(const Service& service, Dependency& dependency, const Node& target) {
    const bool on_database = target.is_database;
    const bool has_check = on_database || target.service->healthcheck ||
                           target.service->runtime == ServiceRuntime::bridge;
    if (!dependency.condition_declared) {
      dependency.condition =
          has_check ? DependencyCondition::service_healthy : DependencyCondition::service_started;
      return;
    }
    const std::string edge = "service '" + service.name + "' → '" + dependency.name + "'";
    if (dependency.condition == DependencyCondition::service_healthy && !has_check)
      error(dependency.location, edge + ": condition service_healthy, but '" + dependency.name + "' has no healthcheck",
            "add a healthcheck to '" + dependency.name + "' or use service_started");
    if (dependency.condition == DependencyCondition::service_completed_successfully && on_database)
      error(dependency.location, edge + ": a database never completes",
            "use service_healthy or service_started");
  }

  // Reports every elementary cycle reachable in declaration order once, as the cycle itself.
  void check_cycles() {
    std::map<std::string, const Service*> services;
    for (const Service& service : project_.services) services.emplace(service.name, &service);
    std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
    std::vector<std::pair<std::string, const Dependency*>> stack;
    std::set<std::string> reported;
    std::function<void(const Service&)> visit = [&](const Service& service) {
      state[service.name] = 1;
      for (const Dependency& dependency : service.depends_on) {
        auto target = services.find(dependency.name);
        if (target == services.end()) continue;  // databases have no edges; unknown reported
        stack.emplace_back(service.name, &dependency);
        const int target_state = state[dependency.name];
        if (target_state == 1) {
          auto start = std::find_if(stack.begin(), stack.end(),
                                    [&](const auto& entry) { return entry.first == dependency.name; });
          std::string text;
          std::vector<std::string> members;
          for (auto it = start; it != stack.end(); ++it) {
            text += it->first + " -> ";
            members.push_back(it->first);
          }
          text += dependency.name;
          std::sort(members.begin(), members.end());
          std::string key;
          for (const auto& m : members) key += m + "\n";
          if (reported.insert(key).second)
            error(start->second->location, "dependency cycle: " + text,
                  "remove one of these depends_on entries");
        } else if (target_state == 0) {
          visit(*target->second);
        }
        stack.pop_back();
      }
      state[service.name] = 2;
    };
    for (const Service& service : project_.services)
      if (state[service.name] == 0) visit(service);
  }

  void check_port_collisions() {
    std::map<int, std::string> owners;
    auto claim = [&](int port, const std::string& owner, const SourceLocation& at) {
      if (port <= 0) return;
      auto [it, inserted] = owners.emplace(port, owner);
      if (!inserted)
        warning(at, owner + " asks for port " + std::to_string(port) + ", as does " + it->second,
                "devx up will shift one of them to a free port");
    };
    for (const Database& database : project_.databases)
      claim(database.port, "database '" + database.name + "'", database.location);
    for (const Service& service : project_.services)
      if (service.port && service.runtime != ServiceRuntime::bridge)
        claim(*service.port, "service '" + service.name + "'", service.location);
  }

  Project& project_;
  std::vector<Diagnostic>& diagnostics_;
  std::map<std::string, Node> nodes_;
};

}  // namespace

void apply_name_default(Database& database) {
  if (database.name.empty()) database.name = std::string(to_string(database.engine));
}

void apply_name_default(Tunnel& tunnel) {
  if (tunnel.name.empty() && tunnel.port > 0) tunnel.name = "port-" + std::to_string(tunnel.port);
}

void validate_project(Project& project, std::vector<Diagnostic>& diagnostics) {
  Validator(project, diagnostics).run();
}

}  // namespace devx::config
