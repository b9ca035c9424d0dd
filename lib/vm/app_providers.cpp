// Providers whose VM belongs to someone else: Docker Desktop and OrbStack (an app runs the VM;
// devx neither creates nor removes it and has no systemd there), and the Linux host itself (no VM
// at all: containers run on the host's podman or docker).
#include <devx/error.hpp>

#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "vm/providers.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMiB = 1024 * 1024;

// `docker info --format {{json .}}`: a daemon that answers has a ServerVersion.
MachineState docker_engine_state(Context& context) {
  const std::vector<std::string> argv = {"docker", "info", "--format", "{{json .}}"};
  const auto result = run_query(context, argv);
  MachineState state;
  state.exists = true;
  const auto doc = core::parse_json_or_null(result.out);
  const auto* info = doc.if_object();
  if (!result.ok() || info == nullptr || core::string_field(*info, "ServerVersion").empty()) {
    state.state = "stopped";
    return state;
  }
  state.state = "running";
  state.sizes.cpus = static_cast<int>(core::int_field(*info, "NCPU"));
  state.sizes.memory_mb = static_cast<int>(core::int_field(*info, "MemTotal") / kMiB);
  return state;
}

class AppProvider : public Provider {
 public:
  bool creates_vm() const override { return false; }
  bool has_systemd() const override { return false; }
  std::vector<std::string> create_argv(const std::string& /*vm*/, const MachineSizes& /*sizes*/,
                                       const std::string& /*ignition_path*/) const override {
    return {};
  }
  std::vector<std::string> remove_argv(const std::string& /*vm*/) const override { return {}; }
  std::vector<std::string> list(Context& /*context*/) const override { return {}; }
  std::vector<std::string> container_list_argv(const std::string& /*vm*/) const override {
    const auto rt = runtime();
    return {rt, "ps", "--format", rt == "podman" ? "json" : "{{json .}}"};
  }
};

class DockerDesktopProvider final : public AppProvider {
 public:
  std::string_view name() const override { return "docker"; }
  std::string binary() const override { return "docker"; }
  std::string runtime() const override { return "docker"; }
  // Docker Desktop starts and stops with the app.
  std::vector<std::string> start_argv(const std::string& /*vm*/) const override { return {}; }
  std::vector<std::string> stop_argv(const std::string& /*vm*/) const override { return {}; }
  std::vector<std::vector<std::string>> resize_argvs(const std::string& /*vm*/,
                                                     const MachineSizes& /*sizes*/,
                                                     bool /*was_running*/) const override {
    throw Error(ErrorCode::unsupported, "Docker Desktop's VM cannot be resized by devx",
                "set CPUs, memory and disk in Docker Desktop → Settings → Resources");
  }
  MachineState inspect(Context& context, const std::string& /*vm*/) const override {
    return docker_engine_state(context);
  }
  // A privileged container in the host's PID namespace enters the VM (Docker Desktop has no ssh).
  ExecTransport transport(const std::string& /*vm*/) const override {
    return ExecTransport{{"docker", "run", "--rm", "-i", "--privileged", "--pid=host",
                          "alpine:latest", "nsenter", "-t", "1", "-m", "-u", "-n", "-i"},
                         false,
                         true};
  }
  std::vector<std::string> ssh_argv(const std::string& /*vm*/,
                                    const std::vector<std::string>& command) const override {
    std::vector<std::string> argv = {
        "docker",  "run", "--rm", "-it", "--privileged", "--pid=host", "alpine:latest",
        "nsenter", "-t",  "1",    "-m",  "-u",           "-n",         "-i"};
    if (command.empty())
      argv.emplace_back("sh");
    else
      argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
};

// OrbStack is one provider (its `orb` and `docker` binaries are the same installation).
class OrbStackProvider final : public AppProvider {
 public:
  std::string_view name() const override { return "orbstack"; }
  std::string binary() const override { return "orb"; }
  std::string runtime() const override { return "docker"; }
  std::vector<std::string> start_argv(const std::string& /*vm*/) const override {
    return {"orb", "start"};
  }
  std::vector<std::string> stop_argv(const std::string& /*vm*/) const override {
    return {"orb", "stop"};
  }
  std::vector<std::vector<std::string>> resize_argvs(const std::string& /*vm*/,
                                                     const MachineSizes& /*sizes*/,
                                                     bool /*was_running*/) const override {
    throw Error(ErrorCode::unsupported, "OrbStack's VM cannot be resized by devx",
                "set CPU and memory limits in OrbStack → Settings → System");
  }
  // `orb status` prints Running or Stopped.
  MachineState inspect(Context& context, const std::string& /*vm*/) const override {
    const std::vector<std::string> argv = {"orb", "status"};
    const auto result = run_query(context, argv);
    MachineState state;
    state.exists = true;
    std::string status = result.out;
    while (!status.empty() && (status.back() == '\n' || status.back() == ' ')) status.pop_back();
    state.state = status == "Running" ? "running" : status == "Stopped" ? "stopped" : "unknown";
    if (!result.ok() && state.state == "unknown") throw command_error("orb status", argv, result);
    return state;
  }
  ExecTransport transport(const std::string& /*vm*/) const override {
    return ExecTransport{{"orb", "-u", "root"}, false, true};
  }
  std::vector<std::string> ssh_argv(const std::string& /*vm*/,
                                    const std::vector<std::string>& command) const override {
    std::vector<std::string> argv = {"orb"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
};

// No VM: containers run on the host's engine; commands run locally.
class HostProvider final : public AppProvider {
 public:
  explicit HostProvider(std::string engine) : engine_(std::move(engine)) {}
  std::string_view name() const override { return "host"; }
  std::string binary() const override { return engine_; }
  std::string runtime() const override { return engine_; }
  std::vector<std::string> start_argv(const std::string& /*vm*/) const override { return {}; }
  std::vector<std::string> stop_argv(const std::string& /*vm*/) const override { return {}; }
  std::vector<std::vector<std::string>> resize_argvs(const std::string& /*vm*/,
                                                     const MachineSizes& /*sizes*/,
                                                     bool /*was_running*/) const override {
    throw Error(ErrorCode::unsupported, "the host provider has no VM to resize",
                "containers use the host's CPUs and memory directly");
  }
  MachineState inspect(Context& context, const std::string& /*vm*/) const override {
    if (engine_ == "docker") return docker_engine_state(context);
    const std::vector<std::string> argv = {"podman", "info", "--format", "json"};
    const auto result = run_query(context, argv);
    MachineState state;
    state.exists = true;
    state.state = result.ok() ? "running" : "stopped";
    const auto doc = core::parse_json_or_null(result.out);
    if (const auto* info = doc.if_object()) {
      if (const auto* host = info->if_contains("host"); host != nullptr && host->is_object()) {
        state.sizes.cpus = static_cast<int>(core::int_field(host->as_object(), "cpus"));
        state.sizes.memory_mb =
            static_cast<int>(core::int_field(host->as_object(), "memTotal") / kMiB);
      }
    }
    return state;
  }
  ExecTransport transport(const std::string& /*vm*/) const override { return {}; }
  std::vector<std::string> ssh_argv(const std::string& /*vm*/,
                                    const std::vector<std::string>& command) const override {
    if (command.empty()) return {"/bin/sh", "-l"};
    return command;
  }

 private:
  std::string engine_;
};

}  // namespace

std::unique_ptr<Provider> make_docker_desktop_provider() {
  return std::make_unique<DockerDesktopProvider>();
}
std::unique_ptr<Provider> make_orbstack_provider() { return std::make_unique<OrbStackProvider>(); }
std::unique_ptr<Provider> make_host_provider(std::string engine) {
  return std::make_unique<HostProvider>(std::move(engine));
}

}  // namespace devx::vm
