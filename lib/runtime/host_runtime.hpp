#pragma once
// The host runtime: a service is a process group started through Context::commands().spawn(),
// with exactly the environment the orchestrator computed (nothing inherited), its output streamed
// line by line to LaunchSpec::on_line.
#include <memory>

#include "runtime/runtime.hpp"

namespace devx::runtime {

std::shared_ptr<NodeRuntime> make_host_runtime();

}  // namespace devx::runtime
