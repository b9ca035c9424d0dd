#pragma once
// Waking the dev VM before containers start (`devx up`): a stopped VM would make every container
// command fail, and the Go tool's version of this asked to *create* a missing VM even with -y.
#include <devx/context.hpp>

#include <filesystem>

namespace devx::vm {

// When the project's containers run in a VM that devx manages (podman machine, Lima, Colima, as
// resolved for `project_dir` without prompting) and that VM exists but is stopped, starts it and
// returns true. Never creates or prompts: an ambiguous or missing provider, a VM that does not
// exist, the host, Docker Desktop and OrbStack leave things as they are (false) — the container
// engine then reports its own error. A failed start is an Error naming the VM.
bool resume_for_containers(Context& context, const std::filesystem::path& project_dir);

}  // namespace devx::vm
