// Colima. Each VM is a colima profile; `colima start --profile N` both creates and starts it.
// The runtime inside is docker (Colima's default), used as root through sudo.
#include <devx/error.hpp>

#include <boost/json/object.hpp>

#include "vm/json_listing.hpp"
#include "vm/providers.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

void add_sizes(std::vector<std::string>& argv, const MachineSizes& sizes) {
  if (sizes.cpus > 0) argv.insert(argv.end(), {"--cpu", std::to_string(sizes.cpus)});
  // colima takes whole GiB.
  if (sizes.memory_mb > 0)
    argv.insert(argv.end(), {"--memory", std::to_string(whole_gib(sizes.memory_mb))});
  if (sizes.disk_gb > 0) argv.insert(argv.end(), {"--disk", std::to_string(sizes.disk_gb)});
}

// `colima list --json` prints one JSON object per line; the default profile is "default".
std::vector<json::object> colima_profiles(Context& context) {
  return list_json_lines(context, {"colima", "list", "--json"}, "colima list");
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
    return machine_state_in(colima_profiles(context), vm);
  }

  std::vector<std::string> list(Context& context) const override {
    return machine_names_in(colima_profiles(context));
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
