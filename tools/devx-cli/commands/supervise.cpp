// devx supervise — hidden: the background supervisor `devx up --detach` starts (stdout/stderr
// go to DEVX_HOME/run/<key>/supervisor.log). SIGTERM stops everything gracefully; exit 0.
#include <devx/supervisor.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <mutex>

#include "commands/commands.hpp"
#include "commands/lifecycle.hpp"
#include "commands/project_loading.hpp"

namespace devx::cli {
namespace {

struct SuperviseFlags {
  ProjectFlags project;
  std::vector<std::string> services;
  bool keep_going = false;
  std::string engine;
};

int run_supervise(Cli& cli, Output& out, const SuperviseFlags& flags) {
  const auto project = load_project_for_command(out, flags.project);
  auto context = make_context(out.options());
  devx::UpOptions options;
  options.only = flags.services;
  options.keep_going = flags.keep_going;
  options.container_engine = flags.engine;
  auto mutex = std::make_shared<std::mutex>();
  devx::SupervisorOptions hooks;
  // Output lines are in the per-service log files; the supervisor log keeps everything else.
  hooks.on_event = [mutex](const devx::Event& e) {
    if (e.type == devx::EventType::log || e.type == devx::EventType::plan) return;
    std::lock_guard lock(*mutex);
    std::cerr << e.to_json() << '\n' << std::flush;
  };
  auto op = devx::run_supervisor(*context, project, options, hooks);
  cli.cancel->set(op);
  try {
    op.result();
  } catch (const devx::Error& e) {
    if (e.code() == devx::ErrorCode::cancelled && cli.cancel->signal() != 0) return 0;
    throw;
  }
  return 0;
}

}  // namespace

void add_supervise_command(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<SuperviseFlags>();
  auto* cmd = app.add_subcommand("supervise", "Run a project's supervisor (used by up --detach)");
  cmd->group("");  // hidden from --help
  add_project_flags(*cmd, flags->project);
  cmd->add_option("services", flags->services, "Services to start");
  cmd->add_flag("--keep-going", flags->keep_going, "Keep going on failures");
  cmd->add_option("--container-engine", flags->engine, "podman or docker");
  cmd->callback([&cli, flags] {
    cli.action = [&cli, flags](Output& out) { return run_supervise(cli, out, *flags); };
  });
}

}  // namespace devx::cli
