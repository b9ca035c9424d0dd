#pragma once
// Internal construction of a Session with an explicit runtime choice (tests, and the wiring of
// the container / database runtimes).
#include <devx/orchestrator.hpp>

#include <functional>
#include <memory>

#include "orchestrator/plan.hpp"
#include "runtime/runtime.hpp"

namespace devx::orchestrator {

// Returns the runtime that runs `node`, or throws Error(unsupported).
using RuntimeFactory =
    std::function<std::shared_ptr<runtime::NodeRuntime>(Context&, NodePlan& node)>;

// host services → the host runtime (no command: nothing runs); container services → the
// container runtime (Podman/Docker, `container_engine` or detected); databases → host server or
// container (runtime::choose_database_runtime) with the engine's readiness probe; bridge →
// Error(unsupported).
RuntimeFactory default_runtime_factory(std::string container_engine);

std::shared_ptr<Session> create_session(Context& context, Project project, UpOptions options,
                                        RuntimeFactory factory);

}  // namespace devx::orchestrator
