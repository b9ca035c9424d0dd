#include "vm/json_listing.hpp"

#include <cstdint>

#include "core/json.hpp"

namespace devx::vm {

namespace json = boost::json;

std::vector<json::object> list_json_lines(Context& context, const std::vector<std::string>& argv,
                                          std::string_view what) {
  const auto result = run_query(context, argv);
  if (!result.ok()) throw command_error(what, argv, result);
  std::vector<json::object> out;
  std::string_view rest = result.out;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const auto v = core::parse_json_or_null(rest.substr(0, nl));
    if (v.is_object()) out.push_back(v.as_object());
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

MachineState machine_state_in(const std::vector<json::object>& listing, const std::string& vm) {
  constexpr std::int64_t kMiB = 1024 * 1024;
  MachineState state;
  for (const auto& machine : listing) {
    if (core::string_field(machine, "name") != vm) continue;
    state.exists = true;
    const auto status = core::string_field(machine, "status");
    state.state = status == "Running" ? "running" : status == "Stopped" ? "stopped" : "unknown";
    state.sizes.cpus = static_cast<int>(core::int_field(machine, "cpus"));
    state.sizes.memory_mb = static_cast<int>(core::int_field(machine, "memory") / kMiB);
    state.sizes.disk_gb = static_cast<int>(core::int_field(machine, "disk") / (1024 * kMiB));
  }
  return state;
}

std::vector<std::string> machine_names_in(const std::vector<json::object>& listing) {
  std::vector<std::string> names;
  for (const auto& machine : listing) names.push_back(core::string_field(machine, "name"));
  return names;
}

}  // namespace devx::vm
