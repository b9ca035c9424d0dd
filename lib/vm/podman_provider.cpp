// podman machine (podman 4.x/5.x). The machine is rootful and receives the dev machine's Ignition
// config at creation (--ignition-path). Every command names the machine: a bare
// `podman machine stop` would stop podman-machine-default instead.
#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cctype>

#include "core/json.hpp"
#include "vm/providers.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void add_sizes(std::vector<std::string>& argv, const MachineSizes& sizes) {
  if (sizes.cpus > 0) argv.insert(argv.end(), {"--cpus", std::to_string(sizes.cpus)});
  if (sizes.memory_mb > 0) argv.insert(argv.end(), {"--memory", std::to_string(sizes.memory_mb)});
  if (sizes.disk_gb > 0) argv.insert(argv.end(), {"--disk-size", std::to_string(sizes.disk_gb)});
}

// podman's own Ignition config carries this unit; `podman machine start` waits until the guest
// writes "Ready" to the virtio port, so a config devx hands over must carry it too. Only podman
// machines have that port (on another VM the unit would fail into emergency.target).
constexpr const char* kReadyUnitName = "devx-podman-ready.service";
constexpr const char* kReadyUnit =
    "[Unit]\n"
    "Requires=dev-virtio\\x2dports-vport1p1.device\n"
    "After=remove-moby.service sshd.socket sshd.service\n"
    "OnFailure=emergency.target\n"
    "OnFailureJobMode=isolate\n"
    "[Service]\n"
    "Type=oneshot\n"
    "RemainAfterExit=yes\n"
    "ExecStart=/bin/sh -c '/usr/bin/echo Ready >/dev/vport1p1'\n"
    "[Install]\n"
    "RequiredBy=default.target\n";

class PodmanProvider final : public Provider {
 public:
  std::string_view name() const override { return "podman"; }
  std::string binary() const override { return "podman"; }
  std::string runtime() const override { return "podman"; }
  bool takes_ignition_at_creation() const override { return true; }
  std::optional<std::filesystem::path> login_identity(const std::filesystem::path& home,
                                                      const std::string& vm) const override {
    return home / ".ssh" / vm;
  }
  std::string prepare_ignition(std::string ignition) const override {
    auto doc = core::parse_json_object_or_throw(ignition, "the dev machine Ignition config");
    auto& systemd = doc["systemd"];
    if (!systemd.is_object()) systemd = json::object{};
    auto& units = systemd.as_object()["units"];
    if (!units.is_array()) units = json::array{};
    units.as_array().push_back(
        json::object{{"contents", kReadyUnit}, {"enabled", true}, {"name", kReadyUnitName}});
    return core::to_json_string(doc) + "\n";
  }

  std::vector<std::string> create_argv(const std::string& vm, const MachineSizes& sizes,
                                       const std::string& ignition_path) const override {
    std::vector<std::string> argv = {"podman", "machine", "init", "--rootful"};
    if (!ignition_path.empty()) argv.insert(argv.end(), {"--ignition-path", ignition_path});
    add_sizes(argv, sizes);
    argv.push_back(vm);
    return argv;
  }
  std::vector<std::string> start_argv(const std::string& vm) const override {
    return {"podman", "machine", "start", vm};
  }
  std::vector<std::string> stop_argv(const std::string& vm) const override {
    return {"podman", "machine", "stop", vm};
  }
  std::vector<std::string> remove_argv(const std::string& vm) const override {
    return {"podman", "machine", "rm", "-f", vm};
  }
  std::vector<std::vector<std::string>> resize_argvs(const std::string& vm,
                                                     const MachineSizes& sizes,
                                                     bool /*was_running*/) const override {
    std::vector<std::string> argv = {"podman", "machine", "set"};
    add_sizes(argv, sizes);
    argv.push_back(vm);
    return {argv};
  }

  // A rootful machine gets two connections, NAME (rootless) and NAME-root; NAME-root is the one
  // its containers use. podman 4.x registers none when given --ignition-path: then there is
  // nothing to make default (nullopt) and the caller reports it.
  std::optional<std::vector<std::string>> set_default_argv(Context& context, const std::string& vm,
                                                           bool planning) const override {
    const std::vector<std::string> argv = {"podman", "system",   "connection",
                                           "list",   "--format", "json"};
    const auto result = run_query(context, argv);
    if (!result.ok()) throw command_error("podman system connection list", argv, result);
    std::vector<std::string> names;
    const auto doc = core::parse_json_or_null(result.out);
    if (const auto* array = doc.if_array()) {
      for (const auto& c : *array)
        if (c.is_object()) names.push_back(core::string_field(c.as_object(), "Name"));
    }
    for (const auto& candidate : {vm + "-root", vm}) {
      if (std::find(names.begin(), names.end(), candidate) != names.end())
        return std::vector<std::string>{"podman", "system", "connection", "default", candidate};
    }
    if (planning)
      return std::vector<std::string>{"podman", "system", "connection", "default", vm + "-root"};
    return std::nullopt;
  }

  // `podman machine inspect N` → Image.IgnitionFilePath.Path.
  std::optional<std::filesystem::path> ignition_copy(Context& context,
                                                     const std::string& vm) const override {
    const auto result = run_query(context, {"podman", "machine", "inspect", vm});
    const auto doc = core::parse_json_or_null(result.out);
    const auto* array = doc.if_array();
    if (!result.ok() || array == nullptr || array->empty() || !array->front().is_object())
      return std::nullopt;
    const auto* image = array->front().as_object().if_contains("Image");
    if (image == nullptr || !image->is_object()) return std::nullopt;
    const auto* file = image->as_object().if_contains("IgnitionFilePath");
    if (file == nullptr || !file->is_object()) return std::nullopt;
    const auto path = core::string_field(file->as_object(), "Path");
    if (path.empty()) return std::nullopt;
    return std::filesystem::path(path);
  }

  MachineState inspect(Context& context, const std::string& vm) const override {
    const std::vector<std::string> argv = {"podman", "machine", "inspect", vm};
    const auto result = run_query(context, argv);
    MachineState state;
    if (!result.ok()) {
      if (result.err.find("does not exist") != std::string::npos) return state;
      throw command_error("podman machine inspect " + vm, argv, result);
    }
    const auto doc = core::parse_json_or_null(result.out);
    const json::object* machine = nullptr;
    if (const auto* array = doc.if_array(); array != nullptr && !array->empty())
      machine = array->front().if_object();
    if (machine == nullptr) {
      state.exists = true;
      state.state = "unknown";
      return state;
    }
    state.exists = true;
    // podman 4.3 reports "" for a machine that is not running (it asks qemu, which is not there).
    const auto s = lower(core::string_field(*machine, "State"));
    state.state = s == "running" ? "running" : s == "stopped" || s.empty() ? "stopped" : "unknown";
    if (const auto* resources = machine->if_contains("Resources");
        resources != nullptr && resources->is_object()) {
      const auto& r = resources->as_object();
      state.sizes.cpus = static_cast<int>(core::int_field(r, "CPUs"));
      state.sizes.memory_mb = static_cast<int>(core::int_field(r, "Memory"));
      state.sizes.disk_gb = static_cast<int>(core::int_field(r, "DiskSize"));
    }
    return state;
  }

  std::vector<std::string> list(Context& context) const override {
    const std::vector<std::string> argv = {"podman", "machine", "list", "--format", "json"};
    const auto result = run_query(context, argv);
    if (!result.ok()) throw command_error("podman machine list", argv, result);
    std::vector<std::string> names;
    const auto doc = core::parse_json_or_null(result.out);
    if (const auto* array = doc.if_array()) {
      for (const auto& m : *array) {
        if (!m.is_object()) continue;
        auto n = core::string_field(m.as_object(), "Name");
        if (!n.empty() && n.back() == '*') n.pop_back();  // the default machine is starred
        if (!n.empty()) names.push_back(n);
      }
    }
    return names;
  }

  // `podman machine ssh NAME -- words`: podman hands the words to ssh, which joins them with
  // spaces for the remote login shell, so each word is quoted. The login user is core (or root
  // for a rootful connection); sudo -n works for both.
  ExecTransport transport(const std::string& vm) const override {
    return ExecTransport{{"podman", "machine", "ssh", vm, "--"}, true, false};
  }
  std::vector<std::string> ssh_argv(const std::string& vm,
                                    const std::vector<std::string>& command) const override {
    if (command.empty()) return {"podman", "machine", "ssh", vm};
    return transport(vm).wrap(command, false);
  }
};

}  // namespace

std::unique_ptr<Provider> make_podman_provider() { return std::make_unique<PodmanProvider>(); }

}  // namespace devx::vm
