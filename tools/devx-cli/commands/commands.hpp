#pragma once
// The command tree. Each group registers its subcommands on the CLI11 app; the chosen command's
// callback only records an action, which main() runs after parsing, so every error a command
// raises is rendered in one place.
#include <devx/events.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "output.hpp"

namespace CLI {
class App;
}

namespace devx::cli {

// The operation a command is waiting on, so that SIGINT/SIGTERM (handled in main.cpp) can cancel
// it. Thread-safe.
class CancelRegistry {
 public:
  void set(devx::Operation operation);
  void clear();
  // Cancels the current operation; false when there is none. `signal` (SIGINT, SIGTERM) is
  // remembered so a command can exit with 128 + signal after stopping gracefully.
  bool cancel(int signal = 0);
  // The signal of the last cancel(), 0 when none.
  int signal() const;

 private:
  mutable std::mutex mutex_;
  std::optional<devx::Operation> current_;
  int signal_ = 0;
};

struct Cli {
  GlobalOptions globals;               // filled by parsing
  std::unique_ptr<Output> out;         // created after parsing
  std::function<int(Output&)> action;  // the chosen command; returns the exit code
  CancelRegistry* cancel = nullptr;    // owned by main(); commands register their operation
};

void add_version_command(CLI::App& app, Cli& cli);
void add_config_commands(CLI::App& app, Cli& cli);
void add_map_command(CLI::App& app, Cli& cli);
// The lifecycle (docs/cli.md): up, down, ps, logs, restart, exec, run, action, and the hidden
// supervise command that `up --detach` re-executes.
void add_up_command(CLI::App& app, Cli& cli);
void add_down_command(CLI::App& app, Cli& cli);
void add_ps_command(CLI::App& app, Cli& cli);
void add_logs_command(CLI::App& app, Cli& cli);
void add_restart_command(CLI::App& app, Cli& cli);
void add_exec_command(CLI::App& app, Cli& cli);
void add_run_command(CLI::App& app, Cli& cli);
void add_action_command(CLI::App& app, Cli& cli);
void add_supervise_command(CLI::App& app, Cli& cli);
// devx bridge … (docs/bridge.md).
void add_bridge_commands(CLI::App& app, Cli& cli);
// devx vm … (docs/vm.md), devx butane (docs/ignition.md), devx doctor [install] (docs/doctor.md),
// devx nuke (docs/nuke.md).
void add_vm_commands(CLI::App& app, Cli& cli);
void add_butane_command(CLI::App& app, Cli& cli);
void add_doctor_commands(CLI::App& app, Cli& cli);
void add_nuke_command(CLI::App& app, Cli& cli);
// devx tunnel … (docs/tunnels.md, docs/edge.md), devx mesh … (docs/mesh.md), devx sites …
// (docs/sites.md), devx webhook … (docs/webhook.md), devx mail … (docs/mail.md).
void add_tunnel_commands(CLI::App& app, Cli& cli);
void add_mesh_commands(CLI::App& app, Cli& cli);
void add_sites_commands(CLI::App& app, Cli& cli);
void add_webhook_commands(CLI::App& app, Cli& cli);
void add_mail_commands(CLI::App& app, Cli& cli);

}  // namespace devx::cli
