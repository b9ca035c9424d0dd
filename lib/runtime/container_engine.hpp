#pragma once
// The one adapter for the Podman / Docker command-line tools: it builds every argv libdevx
// passes to them and parses every output it reads from them. No other file spawns `podman` or
// `docker` or parses their output.
//
// Invariants kept here:
//  * ports are published on loopback only (`-p 127.0.0.1:<host>:<container>`);
//  * environment values never appear in argv: they go to a 0600 `--env-file` (or, for values the
//    env-file format cannot carry, such as multi-line values, `--env NAME` with the value in the
//    engine process's own environment);
//  * every container and volume carries the devx.* labels, so reconciliation finds them by label.
// The engine process inherits the Context environment, so CONTAINERS_CONF, DOCKER_HOST … apply.
#include <devx/process.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json {
class value;
}

namespace devx {
class Context;
}

namespace devx::runtime {

enum class EngineKind { podman, docker };

inline constexpr std::string_view kLabelProject = "devx.project";
inline constexpr std::string_view kLabelRun = "devx.run";
inline constexpr std::string_view kLabelService = "devx.service";
inline constexpr std::string_view kLabelKind = "devx.kind";  // "service" | "database"

struct PortMapping {
  int host_port = 0;
  int container_port = 0;
  std::string host_ip = "127.0.0.1";  // must be a loopback address
  std::string protocol = "tcp";
};

struct VolumeMount {
  std::string source;  // a named volume or an absolute host path
  std::string target;  // absolute path in the container
  bool read_only = false;
};

struct RunRequest {
  std::string name;
  std::string image;
  std::vector<std::string> command;  // empty: the image's default command
  std::map<std::string, std::string> labels;
  std::vector<PortMapping> ports;
  std::vector<VolumeMount> volumes;
  std::map<std::string, std::string> env;  // values are written to env_file, never to argv
  std::filesystem::path env_file;          // required when env is not empty
  bool init = true;  // --init: a tiny PID 1 that forwards signals and reaps (graceful stop works)
  std::optional<std::string> workdir;
  std::optional<std::string> user;
};

// What prepare_run() produces: nothing is executed or written yet.
struct PreparedRun {
  std::vector<std::string> argv;
  std::map<std::string, std::string> process_env;  // for the engine process (multi-line values)
  std::string env_file_content;                    // "" when no --env-file is used
};

struct ContainerState {
  std::string id;
  std::string name;
  std::string status;  // created, running, exited, stopped, paused …
  bool running = false;
  int exit_code = 0;
  std::map<std::string, std::string> labels;
};

// Labels as an engine prints them in JSON: an object (podman) or "k=v,k2=v2" (docker); none for
// a missing value.
std::map<std::string, std::string> labels_of(const boost::json::value* value);

struct ContainerSummary {
  std::string id;
  std::string name;
  std::string image;
  std::string state;  // running, exited, created …
  std::optional<int> exit_code;
  std::map<std::string, std::string> labels;
};

struct ExecOptions {
  bool interactive = false;  // -i
  bool tty = false;          // -t
  std::optional<std::string> workdir;
  std::vector<std::string> env_names;  // passed as --env NAME: values come from exec's environment
};

class ContainerEngine {
 public:
  ContainerEngine(EngineKind kind, std::string executable);

  // The first of podman, docker found on the PATH of `env` (the Context environment).
  // `preferred` ("podman", "docker" or a path) overrides the order; when empty the variable
  // DEVX_CONTAINER_ENGINE of `env` is used. nullopt when nothing usable is found.
  static std::optional<ContainerEngine> detect(const std::map<std::string, std::string>& env,
                                               std::string_view preferred = {});
  // detect() on the context environment, or Error(command_not_found) with an install hint.
  static ContainerEngine detect_or_throw(const Context& context, std::string_view preferred = {});

  EngineKind kind() const noexcept { return kind_; }
  std::string_view name() const noexcept;  // "podman" | "docker"
  const std::string& executable() const noexcept { return executable_; }

  // --- argv builders (pure) ---------------------------------------------------------------
  PreparedRun prepare_run(const RunRequest& request) const;
  std::vector<std::string> logs_argv(std::string_view container, bool follow) const;
  std::vector<std::string> inspect_argv(std::string_view container) const;
  std::vector<std::string> wait_argv(std::string_view container) const;
  std::vector<std::string> stop_argv(std::string_view container,
                                     std::chrono::milliseconds grace) const;
  std::vector<std::string> rm_argv(std::string_view container) const;
  std::vector<std::string> ps_argv(const std::map<std::string, std::string>& labels) const;
  std::vector<std::string> exec_argv(std::string_view container,
                                     const std::vector<std::string>& command,
                                     const ExecOptions& options = {}) const;
  std::vector<std::string> volume_create_argv(
      std::string_view volume, const std::map<std::string, std::string>& labels) const;
  std::vector<std::string> volume_inspect_argv(std::string_view volume) const;
  std::vector<std::string> volume_rm_argv(std::string_view volume) const;
  std::vector<std::string> image_exists_argv(std::string_view image) const;

  // --- output parsers (pure) --------------------------------------------------------------
  // `inspect` output (a JSON array with one object). Throws Error(internal) on malformed output.
  static ContainerState parse_inspect(std::string_view json);
  // `ps --format json`: Podman's JSON array or Docker's JSON Lines.
  static std::vector<ContainerSummary> parse_ps(std::string_view output);
  // `wait` output: the exit code on the last line.
  static std::optional<int> parse_wait(std::string_view output);

  // --- execution through the Context's CommandRunner ----------------------------------------
  // Writes the env-file (0600), runs `run -d`, deletes the env-file; returns the container id.
  // A container of the same name left over from a crash is removed and the run retried once.
  std::string run(Context& context, const RunRequest& request) const;
  std::optional<ContainerState> inspect(Context& context, std::string_view container) const;
  void stop(Context& context, std::string_view container, std::chrono::milliseconds grace) const;
  // rm -f; a container that does not exist is not an error.
  void remove(Context& context, std::string_view container) const;
  std::vector<ContainerSummary> list(Context& context,
                                     const std::map<std::string, std::string>& labels) const;
  // Creates the volume unless it exists.
  void volume_create(Context& context, std::string_view volume,
                     const std::map<std::string, std::string>& labels) const;
  bool volume_exists(Context& context, std::string_view volume) const;
  // rm -f; a volume that does not exist is not an error.
  void volume_remove(Context& context, std::string_view volume) const;
  bool image_exists(Context& context, std::string_view image) const;
  // `logs -f`, each line to `on_line` on the child's supervising thread.
  std::unique_ptr<ChildProcess> follow_logs(
      Context& context, std::string_view container,
      std::function<void(std::string_view, bool)> on_line) const;
  // `wait`, in the background: its output is the exit code (parse_wait).
  std::unique_ptr<ChildProcess> spawn_wait(Context& context, std::string_view container) const;

 private:
  std::vector<std::string> base() const { return {executable_}; }
  CommandResult run_checked(Context& context, std::vector<std::string> argv,
                            std::chrono::milliseconds timeout, std::string_view what) const;

  EngineKind kind_;
  std::string executable_;
};

// "devx-<run_key>-<service>"; Error(invalid_argument) when a part is not a valid name.
std::string container_name(std::string_view run_key, std::string_view node);
// Container and volume name parts: [A-Za-z0-9][A-Za-z0-9_.-]*
bool is_valid_name_part(std::string_view part) noexcept;

}  // namespace devx::runtime
