#pragma once
// The internal plan: the public UpPlan plus what execution needs (full environment values,
// substituted health checks, port reservations held until launch, graph edges by index).
#include <devx/orchestrator.hpp>
#include <devx/ports.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace devx::orchestrator {

struct NodePlan {
  PlannedNode planned;
  const Service* service = nullptr;  // exactly one of service / database is set
  const Database* database = nullptr;
  const Project* project = nullptr;   // the project both point into
  std::optional<HealthCheck> health;  // targets rewritten to the shifted port
  std::vector<std::size_t> deps;      // indices into Plan::nodes, same order as planned.waits_for
  std::vector<std::size_t> dependents;
  std::map<std::string, std::string> env;  // complete environment (holds secrets: never printed)
  std::optional<PortReservation> reservation;  // held until the node launches
  std::string run_key;
};

struct Plan {
  UpPlan up;                    // public view (node order = topological order = nodes order)
  std::vector<NodePlan> nodes;  // same order as up.nodes
  std::string run_key;          // <name>-<8 hex>
};

// Builds the plan. With `resolve_env`, environment sources are read (secret managers are called)
// and NodePlan::env is complete; without, only names known without contacting anything are listed.
// Ports are reserved; the reservations are kept in the returned plan.
// `pinned_ports` (node → port) are taken as they are, without reserving or shifting: the ports
// of a project that is already up (service_environment).
Plan build_plan(Context& context, const Project& project, const UpOptions& options,
                bool resolve_env, const std::map<std::string, int>* pinned_ports = nullptr);

// "<name>-<8 hex of FNV-1a(root_file)>", name restricted to [A-Za-z0-9._-].
std::string run_key(const Project& project);

// Rewrites `target` (an http URL or a tcp host:port) naming `from` on localhost/127.0.0.1/[::1]
// (or ${PORT}) to `to`.
std::string substitute_port(std::string_view target, int from, int to);

}  // namespace devx::orchestrator
