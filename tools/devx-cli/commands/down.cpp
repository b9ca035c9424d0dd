// devx down [--volumes] — stops the project's supervisor (reverse dependency order) or, when
// none runs, reconciles what a dead one left.
#include <devx/supervisor.hpp>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

namespace json = boost::json;

struct DownFlags {
  ProjectFlags project;
  bool volumes = false;
};

void report_reconciled(Output& out, const devx::ReconcileReport& r) {
  if (!r.stale) return;
  std::string text =
      "cleaned up after a supervisor that is gone (pid " + std::to_string(r.owner_pid) + ")";
  for (const auto& k : r.killed) text += "\n  killed " + k;
  for (const auto& c : r.containers) text += "\n  removed container " + c;
  out.status(text);
}

int run_down(Output& out, const DownFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  auto context = make_context(out.options());
  auto client = devx::connect_run(*context, project);
  report_reconciled(out, client.reconciled());
  if (out.options().dry_run) {
    const auto status = client.status_json();
    if (out.json()) {
      json::object doc{{"v", 1},
                       {"dry_run", true},
                       {"would_stop", json::parse(status)},
                       {"remove_volumes", flags.volumes}};
      out.document(doc);
    } else if (client.running()) {
      out.result("Dry run: would stop these services of '" + project.name + "' (reverse " +
                 "dependency order)" + (flags.volumes ? ", removing database data" : "") + ":\n" +
                 status_table(status, false));
    } else {
      out.result("Dry run: '" + project.name + "' is not running; nothing to stop");
    }
    return 0;
  }
  const bool was_running = client.running();
  devx::StopOptions options;
  options.remove_volumes = flags.volumes;
  const auto status = client.down(options);
  if (out.json()) {
    out.document(json::parse(status));
  } else if (was_running) {
    out.status("'" + project.name + "' is down");
  } else {
    out.status("'" + project.name + "' is not running");
  }
  return 0;
}

}  // namespace

void add_down_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<DownFlags>();
  auto* cmd = app.add_subcommand("down", "Stop everything `devx up` started for the project");
  add_project_flags(*cmd, flags->project);
  cmd->add_flag("--volumes", flags->volumes, "Also remove database data and volumes");
  cmd->callback(
      [&cli, flags] { cli.action = [flags](Output& out) { return run_down(out, *flags); }; });
}

}  // namespace devx::cli
