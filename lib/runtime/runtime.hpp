#pragma once
// Internal seam between the orchestrator and the places a node can run: a host process
// group, a container (Podman/Docker CLI), or a native database server. The orchestrator owns
// ordering, health and restart policy; a runtime only launches, reports exit, and stops.
#include <devx/config.hpp>
#include <devx/context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace devx::runtime {

// Called with each output line of a node (without '\n'), on a runtime-owned thread.
using LineSink = std::function<void(std::string_view line, bool from_stderr)>;

struct LaunchSpec {
  std::string project;   // project name (labels, container names)
  std::string run_key;   // unique per project (run directory name): labels, container names
  std::string name;      // node name
  std::vector<std::string> argv;
  std::filesystem::path cwd;
  std::map<std::string, std::string> env;  // complete environment (host) / extra variables (container)
  std::optional<int> port;                 // host port (already shifted)
  std::optional<int> container_port;       // inside the container
  std::string image;
  std::filesystem::path data_dir;          // databases: where data lives (host runtime)
  LineSink on_line;
};

struct ExitStatus {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;
};

class RunningNode {
 public:
  virtual ~RunningNode() = default;
  virtual int pid() const noexcept = 0;                // 0 when not a host process
  virtual std::string container() const { return {}; }  // container name, when a container
  // The exit status once the node ended; waits up to `timeout`.
  virtual std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout) = 0;
  // Graceful stop: SIGTERM (or `podman stop -t`), up to `grace`, then SIGKILL; waits.
  virtual ExitStatus stop(std::chrono::milliseconds grace) = 0;
};

class NodeRuntime {
 public:
  virtual ~NodeRuntime() = default;
  virtual std::string name() const = 0;  // "host", "podman", "docker", "postgres-host" …
  // Throws Error (command_not_found, command_failed …) when the node cannot start.
  virtual std::unique_ptr<RunningNode> launch(Context& context, const LaunchSpec& spec) = 0;
};

}  // namespace devx::runtime
