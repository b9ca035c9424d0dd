// devx exec <service> -- command… — the command with the service's environment and working
// directory (containers: `podman exec`), in place of devx: its exit status is passed through.
// `devx exec tailscale -- ARGS…` is the mesh's passthrough (`devx mesh exec`) unless the project
// has a service or database called tailscale; it needs no devx.yaml.
#include <devx/supervisor.hpp>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/net_common.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct ExecFlags {
  ProjectFlags project;
  std::string service;
  std::vector<std::string> command;
};

json::object dry_run_doc(const devx::ExecSpec& spec) {
  json::array argv;
  for (const auto& a : spec.argv) argv.emplace_back(a);
  json::array names;  // names only: values may be secrets
  for (const auto& [k, v] : spec.env) names.emplace_back(k);
  return json::object{{"v", 1},
                      {"dry_run", true},
                      {"argv", std::move(argv)},
                      {"cwd", spec.cwd.string()},
                      {"env_names", std::move(names)}};
}

// True when `devx exec tailscale` means the dev VM's tailscale: no project here, or one without
// a node of that name. A devx.yaml that exists but does not load is reported, not bypassed.
bool is_tailscale_passthrough(Output& out, const ExecFlags& flags) {
  if (flags.service != "tailscale") return false;
  try {
    resolve_project_file(out, flags.project);
  } catch (const devx::Error& error) {
    if (error.code() == devx::ErrorCode::config_not_found) return true;
    throw;
  }
  const auto project = load_project_for_command(out, flags.project);
  const auto named = [&](const auto& node) { return node.name == flags.service; };
  return std::none_of(project.services.begin(), project.services.end(), named) &&
         std::none_of(project.databases.begin(), project.databases.end(), named);
}

int run_exec(Output& out, const ExecFlags& flags) {
  if (is_tailscale_passthrough(out, flags)) return run_tailscale(out, {}, {}, flags.command);
  const auto project = load_project_for_command(out, flags.project);
  auto context = make_context(out.options());
  const bool tty = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
  const auto spec = devx::exec_in_service(*context, project, flags.service, flags.command, tty);
  if (out.options().dry_run) {
    const auto doc = dry_run_doc(spec);
    if (out.json()) {
      out.document(doc);
    } else {
      std::string argv;
      for (const auto& a : spec.argv) argv += (argv.empty() ? "" : " ") + a;
      out.result("Dry run: would run `" + argv + "` in " + spec.cwd.string() + " with the " +
                 "environment of '" + flags.service + "' (" + std::to_string(spec.env.size()) +
                 " variables)");
    }
    return 0;
  }
  replace_process(spec);
}

}  // namespace

void add_exec_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ExecFlags>();
  auto* cmd = app.add_subcommand(
      "exec", "Run a command with a service's environment and working directory (-- cmd…)");
  add_project_flags(*cmd, flags->project);
  cmd->add_option("service", flags->service,
                  "The service (tailscale: the dev VM's tailscale, as devx mesh exec)")
      ->required();
  cmd->add_option("command", flags->command, "The command, after --")->required();
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_exec(out, *flags); }; });
}

}  // namespace devx::cli
