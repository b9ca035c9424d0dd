#pragma once
// One adapter per VM provider: it builds that tool's argv and parses its output. Nothing else in
// libdevx spawns podman machine, limactl, colima, orb or (for the VM) docker. Mutating commands
// are only *built* here; lib/vm/plan.hpp runs them (or records them in dry-run). Read-only
// queries (inspect, list) run directly through the context's CommandRunner.
#include <devx/context.hpp>
#include <devx/process.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devx::vm {

struct MachineSizes {
  int cpus = 0;  // 0 = unknown / unchanged
  int memory_mb = 0;
  int disk_gb = 0;
};

struct MachineState {
  bool exists = false;
  std::string state = "not-created";  // "running" | "stopped" | "not-created" | "unknown"
  MachineSizes sizes;
  bool running() const noexcept { return state == "running"; }
};

// How a command reaches the inside of the VM.
struct ExecTransport {
  std::vector<std::string> prefix;  // e.g. {"podman","machine","ssh","N","--"}
  // The words are joined by ssh and parsed again by the remote login shell, so each one is
  // single-quoted (podman machine ssh). limactl/colima/docker/podman exec keep argv intact.
  bool quote_for_remote_shell = false;
  // The login user is not root: privileged commands are prefixed with `sudo -n`.
  bool login_user_is_root = true;

  // The full argv running `command` inside the VM (as root when `privileged`).
  std::vector<std::string> wrap(const std::vector<std::string>& command, bool privileged) const;
};

// POSIX single quoting for a remote shell: abc → 'abc', it's → 'it'\''s'.
std::string shell_quote(std::string_view word);

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const = 0;
  virtual std::string binary() const = 0;
  // Container CLI used with this VM ("podman" | "docker").
  virtual std::string runtime() const = 0;
  // A machine devx creates and removes (podman, lima, colima); false for Docker Desktop, OrbStack
  // and the host, whose VM (if any) belongs to an app.
  virtual bool creates_vm() const { return true; }
  // `podman machine init --ignition-path`; the others get the config replayed over SSH.
  virtual bool takes_ignition_at_creation() const { return false; }
  // The VM runs systemd, so a dev machine config can be applied at all.
  virtual bool has_systemd() const { return true; }
  // Creating the machine also starts it (colima start).
  virtual bool create_starts() const { return false; }
  // The private key the provider's ssh uses for this VM when devx supplies the Ignition config
  // (podman 4.x then generates none: ~/.ssh/<name>); its public key must be authorised.
  virtual std::optional<std::filesystem::path> login_identity(const std::filesystem::path& home,
                                                              const std::string& vm) const;
  // Where the provider keeps its own copy of a handed-over Ignition file (podman 4.x copies it
  // with mode 0644), so that the caller can restrict it; nullopt when there is none.
  virtual std::optional<std::filesystem::path> ignition_copy(Context& context,
                                                             const std::string& vm) const;
  // The Ignition document as this provider must receive it at creation (podman: plus the unit
  // that tells podman the machine booted).
  virtual std::string prepare_ignition(std::string ignition) const { return ignition; }

  // Mutating commands. `ignition_path` is empty for providers that take no Ignition.
  virtual std::vector<std::string> create_argv(const std::string& vm, const MachineSizes& sizes,
                                               const std::string& ignition_path) const = 0;
  virtual std::vector<std::string> start_argv(const std::string& vm) const = 0;
  virtual std::vector<std::string> stop_argv(const std::string& vm) const = 0;
  virtual std::vector<std::string> remove_argv(const std::string& vm) const = 0;
  // The commands that apply new sizes to a *stopped* machine (Error(unsupported) where the
  // provider cannot). `was_running` lets colima, whose sizes apply by starting, stop again.
  virtual std::vector<std::vector<std::string>> resize_argvs(const std::string& vm,
                                                             const MachineSizes& sizes,
                                                             bool was_running) const = 0;
  // The command making this VM the default for the container CLI, or nullopt when there is
  // nothing to set (only podman has connections). `planning`: the VM may not exist yet, so the
  // connection it will get is assumed.
  virtual std::optional<std::vector<std::string>> set_default_argv(Context& context,
                                                                   const std::string& vm,
                                                                   bool planning) const;
  // Whether resize_argvs leaves the machine running again (colima) — no separate start then.
  virtual bool resize_restarts() const { return false; }

  // Read-only.
  virtual MachineState inspect(Context& context, const std::string& vm) const = 0;
  virtual std::vector<std::string> list(Context& context) const = 0;
  virtual ExecTransport transport(const std::string& vm) const = 0;
  // An interactive shell, or `command` with a terminal attached.
  virtual std::vector<std::string> ssh_argv(const std::string& vm,
                                            const std::vector<std::string>& command) const = 0;
  // Lists the VM's containers as JSON (a podman array or docker JSON lines).
  virtual std::vector<std::string> container_list_argv(const std::string& vm) const;
};

// The provider names, in detection order.
const std::vector<std::string>& provider_names();
// The binary a provider's detection looks for ("limactl" for lima, "orb" for orbstack; "host"
// has two: podman, then docker).
std::vector<std::string> provider_binaries(std::string_view provider);

// `platform` is "linux" | "darwin" (Lima/Colima pick qemu or vz); `host_engine` is the engine the
// host provider uses ("podman" | "docker"). Error(invalid_argument) for an unknown name.
std::unique_ptr<Provider> make_provider(std::string_view name, std::string_view platform,
                                        std::string_view host_engine = "podman");

// Runs a read-only query (no dry-run suppression: queries decide the plan).
CommandResult run_query(Context& context, std::vector<std::string> argv,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60),
                        std::optional<std::string> stdin_data = std::nullopt);

// Error(command_failed) for a failed command: argv, exit status and the stderr tail in details.
Error command_error(std::string_view what, const std::vector<std::string>& argv,
                    const CommandResult& result);

// Counts running containers in a `ps` listing (a JSON array or JSON lines), skipping those
// labelled devx.system=true.
int count_user_containers(std::string_view ps_output);

}  // namespace devx::vm
