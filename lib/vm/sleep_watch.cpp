// vm sleep-watch: puts the VM to sleep after `idle_polls` polls in a row without user containers.
// devx's own containers (tailscaled, cloudflared: labelled devx.system=true) do not count, or a
// VM set up by `vm init` would never be idle.
#include <devx/error.hpp>
#include <devx/vm.hpp>

#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "vm/lifecycle.hpp"

namespace devx {
namespace {

namespace json = boost::json;

void emit_state(OperationScope& scope, const std::string& state, int containers,
                const std::string& message) {
  Event event;
  event.type = EventType::state;
  event.source = "vm";
  event.message = message;
  event.data_json =
      core::to_json_string(json::object{{"state", state}, {"containers", containers}});
  scope.emit(std::move(event));
}

std::string watch(Context& context, const VmSleepWatchOptions& options, OperationScope& scope) {
  const auto resolved = vm::resolve(context, options.vm);
  const auto& t = resolved.target;
  const auto& p = *resolved.provider;
  int idle = 0;
  const auto stop = scope.stop_token();
  while (!stop.stop_requested()) {
    const auto state = p.inspect(context, t.name);
    if (!state.running()) {
      idle = 0;
      emit_state(scope, "stopped", 0, t.name + " is not running");
    } else {
      const auto argv = p.container_list_argv(t.name);
      CommandSpec spec;
      spec.argv = argv;
      spec.timeout = std::chrono::seconds(60);
      spec.stop = stop;
      const auto result = context.commands().run(spec);
      if (result.cancelled) break;
      if (!result.ok()) throw vm::command_error("list the VM's containers", argv, result);
      const int containers = vm::count_user_containers(result.out);
      if (containers > 0) {
        idle = 0;
        emit_state(scope, "busy", containers,
                   std::to_string(containers) + " container(s) running in " + t.name);
      } else if (++idle >= options.idle_polls) {
        idle = 0;
        const auto slept = vm::sleep_resolved(context, resolved, stop);
        emit_state(scope, "asleep", 0,
                   "no containers for " + std::to_string(options.idle_polls) + " polls: " + t.name +
                       " put to sleep");
        scope.emit(Event{EventType::plan, 0, "vm", "sleep", LogLevel::info, slept});
      } else {
        emit_state(scope, "idle", 0,
                   t.name + " idle (" + std::to_string(idle) + "/" +
                       std::to_string(options.idle_polls) + ")");
      }
    }
    if (!context.clock().sleep_for(options.interval, stop)) break;
  }
  throw Error(ErrorCode::cancelled, "sleep-watch stopped");
}

}  // namespace

Operation start_vm_sleep_watch(Context& context, VmSleepWatchOptions options) {
  if (options.interval < std::chrono::seconds(1))
    throw Error(ErrorCode::invalid_argument, "the sleep-watch interval must be at least 1 s",
                "pass --interval 1 or more");
  if (options.idle_polls < 1)
    throw Error(ErrorCode::invalid_argument, "idle_polls must be at least 1");
  return context.start("vm.sleep-watch",
                       [&context, options = std::move(options)](OperationScope& scope) {
                         return watch(context, options, scope);
                       });
}

}  // namespace devx
