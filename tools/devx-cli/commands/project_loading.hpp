#pragma once
// How every command that needs devx.yaml finds and loads it: `-f FILE` or a walk up from the
// working directory, then the library's loader. Warnings are shown on stderr.
#include <devx/config.hpp>

#include <filesystem>
#include <string>

#include "output.hpp"

namespace CLI {
class App;
}

namespace devx::cli {

struct ProjectFlags {
  std::string file;     // -f/--file; empty: search upwards from the working directory
  std::string profile;  // --profile
};

void add_project_flags(CLI::App& command, ProjectFlags& flags);
// Without the -f short form (for `devx logs`, where -f means --follow): only --file.
void add_project_flags(CLI::App& command, ProjectFlags& flags, bool short_file_flag);

// The absolute devx.yaml to load. Throws Error(config_not_found).
std::filesystem::path resolve_project_file(Output& out, const ProjectFlags& flags);

devx::LoadOptions load_options(const ProjectFlags& flags);

// Loads and validates; prints warnings; throws Error(config_invalid) with the diagnostics.
devx::Project load_project_for_command(Output& out, const ProjectFlags& flags);

}  // namespace devx::cli
