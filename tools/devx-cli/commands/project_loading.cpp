#include "commands/project_loading.hpp"

#include <CLI/CLI.hpp>

#include <system_error>

namespace devx::cli {

void add_project_flags(CLI::App& command, ProjectFlags& flags) {
  add_project_flags(command, flags, true);
}

void add_project_flags(CLI::App& command, ProjectFlags& flags, bool short_file_flag) {
  command.add_option(short_file_flag ? "-f,--file" : "--file", flags.file,
                     "devx.yaml to use (default: found by walking up from the current directory)");
  command.add_option("--profile", flags.profile, "Apply this profile from devx.yaml");
}

std::filesystem::path resolve_project_file(Output& out, const ProjectFlags& flags) {
  std::error_code ec;
  if (!flags.file.empty()) {
    const auto path = std::filesystem::absolute(flags.file, ec).lexically_normal();
    if (!std::filesystem::exists(path, ec)) {
      throw devx::Error(devx::ErrorCode::config_not_found, "no such file: " + flags.file,
                        "check the path given to -f/--file");
    }
    return std::filesystem::is_directory(path, ec) ? devx::find_project_file(path) : path;
  }
  const auto cwd = std::filesystem::current_path();
  auto file = devx::find_project_file(cwd);
  if (file.parent_path() != cwd) out.status("Using devx.yaml from " + file.parent_path().string());
  return file;
}

devx::LoadOptions load_options(const ProjectFlags& flags) {
  devx::LoadOptions options;
  options.profile = flags.profile;
  return options;
}

devx::Project load_project_for_command(Output& out, const ProjectFlags& flags) {
  const auto file = resolve_project_file(out, flags);
  out.verbose(1, "loading " + file.string());
  auto result = devx::load_project(file, load_options(flags));
  if (!result.ok()) throw devx::config_error(result.diagnostics);
  std::vector<devx::Diagnostic> warnings;
  for (const auto& d : result.diagnostics) {
    if (d.severity == devx::Severity::warning) warnings.push_back(d);
  }
  if (!out.options().quiet) out.diagnostics(diagnostic_lines(warnings));
  return std::move(*result.project);
}

}  // namespace devx::cli
