// start, stop, sleep, status, resize, ssh, exec and apply-ignition of the resolved VM.
#include <devx/error.hpp>
#include <devx/vm.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "vm/ignition_replay.hpp"
#include "vm/lifecycle.hpp"
#include "vm/plan.hpp"
#include "vm/resolve.hpp"
#include "vm/vm_record.hpp"

namespace devx {
namespace vm {

namespace json = boost::json;

Error vm_not_found(Context& context, const ResolvedVm& resolved) {
  std::vector<std::string> names;
  try {
    names = resolved.provider->list(context);
  } catch (const Error&) {
    // The listing is only a hint; the missing VM is the error.
  }
  for (const auto& key : context.state().list("vm")) {
    if (!key.ends_with(".json")) continue;
    auto name = key.substr(key.rfind('/') + 1);
    name.resize(name.size() - 5);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  json::array list;
  std::string text;
  for (const auto& n : names) {
    list.emplace_back(n);
    text += (text.empty() ? "" : ", ") + n;
  }
  const auto& t = resolved.target;
  return Error(ErrorCode::not_found,
               "no " + t.provider + " VM named '" + t.name + "' (name from " + t.name_source + ")",
               names.empty() ? "create it with `devx vm init`"
                             : "existing VMs: " + text + "; pass --name, or create '" + t.name +
                                   "' with `devx vm init`",
               core::to_json_string(json::object{{"name", t.name}, {"existing", std::move(list)}}));
}

json::object target_json(const VmTarget& t) {
  return json::object{{"name", t.name},
                      {"name_source", t.name_source},
                      {"provider", t.provider},
                      {"provider_source", t.provider_source},
                      {"runtime", t.runtime}};
}

std::string sleep_resolved(Context& context, const ResolvedVm& r, std::stop_token stop) {
  const auto& t = r.target;
  Plan plan(context, "vm.sleep", t.name, t.provider, context.dry_run());
  plan.set_stop(std::move(stop));
  const auto& p = *r.provider;
  if (!p.creates_vm()) {
    const std::string note =
        t.provider == "host"
            ? "the host has no VM to put to sleep"
            : "the VM is managed by " +
                  std::string(t.provider == "docker" ? "Docker Desktop" : "OrbStack") +
                  ", which puts it to sleep itself";
    return plan.to_string({{"result", "not-applicable"}, {"note", note}});
  }
  const auto state = p.inspect(context, t.name);
  if (!state.exists) throw vm_not_found(context, r);
  if (!state.running()) return plan.to_string({{"result", "already-stopped"}});
  // Suspending means stopping this VM (by name): none of these tools has a pause that survives
  // the host sleeping.
  plan.command("stop " + t.name, p.stop_argv(t.name));
  return plan.to_string({{"result", context.dry_run() ? "would-stop" : "stopped"}});
}

}  // namespace vm

using vm::json::array;
using vm::json::object;

std::string vm_start(Context& context, const VmOptions& options) {
  const auto r = vm::resolve(context, options);
  const auto& t = r.target;
  const auto& p = *r.provider;
  vm::Plan plan(context, "vm.start", t.name, t.provider, context.dry_run());
  const auto state = p.inspect(context, t.name);
  if (p.creates_vm() && !state.exists) throw vm::vm_not_found(context, r);
  if (state.running()) return plan.to_string({{"result", "already-running"}});
  const auto argv = p.start_argv(t.name);
  if (argv.empty()) {
    if (t.provider == "host")
      throw Error(ErrorCode::unreachable, "the host's " + t.runtime + " engine does not answer",
                  "check `" + t.runtime + " info`");
    throw Error(ErrorCode::unsupported, "Docker Desktop is not running and devx cannot start it",
                "start Docker Desktop");
  }
  plan.command("start " + t.name, argv);
  return plan.to_string({{"result", context.dry_run() ? "would-start" : "started"}});
}

std::string vm_stop(Context& context, const VmOptions& options) {
  const auto r = vm::resolve(context, options);
  const auto& t = r.target;
  const auto& p = *r.provider;
  vm::Plan plan(context, "vm.stop", t.name, t.provider, context.dry_run());
  if (t.provider == "host")
    return plan.to_string(
        {{"result", "not-applicable"}, {"note", "the host provider has no VM to stop"}});
  if (t.provider == "docker")
    throw Error(ErrorCode::unsupported, "Docker Desktop's VM stops with the app",
                "quit Docker Desktop from its menu");
  const auto state = p.inspect(context, t.name);
  if (p.creates_vm() && !state.exists) throw vm::vm_not_found(context, r);
  if (!state.running()) return plan.to_string({{"result", "already-stopped"}});
  plan.command("stop " + t.name, p.stop_argv(t.name));
  return plan.to_string({{"result", context.dry_run() ? "would-stop" : "stopped"}});
}

std::string vm_sleep(Context& context, const VmOptions& options) {
  return vm::sleep_resolved(context, vm::resolve(context, options), {});
}

std::string vm_status(Context& context, const VmOptions& options) {
  const auto r = vm::resolve(context, options);
  const auto& t = r.target;
  object machine{{"name", t.name},
                 {"provider", t.provider},
                 {"runtime", t.runtime},
                 {"state", "unknown"},
                 {"exists", false},
                 {"name_source", t.name_source},
                 {"provider_source", t.provider_source}};
  try {
    const auto state = r.provider->inspect(context, t.name);
    machine["state"] = state.state;
    machine["exists"] = state.exists;
    if (state.sizes.cpus > 0) machine["cpus"] = state.sizes.cpus;
    if (state.sizes.memory_mb > 0) machine["memory_mb"] = state.sizes.memory_mb;
    if (state.sizes.disk_gb > 0) machine["disk_gb"] = state.sizes.disk_gb;
  } catch (const Error& e) {
    machine["error"] = e.message();
  }
  object doc{{"v", 1},
             {"vm", std::move(machine)},
             {"record", nullptr},
             {"tunnel", nullptr},
             {"mesh", nullptr}};
  if (auto record = vm::load_record(context, t.name)) {
    if (const auto* attachments = record->if_contains("attachments");
        attachments != nullptr && attachments->is_array()) {
      for (const auto& a : attachments->as_array()) {
        if (!a.is_object()) continue;
        const auto kind = core::string_field(a.as_object(), "kind");
        if (kind == "tunnel" && doc["tunnel"].is_null()) doc["tunnel"] = a;
        if (kind == "mesh" && doc["mesh"].is_null()) doc["mesh"] = a;
      }
    }
    doc["record"] = std::move(*record);
  }
  return core::to_json_string(doc);
}

std::string vm_resize(Context& context, const VmResizeOptions& options) {
  if (options.cpus < 0 || options.memory_mb < 0 || options.disk_gb < 0)
    throw Error(ErrorCode::invalid_argument, "VM sizes cannot be negative");
  if (options.cpus == 0 && options.memory_mb == 0 && options.disk_gb == 0)
    throw Error(ErrorCode::invalid_argument, "nothing to resize",
                "pass --cpus, --memory (MB) and/or --disk (GB)");
  const auto r = vm::resolve(context, options.vm);
  const auto& t = r.target;
  const auto& p = *r.provider;
  const vm::MachineSizes sizes{options.cpus, options.memory_mb, options.disk_gb};
  // Unsupported providers say so before anything is inspected.
  if (!p.creates_vm()) (void)p.resize_argvs(t.name, sizes, false);
  const auto state = p.inspect(context, t.name);
  if (!state.exists) throw vm::vm_not_found(context, r);
  vm::Plan plan(context, "vm.resize", t.name, t.provider, context.dry_run());
  const bool was_running = state.running();
  if (was_running) plan.command("stop " + t.name, p.stop_argv(t.name));
  for (const auto& argv : p.resize_argvs(t.name, sizes, was_running))
    plan.command("apply the new sizes to " + t.name, argv);
  if (was_running && !p.resize_restarts()) plan.command("start " + t.name, p.start_argv(t.name));
  if (!context.dry_run()) {
    if (auto record = vm::load_record(context, t.name)) {
      if (sizes.cpus > 0) (*record)["cpus"] = sizes.cpus;
      if (sizes.memory_mb > 0) (*record)["memory_mb"] = sizes.memory_mb;
      if (sizes.disk_gb > 0) (*record)["disk_gb"] = sizes.disk_gb;
      vm::save_record(context, *record);
    }
  } else {
    plan.note("state", "update the sizes in the VM record",
              {{"path", (context.home() / vm::record_key(t.name)).string()}});
  }
  object wanted;
  if (sizes.cpus > 0) wanted["cpus"] = sizes.cpus;
  if (sizes.memory_mb > 0) wanted["memory_mb"] = sizes.memory_mb;
  if (sizes.disk_gb > 0) wanted["disk_gb"] = sizes.disk_gb;
  return plan.to_string({{"sizes", std::move(wanted)}, {"restarted", was_running}});
}

std::vector<std::string> vm_ssh_argv(Context& context, const VmOptions& options,
                                     const std::vector<std::string>& command) {
  const auto r = vm::resolve(context, options);
  return r.provider->ssh_argv(r.target.name, command);
}

CommandResult vm_exec(Context& context, const VmOptions& options,
                      const std::vector<std::string>& command,
                      std::optional<std::string> stdin_data) {
  if (command.empty()) throw Error(ErrorCode::invalid_argument, "vm exec needs a command to run");
  const auto r = vm::resolve(context, options);
  const auto argv = r.provider->transport(r.target.name).wrap(command, false);
  return vm::run_in_vm(context, "vm.exec", r.target, "run in the VM", argv, std::move(stdin_data));
}

std::string vm_apply_ignition(Context& context, const VmOptions& options,
                              std::string_view ignition_json) {
  const auto r = vm::resolve(context, options);
  const auto& t = r.target;
  const auto& p = *r.provider;
  if (!p.has_systemd())
    throw Error(ErrorCode::unsupported,
                "the " + t.provider + " provider has no systemd machine to apply Ignition to",
                "use podman, lima or colima for the dev machine configuration");
  const auto state = p.inspect(context, t.name);
  if (!state.exists) throw vm::vm_not_found(context, r);
  if (!state.running())
    throw Error(ErrorCode::unreachable, "VM '" + t.name + "' is not running",
                "start it with `devx vm start`");
  vm::Plan plan(context, "vm.apply-ignition", t.name, t.provider, context.dry_run());
  auto counts = vm::replay_ignition(plan, p.transport(t.name), ignition_json);
  return plan.to_string(std::move(counts));
}

}  // namespace devx
