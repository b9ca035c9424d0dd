// devx restart <service> — through the running supervisor.
#include <devx/supervisor.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct RestartFlags {
  ProjectFlags project;
  std::string service;
};

int run_restart(Output& out, const RestartFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  auto context = make_context(out.options());
  auto client = devx::connect_run(*context, project);
  if (!client.connected()) {
    throw devx::Error(devx::ErrorCode::not_found, "'" + project.name + "' is not running",
                      "start it with `devx up --detach`");
  }
  if (out.options().dry_run) {
    if (out.json()) {
      out.document(json::object{{"v", 1}, {"dry_run", true}, {"would_restart", flags.service}});
    } else {
      out.result("Dry run: would restart '" + flags.service + "' (and nothing else)");
    }
    return 0;
  }
  out.status("Restarting '" + flags.service + "'…");
  const auto status = client.restart(flags.service);
  if (out.json()) {
    out.document(json::parse(status));
  } else {
    out.result(status_table(status, stdout_colour(out)));
  }
  return 0;
}

}  // namespace

void add_restart_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<RestartFlags>();
  auto* cmd = app.add_subcommand("restart", "Restart one service of the running project");
  add_project_flags(*cmd, flags->project);
  cmd->add_option("service", flags->service, "The service to restart")->required();
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_restart(out, *flags); }; });
}

}  // namespace devx::cli
