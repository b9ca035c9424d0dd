// Lima (limactl). The instance is created from the podman-rootful template, so the units of the
// dev machine config (which run `podman`) and devx's containers use a rootful podman inside the
// VM. --vm-type is vz only on macOS; Linux uses qemu (with 9p mounts: virtiofs needs vz).
#include <devx/error.hpp>

#include <boost/json/object.hpp>

#include "vm/json_listing.hpp"
#include "vm/providers.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

// `limactl list --json` prints one JSON object per line.
std::vector<json::object> lima_instances(Context& context) {
  return list_json_lines(context, {"limactl", "list", "--json"}, "limactl list");
}

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
    return machine_state_in(lima_instances(context), vm);
  }

  std::vector<std::string> list(Context& context) const override {
    return machine_names_in(lima_instances(context));
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
