// Status, leave and the tailscale passthrough of the VM's node.
#include <devx/error.hpp>
#include <devx/mesh.hpp>

#include <boost/json/array.hpp>

#include "core/json.hpp"
#include "mesh/tailscale_cli.hpp"
#include "vm/plan.hpp"
#include "vm/provider.hpp"

namespace devx {

namespace json = boost::json;

std::string mesh_status(Context& context, const VmOptions& options) {
  const auto vm = mesh::resolve_running_vm(context, options);
  const auto status = mesh::query_status(context, vm);
  json::array peers;
  for (const auto& peer : status.peers) peers.push_back(peer);
  json::array health;
  for (const auto& h : status.health) health.emplace_back(h);
  json::object doc{
      {"v", 1},
      {"vm", json::object{{"name", vm.target.name}, {"provider", vm.target.provider}}},
      {"backend_state", status.backend_state},
      {"auth_url", status.auth_url.empty() ? json::value(nullptr) : json::value(status.auth_url)},
      {"tailnet", status.tailnet ? json::value(*status.tailnet) : json::value(nullptr)},
      {"self", status.self ? json::value(*status.self) : json::value(nullptr)},
      {"peers", std::move(peers)},
      {"health", std::move(health)}};
  const auto recorded = mesh::recorded_node(context, vm.target.name);
  doc["recorded"] = recorded ? json::value(*recorded) : json::value(nullptr);
  return core::to_json_string(doc);
}

std::string mesh_leave(Context& context, const VmOptions& options) {
  const auto vm = mesh::resolve_running_vm(context, options);
  const auto& t = vm.target;
  vm::Plan plan(context, "mesh.leave", t.name, t.provider, context.dry_run());
  plan.command("log the node out of the tailnet", mesh::tailscale_argv(vm, {"logout"}),
               std::nullopt, std::chrono::seconds(60));
  if (plan.dry_run()) {
    plan.note("state", "remove the mesh attachment of VM " + t.name);
    return plan.to_string({{"result", "would-log-out"}});
  }
  if (mesh::recorded_node(context, t.name)) {
    mesh::set_recorded_node(context, t.name, std::nullopt);
    plan.note("state", "removed the mesh attachment of VM " + t.name);
  }
  return plan.to_string({{"result", "logged-out"}});
}

std::vector<std::string> mesh_tailscale_argv(Context& context, const VmOptions& options,
                                             const std::vector<std::string>& args) {
  return mesh::tailscale_argv(mesh::resolve_running_vm(context, options), args);
}

CommandResult mesh_exec(Context& context, const VmOptions& options,
                        const std::vector<std::string>& args,
                        std::optional<std::string> stdin_data) {
  const auto vm = mesh::resolve_running_vm(context, options);
  const auto argv = mesh::tailscale_argv(vm, args, stdin_data.has_value());
  return vm::run_in_vm(context, "mesh.exec", vm.target, "run tailscale in the VM", argv,
                       std::move(stdin_data));
}

}  // namespace devx
