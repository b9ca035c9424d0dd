#pragma once
#include <devx/config.hpp>

#include <vector>

namespace devx::config {

// Names that default from other keys: a database is named after its engine, a tunnel after its
// port ("port-8080").
void apply_name_default(Database& database);
void apply_name_default(Tunnel& tunnel);

// Rules that span entries or files: unique names, dependencies and cycles, runtime-specific keys,
// port ranges, health checks. Also resolves defaults that depend on other entries (dependency
// conditions, database ports).
void validate_project(Project& project, std::vector<Diagnostic>& diagnostics);

}  // namespace devx::config
