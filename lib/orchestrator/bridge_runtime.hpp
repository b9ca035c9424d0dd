#pragma once
// `runtime: bridge` services in the graph: a bridge_target node is a connect session with one
// forward on the node's planned port (reserved with every other port of the plan, so dependents
// know it before it starts); a bridge_intercept node is an intercept session. launch() returns
// once the bridge is ready, which makes the node ready; stop() undoes it.
#include <devx/config.hpp>

#include <memory>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"

namespace devx::orchestrator {

std::shared_ptr<runtime::NodeRuntime> make_bridge_runtime(const Project& project,
                                                          const Service& service);

// What a bridge node does, for plans: "connect staging/payments-api:8080 → 127.0.0.1:PORT".
std::string describe_bridge(const Project& project, const Service& service,
                            std::optional<int> port);

// The kubectl argv a bridge_target node runs (plans show it); empty for intercepts.
std::vector<std::string> bridge_argv(const Project& project, const Service& service,
                                     int local_port);

}  // namespace devx::orchestrator
