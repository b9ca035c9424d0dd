// devx — the reference command-line front end of libdevx.
//
// main() owns what the library must never touch: global flags, signals, the exit code. The exit
// code is the numeric devx::ErrorCode of the failure (docs/errors.md); usage errors are 2
// (invalid_argument).
#include <devx/devx.hpp>

#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>
#include <thread>

#include "commands/commands.hpp"
#include "output.hpp"

namespace devx::cli {

void CancelRegistry::set(devx::Operation operation) {
  std::lock_guard lock(mutex_);
  current_ = std::move(operation);
}

void CancelRegistry::clear() {
  std::lock_guard lock(mutex_);
  current_.reset();
}

bool CancelRegistry::cancel(int signal) {
  std::lock_guard lock(mutex_);
  if (!current_) return false;
  signal_ = signal;
  current_->cancel();
  return true;
}

int CancelRegistry::signal() const {
  std::lock_guard lock(mutex_);
  return signal_;
}

namespace {

// SIGINT/SIGTERM are blocked in every thread (set before any other thread exists, so library
// threads inherit the mask) and taken synchronously by one watcher thread with sigwait: no
// async-signal-safety concerns. The first signal cancels the running operation, which then
// finishes with ErrorCode::cancelled; a signal with nothing to cancel, or a second one, ends the
// process the default way (status 128+signal, as shells expect). SIGUSR1, sent to the watcher
// thread only, stops it.
class SignalWatcher {
 public:
  explicit SignalWatcher(CancelRegistry& registry) : registry_(registry) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, kWake);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] { run(); });
  }
  ~SignalWatcher() {
    stop_ = true;
    pthread_kill(thread_.native_handle(), kWake);
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  static constexpr int kWake = SIGUSR1;

  void run() {
    bool cancelled = false;
    while (!stop_) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0 || sig == kWake) continue;
      if (!cancelled && registry_.cancel(sig)) {
        cancelled = true;
        static constexpr std::string_view note = "\ninterrupted: cancelling…\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, note.data(), note.size());
        continue;
      }
      terminate_by(sig);
    }
  }

  [[noreturn]] static void terminate_by(int sig) {
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
    std::_Exit(128 + sig);  // not reached
  }

  CancelRegistry& registry_;
  sigset_t set_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool wants_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--json") return true;
  }
  return false;
}

void add_global_flags(CLI::App& app, GlobalOptions& g) {
  app.add_flag("--json", g.json, "Print exactly one JSON document on stdout (errors included)");
  app.add_flag("--dry-run", g.dry_run, "Show what would change, change nothing");
  app.add_flag("-y,--yes", g.yes, "Answer yes to every prompt");
  app.add_flag("-v,--verbose", g.verbose, "More output on stderr (repeatable)");
  app.add_flag("--quiet", g.quiet, "Only errors on stderr");
  app.add_flag("--no-color", g.no_color, "Never colour the output (also: NO_COLOR=1)");
  app.add_option("--devx-home", g.devx_home, "State directory (default: $DEVX_HOME or ~/.devx)");
}

int run(int argc, char** argv, CancelRegistry& registry) {
  Cli cli;
  cli.cancel = &registry;
  CLI::App app{"devx — local development orchestrator", "devx"};
  app.fallthrough();  // global flags are accepted after the subcommand too
  app.set_version_flag("--version", "devx " + std::string(devx::version()) + " (abi " +
                                        std::to_string(devx::abi_version()) + ")");
  add_global_flags(app, cli.globals);
  add_version_command(app, cli);
  add_config_commands(app, cli);
  add_map_command(app, cli);
  add_up_command(app, cli);
  add_down_command(app, cli);
  add_ps_command(app, cli);
  add_logs_command(app, cli);
  add_restart_command(app, cli);
  add_exec_command(app, cli);
  add_run_command(app, cli);
  add_action_command(app, cli);
  add_supervise_command(app, cli);
  add_bridge_commands(app, cli);
  add_vm_commands(app, cli);
  add_butane_command(app, cli);
  add_doctor_commands(app, cli);
  add_nuke_command(app, cli);
  add_tunnel_commands(app, cli);
  add_mesh_commands(app, cli);
  add_sites_commands(app, cli);
  add_webhook_commands(app, cli);
  add_mail_commands(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    GlobalOptions globals = cli.globals;
    globals.json = globals.json || wants_json(argc, argv);
    Output out(globals);
    out.error(
        devx::Error(devx::ErrorCode::invalid_argument, e.what(), "run 'devx --help' for usage"));
    return static_cast<int>(devx::ErrorCode::invalid_argument);
  }

  cli.out = std::make_unique<Output>(cli.globals);
  if (!cli.action) {
    // Every leaf command sets an action; a group without a subcommand is a usage error.
    cli.out->error(devx::Error(devx::ErrorCode::invalid_argument, "no command given",
                               "run 'devx --help' for usage"));
    return static_cast<int>(devx::ErrorCode::invalid_argument);
  }
  try {
    return cli.action(*cli.out);
  } catch (const devx::Error& e) {
    cli.out->error(e);
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    cli.out->error(devx::Error(devx::ErrorCode::internal, "out of memory"));
  } catch (const std::exception& e) {
    cli.out->error(devx::Error(devx::ErrorCode::internal,
                               std::string("internal error: ") + e.what(),
                               "this is a bug in devx; please report it"));
  }
  return static_cast<int>(devx::ErrorCode::internal);
}

}  // namespace
}  // namespace devx::cli

int main(int argc, char** argv) {
  try {
    devx::cli::CancelRegistry registry;
    devx::cli::SignalWatcher watcher(registry);
    return devx::cli::run(argc, argv, registry);
  } catch (...) {
    std::cerr << "error: internal error\n";
    return static_cast<int>(devx::ErrorCode::internal);
  }
}
