// Colima. Each VM is a colima profile; `colima start --profile N` both creates and starts it.
// The runtime inside is docker (Colima's default), used as root through sudo.
#include <devx/error.hpp>

#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "vm/providers.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMiB = 1024 * 1024;

void add_sizes(std::vector<std::string>& argv, const MachineSizes& sizes) {
  if (sizes.cpus > 0) argv.insert(argv.end(), {"--cpu", std::to_string(sizes.cpus)});
  // colima takes whole GiB.
  if (sizes.memory_mb > 0)
    argv.insert(argv.end(), {"--memory", std::to_string(whole_gib(sizes.memory_mb))});
  if (sizes.disk_gb > 0) argv.insert(argv.end(), {"--disk", std::to_string(sizes.disk_gb)});
}

// `colima list --json` prints one JSON object per line; the default profile is "default".
std::vector<json::object> colima_profiles(Context& context) {
  const std::vector<std::string> argv = {"colima", "list", "--json"};
  const auto result = run_query(context, argv);
  if (!result.ok()) throw command_error("colima list", argv, result);
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

class ColimaProvider final : public Provider {
 public:
  explicit ColimaProvider(std::string_view platform)
      : vm_type_(platform == "darwin" ? "vz" : "qemu") {}

  std::string_view name() const override { return "colima"; }
  std::string binary() const override { return "colima"; }
  std::string runtime() const override { return "docker"; }
  bool create_starts() const override { return true; }

  std::vector<std::string> create_argv(const std::string& vm, const MachineSizes& sizes,
                                       const std::string& /*ignition_path*/) const override {
    std::vector<std::string> argv = {
        "colima", "start", "--profile", vm, "--runtime", "docker", "--vm-type=" + vm_type_};
    if (vm_type_ == "vz") argv.emplace_back("--mount-type=virtiofs");
    add_sizes(argv, sizes);
    return argv;
  }
  std::vector<std::string> start_argv(const std::string& vm) const override {
    return {"colima", "start", "--profile", vm};
  }
  std::vector<std::string> stop_argv(const std::string& vm) const override {
    return {"colima", "stop", "--profile", vm};
  }
  std::vector<std::string> remove_argv(const std::string& vm) const override {
    return {"colima", "delete", "--force", "--profile", vm};
  }
  // New sizes take effect by starting the profile with them; a VM that was stopped is stopped
  // again afterwards.
  std::vector<std::vector<std::string>> resize_argvs(const std::string& vm,
                                                     const MachineSizes& sizes,
                                                     bool was_running) const override {
    std::vector<std::string> start = start_argv(vm);
    add_sizes(start, sizes);
    if (was_running) return {start};
    return {start, stop_argv(vm)};
  }
  bool resize_restarts() const override { return true; }

  MachineState inspect(Context& context, const std::string& vm) const override {
    MachineState state;
    for (const auto& profile : colima_profiles(context)) {
      if (core::string_field(profile, "name") != vm) continue;
      state.exists = true;
      const auto status = core::string_field(profile, "status");
      state.state = status == "Running" ? "running" : status == "Stopped" ? "stopped" : "unknown";
      state.sizes.cpus = static_cast<int>(core::int_field(profile, "cpus"));
      state.sizes.memory_mb = static_cast<int>(core::int_field(profile, "memory") / kMiB);
      state.sizes.disk_gb = static_cast<int>(core::int_field(profile, "disk") / (1024 * kMiB));
    }
    return state;
  }
  std::vector<std::string> list(Context& context) const override {
    std::vector<std::string> names;
    for (const auto& profile : colima_profiles(context))
      names.push_back(core::string_field(profile, "name"));
    return names;
  }

  // colima ssh hands the words to limactl shell, which quotes them.
  ExecTransport transport(const std::string& vm) const override {
    return ExecTransport{{"colima", "ssh", "--profile", vm, "--"}, false, false};
  }
  std::vector<std::string> ssh_argv(const std::string& vm,
                                    const std::vector<std::string>& command) const override {
    std::vector<std::string> argv = {"colima", "ssh", "--profile", vm};
    if (!command.empty()) {
      argv.emplace_back("--");
      argv.insert(argv.end(), command.begin(), command.end());
    }
    return argv;
  }

 private:
  std::string vm_type_;
};

}  // namespace

std::unique_ptr<Provider> make_colima_provider(std::string_view platform) {
  return std::make_unique<ColimaProvider>(platform);
}

}  // namespace devx::vm
