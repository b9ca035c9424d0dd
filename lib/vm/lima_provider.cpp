// Lima (limactl). The instance is created from the podman-rootful template, so the units of the
// dev machine config (which run `podman`) and devx's containers use a rootful podman inside the
// VM. --vm-type is vz only on macOS; Linux uses qemu (with 9p mounts: virtiofs needs vz).
#include <devx/error.hpp>

#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "vm/providers.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

// `limactl list --json` prints one JSON object per line.
std::vector<json::object> lima_instances(Context& context) {
  const std::vector<std::string> argv = {"limactl", "list", "--json"};
  const auto result = run_query(context, argv);
  if (!result.ok()) throw command_error("limactl list", argv, result);
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

constexpr std::int64_t kMiB = 1024 * 1024;

class LimaProvider final : public Provider {
 public:
  explicit LimaProvider(std::string_view platform)
      : vm_type_(platform == "darwin" ? "vz" : "qemu"),
        mount_type_(platform == "darwin" ? "virtiofs" : "9p") {}

  std::string_view name() const override { return "lima"; }
  std::string binary() const override { return "limactl"; }
  std::string runtime() const override { return "podman"; }

  std::vector<std::string> create_argv(const std::string& vm, const MachineSizes& sizes,
                                       const std::string& /*ignition_path*/) const override {
    std::vector<std::string> argv = {"limactl",
                                     "create",
                                     "--name=" + vm,
                                     "--vm-type=" + vm_type_,
                                     "--mount-type=" + mount_type_,
                                     "--mount-writable",
                                     "--tty=false"};
    if (sizes.cpus > 0) argv.push_back("--cpus=" + std::to_string(sizes.cpus));
    if (sizes.memory_mb > 0) argv.push_back("--memory=" + gib_text(sizes.memory_mb));
    if (sizes.disk_gb > 0) argv.push_back("--disk=" + std::to_string(sizes.disk_gb));
    argv.emplace_back("template://podman-rootful");
    return argv;
  }
  std::vector<std::string> start_argv(const std::string& vm) const override {
    return {"limactl", "start", "--tty=false", vm};
  }
  std::vector<std::string> stop_argv(const std::string& vm) const override {
    return {"limactl", "stop", vm};
  }
  std::vector<std::string> remove_argv(const std::string& vm) const override {
    return {"limactl", "delete", "--force", vm};
  }
  // A yq expression, as `limactl edit --set` expects (not YAML text).
  std::vector<std::vector<std::string>> resize_argvs(const std::string& vm,
                                                     const MachineSizes& sizes,
                                                     bool /*was_running*/) const override {
    std::string expression;
    const auto add = [&](const std::string& term) {
      expression += (expression.empty() ? "" : " | ") + term;
    };
    if (sizes.cpus > 0) add(".cpus = " + std::to_string(sizes.cpus));
    if (sizes.memory_mb > 0) add(".memory = \"" + std::to_string(sizes.memory_mb) + "MiB\"");
    if (sizes.disk_gb > 0) add(".disk = \"" + std::to_string(sizes.disk_gb) + "GiB\"");
    return {{"limactl", "edit", "--tty=false", "--set", expression, vm}};
  }

  MachineState inspect(Context& context, const std::string& vm) const override {
    MachineState state;
    for (const auto& instance : lima_instances(context)) {
      if (core::string_field(instance, "name") != vm) continue;
      state.exists = true;
      const auto status = core::string_field(instance, "status");
      state.state = status == "Running" ? "running" : status == "Stopped" ? "stopped" : "unknown";
      state.sizes.cpus = static_cast<int>(core::int_field(instance, "cpus"));
      state.sizes.memory_mb = static_cast<int>(core::int_field(instance, "memory") / kMiB);
      state.sizes.disk_gb = static_cast<int>(core::int_field(instance, "disk") / (1024 * kMiB));
    }
    return state;
  }
  std::vector<std::string> list(Context& context) const override {
    std::vector<std::string> names;
    for (const auto& instance : lima_instances(context))
      names.push_back(core::string_field(instance, "name"));
    return names;
  }

  // limactl shell quotes the words itself (shellescape) before handing them to ssh. The login
  // user is the host user, with passwordless sudo.
  ExecTransport transport(const std::string& vm) const override {
    return ExecTransport{{"limactl", "shell", "--workdir", "/", vm}, false, false};
  }
  std::vector<std::string> ssh_argv(const std::string& vm,
                                    const std::vector<std::string>& command) const override {
    std::vector<std::string> argv = {"limactl", "shell", vm};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }

 private:
  std::string vm_type_;
  std::string mount_type_;
};

}  // namespace

std::unique_ptr<Provider> make_lima_provider(std::string_view platform) {
  return std::make_unique<LimaProvider>(platform);
}

}  // namespace devx::vm
