#pragma once
// The dev VM: the machine the containers run in. Providers are podman machine ("podman"), Lima
// ("lima"), Colima ("colima"), Docker Desktop ("docker"), OrbStack ("orbstack") and the Linux host
// itself ("host": no VM, containers run on the host's engine). One resolver decides which provider
// and which VM every command acts on. docs/vm.md describes each provider's commands.
//
// Every mutating call honours the context's dry_run: it returns its plan and changes nothing.
// Results and plans are JSON documents:
//   {"v":1,"operation":"vm.stop","vm":{"name","provider"},"dry_run":bool,
//    "actions":[{"kind":"command"|"file"|"http"|"state","description",
//                "argv"?,"path"?,"method"?,"url"?}], …operation-specific keys}
// Destructive steps need VmOptions::assume_yes; without it they throw Error(prompt_required) whose
// details {"confirm": "<question>", "plan": {…}} let a caller ask and retry with assume_yes.
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>
#include <devx/process.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devx {

// Which VM a command acts on. Empty fields are resolved.
struct VmOptions {
  // "podman" | "lima" | "colima" | "docker" | "orbstack" | "host"; "" = DEVX_HOME/config.yaml
  // `provider` → the project's devx.yaml `provider` → auto-detection.
  std::string provider;
  // "" = $DEVX_VM_NAME → the VM recorded by `vm init` → "<user>-dev-machine" (the user name
  // sanitised into a DNS label).
  std::string name;
  // Where devx.yaml is looked for (walking upwards); empty = the current directory.
  std::filesystem::path project_dir;
  // Confirmations are granted (-y).
  bool assume_yes = false;
  // Platform for auto-detection: "linux" | "darwin"; "" = this machine. On Linux auto-detection
  // picks "host" when podman or docker is installed.
  std::string platform;
};

struct VmTarget {
  std::string provider;
  std::string provider_source;  // "option" | "user-config" | "project" | "recorded" | "detected"
  std::string name;
  std::string name_source;  // "option" | "env" | "recorded" | "default"
  std::string runtime;      // container CLI used with this VM: "podman" | "docker" | "nerdctl"
};

// Resolves provider and name. Several detected providers → Error(prompt_required) with details
// {"candidates":[…]} (callers ask, then pass the choice as VmOptions::provider); none →
// Error(command_not_found) with install hints; an unknown name → Error(invalid_argument).
DEVX_API VmTarget resolve_vm(Context& context, const VmOptions& options);

// Records `provider` as the default in DEVX_HOME/config.yaml (other keys are kept).
DEVX_API void save_default_provider(Context& context, std::string_view provider);

// What each provider's detection finds:
// {"v":1,"platform","providers":[{"name","binary","path","version","available","note"}]}.
DEVX_API std::string detect_vm_providers(Context& context, std::string_view platform = {});

struct VmTunnelAttachment {
  std::string id;                // Cloudflare Tunnel UUID
  std::string credentials_file;  // cloudflared's <id>.json (read, never copied into argv)
  std::string hostname;          // public hostname routed into the VM
};

struct VmInitOptions {
  VmOptions vm;
  bool recreate = false;  // replace an existing VM (destructive: needs vm.assume_yes)
  int cpus = 0;           // 0 = the provider's default
  int memory_mb = 0;
  int disk_gb = 0;
  // Keys authorised for the VM's user; empty = the first readable of the usual public key files.
  std::vector<std::string> ssh_authorized_keys;
  std::optional<VmTunnelAttachment> tunnel;
  std::string tailscale_auth_key;  // secret; "" = $TS_AUTHKEY, else the node is not joined
};

// Creates the VM (idempotent: an existing VM is reported and left alone unless `recreate`),
// hands it the compiled dev machine Ignition config where the provider accepts one at creation
// (podman machine init --ignition-path), else replays it over SSH, starts it and records it in
// DEVX_HOME/vm/<name>.json. Progress events name each step. Result: the document above with
// "created": bool and "ignition": "at-creation" | "replayed" | "not-applicable".
DEVX_API Operation start_vm_init(Context& context, VmInitOptions options);

DEVX_API std::string vm_start(Context& context, const VmOptions& options);
DEVX_API std::string vm_stop(Context& context, const VmOptions& options);
// Suspends the VM where the provider can (podman, lima, colima: a stop of that VM; docker,
// orbstack: managed by the app, reported as such; host: nothing to do).
DEVX_API std::string vm_sleep(Context& context, const VmOptions& options);

// {"v":1,"vm":{"name","provider","state","exists","cpus"?,"memory_mb"?,"disk_gb"?},
//  "record":{…}|null,"tunnel":{…}|null,"mesh":{…}|null}; state is "running" | "stopped" |
// "not-created" | "unknown". Read-only: never prompts, never changes anything.
DEVX_API std::string vm_status(Context& context, const VmOptions& options);

struct VmResizeOptions {
  VmOptions vm;
  int cpus = 0;  // 0 = unchanged; at least one of the three must be set
  int memory_mb = 0;
  int disk_gb = 0;
};
// Stops the VM if it runs, applies the sizes, and starts it again if it was running.
DEVX_API std::string vm_resize(Context& context, const VmResizeOptions& options);

struct VmTeardownOptions {
  VmOptions vm;
  bool keep_attachments = false;  // leave the recorded tunnel, DNS records and mesh node alone
};
// Removes the VM and what was recorded for it: the tunnel, its DNS records and the mesh node.
// Destructive: needs assume_yes. A VM that does not exist is Error(not_found) naming the VMs that
// do; every step's failure is reported, none is ignored.
DEVX_API std::string vm_teardown(Context& context, const VmTeardownOptions& options);

// The argv that opens a shell in the VM (or runs `command` there), for callers that attach a
// terminal (`devx vm ssh`). The command's words stay separate (quoted for the remote shell).
DEVX_API std::vector<std::string> vm_ssh_argv(Context& context, const VmOptions& options,
                                              const std::vector<std::string>& command);
// Runs `command` in the VM with output captured.
DEVX_API CommandResult vm_exec(Context& context, const VmOptions& options,
                               const std::vector<std::string>& command,
                               std::optional<std::string> stdin_data = std::nullopt);

// Applies an Ignition config to a running VM through its exec transport: every file's bytes go
// base64-encoded on stdin to a fixed script that writes a temporary file beside the target, sets
// mode and owner and renames it into place (no heredocs, no shell interpolation of content);
// directories, links and units follow, then systemd is reloaded and enabled units started.
// Error(unsupported) for providers without systemd (docker, orbstack, host). Result: the document
// above with "files","directories","links","units" counts and "kept" (overwrite=false paths that
// already existed).
DEVX_API std::string vm_apply_ignition(Context& context, const VmOptions& options,
                                       std::string_view ignition_json);

struct VmSleepWatchOptions {
  VmOptions vm;
  std::chrono::seconds interval{60};  // at least 1 s
  int idle_polls = 3;                 // consecutive idle polls before sleeping
};
// Polls the VM; after `idle_polls` polls in a row with no user containers running (devx's own
// system containers, labelled devx.system, do not count) it puts the VM to sleep. Runs until
// cancelled. State events: {"state":"idle"|"busy"|"asleep"|"stopped","containers":N}.
DEVX_API Operation start_vm_sleep_watch(Context& context, VmSleepWatchOptions options);

}  // namespace devx
