#pragma once
// The private mesh: the dev VM as a Tailscale node. The dev machine configuration (ignition.hpp)
// runs tailscaled in the container `devx-tailscaled` inside the VM; every tailscale command here
// runs there (`<runtime> exec devx-tailscaled tailscale …`, as root, through the VM's exec
// transport). docs/mesh.md describes the behaviour.
//
// The pre-auth key is a secret: it travels on stdin into a 0600 file in the VM
// (/etc/devx/tailscale/authkey, the file the Ignition config uses too) and tailscale reads it
// from there (`--auth-key=file:…`); it never appears in argv, plans, events or logs.
// Providers without a dev machine configuration (docker, orbstack, host) are Error(unsupported).
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>
#include <devx/process.hpp>
#include <devx/vm.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace devx {

struct MeshJoinOptions {
  VmOptions vm;
  // Secret. "" = $TS_AUTHKEY of the context's environment, else TS_AUTHKEY from the project's
  // environment sources (devx.yaml `env:`, found from vm.project_dir).
  std::string auth_key;
  std::string hostname;  // the node's name in the tailnet; "" = the VM name
  bool accept_routes = false;
  // How long to wait for the node to reach BackendState "Running" (≥ 1 s).
  std::chrono::seconds timeout{120};
  std::chrono::milliseconds poll_interval{1000};
};

// Joins the tailnet: writes the key file, runs `tailscale up --auth-key=file:… --hostname=H
// --timeout=…`, removes the key file again (tailscaled keeps its own node state), polls
// `tailscale status --json` until BackendState is "Running" (Error(timeout) after
// options.timeout; cancel stops it promptly), verifies that Self is online and has a Tailscale
// IPv4 address in 100.64.0.0/10, and records the node as a mesh attachment of the VM (so
// `vm teardown` logs it out). A node that is already Running under the same hostname is
// recorded and left alone (no key needed). Progress events name each step.
// Result: {"v":1,"operation":"mesh.join","vm":{"name","provider"},"dry_run","actions":[…],
//          "result":"joined"|"already-joined"|"would-join","key_source":"option"|"env"|
//          "project:<uri>"|null,"node":{…node…}|null}
// where a node is {"id","hostname","dns_name","ips":[…],"os","online","exit_node","relay"}.
// No key anywhere → Error(invalid_argument) with a hint; the VM not running → Error(unreachable).
DEVX_API Operation start_mesh_join(Context& context, MeshJoinOptions options);

// `tailscale status --json` of the VM's node, read-only:
// {"v":1,"vm":{"name","provider"},"backend_state","auth_url"|null,
//  "tailnet":{"name","magic_dns_suffix"}|null,"self":{…node…}|null,"peers":[{…node…}],
//  "health":[…],"recorded":{the VM record's mesh attachment}|null}
// Peers are sorted by DNS name. DNS names are given without the trailing dot.
DEVX_API std::string mesh_status(Context& context, const VmOptions& options);

// Logs the node out (`tailscale logout`) and removes the mesh attachment from the VM record.
// Honours dry_run. Result: the plan document with "result":"logged-out"|"would-log-out".
DEVX_API std::string mesh_leave(Context& context, const VmOptions& options);

// The argv that runs `tailscale <args…>` in the VM, words kept exact (for callers that attach
// the terminal themselves, e.g. `devx exec tailscale …`).
DEVX_API std::vector<std::string> mesh_tailscale_argv(Context& context, const VmOptions& options,
                                                      const std::vector<std::string>& args);

// Runs `tailscale <args…>` in the VM with output captured; the exit code is tailscale's. With
// the context's dry_run nothing runs: exit 0 and the plan document on `out` (like vm_exec).
DEVX_API CommandResult mesh_exec(Context& context, const VmOptions& options,
                                 const std::vector<std::string>& args,
                                 std::optional<std::string> stdin_data = std::nullopt);

}  // namespace devx
