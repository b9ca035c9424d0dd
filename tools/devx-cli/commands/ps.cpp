// devx ps — the project's services: state, pid/container, port, health, restarts, uptime.
#include <devx/supervisor.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

int run_ps(Output& out, const ProjectFlags& flags) {
  const auto project = load_project_for_command(out, flags);
  auto context = make_context(out.options());
  auto client = devx::connect_run(*context, project);
  const auto& r = client.reconciled();
  if (r.stale) {
    std::string text =
        "cleaned up after a supervisor that is gone (pid " + std::to_string(r.owner_pid) + ")";
    for (const auto& k : r.killed) text += "\n  killed " + k;
    out.status(text);
  }
  const auto status = client.status_json();
  if (out.json()) {
    out.document(json::parse(status));
    return 0;
  }
  if (!client.running()) {
    out.status("'" + project.name + "' is not running");
    return 0;
  }
  out.result(status_table(status, stdout_colour(out)));
  return 0;
}

}  // namespace

void add_ps_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ProjectFlags>();
  auto* cmd = app.add_subcommand("ps", "Show the state of the project's services");
  add_project_flags(*cmd, *flags);
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_ps(out, *flags); }; });
}

}  // namespace devx::cli
