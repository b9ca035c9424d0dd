#pragma once
// The one adapter for the tailscale CLI inside the dev VM: it builds the argv (tailscale runs in
// the dev machine's container devx-tailscaled, reached as root through the VM's exec transport)
// and parses `tailscale status --json`. Nothing else in libdevx spawns tailscale or reads its
// output.
#include <devx/context.hpp>
#include <devx/process.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "vm/resolve.hpp"

namespace devx::mesh {

// The container the dev machine configuration runs tailscaled in (lib/vm/ignition/dev_machine.cpp).
inline constexpr std::string_view tailscaled_container = "devx-tailscaled";
// The key file of the Ignition config; /etc/devx/tailscale is mounted into the container.
inline constexpr std::string_view auth_key_path = "/etc/devx/tailscale/authkey";

// The resolved VM, checked to be one that runs the dev machine configuration (Error(unsupported)
// otherwise) and to be running (Error(not_found) / Error(unreachable)).
vm::ResolvedVm resolve_running_vm(Context& context, const VmOptions& options);

// The argv running `tailscale <args…>` in the VM's tailscaled container as root. `with_stdin`
// keeps the container's stdin open (`exec -i`).
std::vector<std::string> tailscale_argv(const vm::ResolvedVm& vm,
                                        const std::vector<std::string>& args,
                                        bool with_stdin = false);

// A command run as root in the VM itself (outside the container).
std::vector<std::string> vm_root_argv(const vm::ResolvedVm& vm,
                                      const std::vector<std::string>& command);

struct TailscaleStatus {
  std::string backend_state;  // "NoState" | "NeedsLogin" | "NeedsMachineAuth" | "Stopped" |
                              // "Starting" | "Running"
  std::string auth_url;
  std::optional<boost::json::object> self;  // a node (see mesh.hpp)
  std::vector<boost::json::object> peers;   // sorted by dns_name
  std::optional<boost::json::object> tailnet;
  std::vector<std::string> health;

  bool self_online() const;
  // The first Tailscale IPv4 address of Self in 100.64.0.0/10, or "".
  std::string self_ipv4() const;
};

// Parses `tailscale status --json` output. Error(invalid_argument) when it is not a status
// document (no BackendState).
TailscaleStatus parse_status(std::string_view json_text);

// Runs `tailscale status --json` in the VM. Error(command_failed) with a hint when tailscaled
// cannot be reached (its container is missing or stopped).
TailscaleStatus query_status(Context& context, const vm::ResolvedVm& vm, std::stop_token stop = {});

// Whether `address` is an IPv4 address in Tailscale's CGNAT range 100.64.0.0/10.
bool is_tailscale_ipv4(std::string_view address);

// The VM record's mesh attachment, if any.
std::optional<boost::json::object> recorded_node(Context& context, std::string_view vm_name);

// Replaces every mesh attachment of the VM record with `attachment` (none when nullopt). Returns
// false when the VM has no record.
bool set_recorded_node(Context& context, std::string_view vm_name,
                       const std::optional<boost::json::object>& attachment);

}  // namespace devx::mesh
