#pragma once
// `devx up` and the service lifecycle: planning (ports, environment, start order), bringing a
// project up as a dependency graph with health checks, supervision (restart policies), and
// stopping it in reverse dependency order. docs/orchestration.md describes the semantics.
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devx {

struct UpOptions {
  // Services (or databases) to bring up, with everything they depend on; empty = all.
  std::vector<std::string> only;
  // On a failure, keep what already runs (default: stop everything that was started).
  bool keep_going = false;
  // "podman" | "docker" | "" (auto: podman, then docker, on PATH).
  std::string container_engine;
};

enum class NodeKind { service, database };

// One step of the plan: what will run, where, when, and with which environment (names only).
struct PlannedNode {
  std::string name;
  NodeKind kind = NodeKind::service;
  std::string runtime;            // host | container | bridge | database runtimes: host | container
  std::vector<std::string> argv;  // the command (never holds secrets)
  std::string cwd;
  std::optional<int> requested_port;
  std::optional<int> port;            // after shifting a busy port
  std::vector<Dependency> waits_for;  // with resolved conditions
  // One line per dependency: "api service_healthy (http http://127.0.0.1:8080/health)".
  std::vector<std::string> wait_reasons;
  std::vector<std::string> env_names;  // sorted; values are not part of a plan
  // Where values come from besides env/PORT/dependencies (URIs; a URI never holds a secret).
  std::vector<std::string> env_sources;
  std::string healthcheck;  // "http http://127.0.0.1:8080/health" (ports substituted)
  std::string bridge;  // runtime bridge: "connect ns/svc:8080 → 127.0.0.1:PORT" / "intercept …"
  int wave = 0;        // length of the longest dependency chain below it
};

// A route `up` adds for an entry of the project's `tunnels:` (docs/tunnels.md, "devx up").
struct PlannedTunnelRoute {
  std::string name;      // the entry's name ("port-<port>" when it has none)
  std::string service;   // the service or database listening on the port; "" when none is
  std::string hostname;  // "<name>-<project>.<zone>"; "" when no zone is known
  int port = 0;          // the node's port after shifting (the route follows the node)
  std::vector<std::string> layers;  // edge proxies in front, in chain order: throttle, basic_auth
};

struct UpPlan {
  std::string project;
  std::vector<PlannedNode> nodes;           // a topological order
  std::vector<PlannedTunnelRoute> tunnels;  // computed from devx.yaml; Cloudflare is not asked
  std::vector<std::string> warnings;        // e.g. "port 5432 is busy: postgres moved to 5433"
  // {"v":1,"project":…,"nodes":[…],"tunnels":[…] (only when there are some),"warnings":[…]}
  // (docs/schemas/up-plan.schema.json)
  DEVX_API std::string to_json() const;
};

enum class ServiceState {
  pending,   // waiting for its dependencies
  starting,  // started, not yet ready
  running,   // started, no health check
  healthy,
  unhealthy,  // failed its health check after becoming ready once (restart policy applies)
  completed,  // exited 0 (service_completed_successfully)
  failed,     // exited non-zero / could not start / never became healthy
  stopping,
  stopped,
};
DEVX_API std::string_view to_string(ServiceState state) noexcept;

struct ServiceStatus {
  std::string name;
  NodeKind kind = NodeKind::service;
  std::string runtime;
  ServiceState state = ServiceState::pending;
  int pid = 0;            // host processes
  std::string container;  // container runtimes
  std::optional<int> port;
  int restarts = 0;
  std::int64_t started_at_ms = 0;  // Unix ms of the current start; 0 when not running
  std::optional<int> exit_code;
  std::string message;  // last error or health output
};

// What reconcile_run_state found and did.
struct ReconcileReport {
  bool found = false;  // a state.json exists for the project
  bool stale = false;  // its owner process is gone
  int owner_pid = 0;
  std::vector<std::string> killed;      // "api (pgid 1234)": process groups still alive, killed
  std::vector<std::string> containers;  // containers recorded in the stale state (to remove)
  std::string to_json() const;          // {"v":1,"found":…,"stale":…,"owner_pid":…,…}
};

struct StopOptions {
  bool remove_volumes = false;    // database volumes/data are kept unless asked
  std::vector<std::string> only;  // empty = everything
};

// A project brought up by this process. Owns its services: destroying it stops them.
// Thread-safe. Events (state changes, logs, restarts) go to the Context's subscribers and, while
// an operation runs, to that operation.
class DEVX_API Session {
 public:
  static std::shared_ptr<Session> create(Context& context, Project project, UpOptions options = {});
  virtual ~Session() = default;

  virtual const Project& project() const = 0;
  // Starts every node as soon as its own dependencies satisfy their conditions. The result is
  // {"v":1,"services":[status…]} once all are ready; on failure, Error(command_failed | timeout …)
  // naming the node, its exit status and last log lines.
  virtual Operation up() = 0;
  // Stops in reverse dependency order: SIGTERM to the process group, grace period, SIGKILL;
  // containers are removed.
  virtual Operation down(StopOptions options = {}) = 0;
  virtual Operation restart(std::string service) = 0;
  virtual std::vector<ServiceStatus> status() const = 0;
  // {"v":1,"project":…,"services":[…]} (docs/schemas/status.schema.json)
  virtual std::string status_json() const = 0;
  // The last output lines of a node (up to ~20; oldest first).
  virtual std::vector<std::string> recent_output(std::string_view node) const = 0;

  // Every event of the session (state changes, restarts, and each output line as a `log` event
  // with source = node name) for as long as the session lives, whether or not an operation runs.
  // Called on library threads (node threads, output readers); must not block. Output lines go
  // only to these listeners, never into an Operation's queue (a log flood must not grow memory).
  virtual int subscribe(std::function<void(const Event&)> listener) = 0;
  virtual void unsubscribe(int id) = 0;
};

// The plan `up` would follow, without starting anything (--dry-run). Busy ports are shifted
// against the machine's current state.
DEVX_API UpPlan plan_up(Context& context, const Project& project, const UpOptions& options = {});

// Environment variables a node's dependents see (docs/orchestration.md, "Environment").
// For a service: <NAME>_HOST, <NAME>_PORT, <NAME>_URL; databases add DATABASE_URL / REDIS_URL ….
DEVX_API std::map<std::string, std::string> dependency_environment(const Project& project,
                                                                   std::string_view node, int port);

// The complete environment `up` gives `service` (a service or database): the process
// environment, env sources (secret managers are called), PORT, its dependencies' variables and
// its own `env` (docs/orchestration.md, "Environment"). `ports` pins node ports (node → port),
// normally those of the running project from its status; other ports are planned as by `up`.
// Holds secrets: never print it. Used by `devx exec`.
DEVX_API std::map<std::string, std::string> service_environment(
    Context& context, const Project& project, std::string_view service,
    const std::map<std::string, int>& ports = {});

// Where the run state and logs of a project live: DEVX_HOME/run/<name>-<hash of root_file>/.
DEVX_API std::filesystem::path run_directory(const Context& context, const Project& project);

// After a crash of the process that ran `up` (state.json names an owner pid that is gone): kills
// every recorded process group still alive (a pid is trusted only when its /proc start time
// matches the recorded one, so reused pids are never signalled) and removes the stale state.
// Does nothing when the owner is alive.
DEVX_API ReconcileReport reconcile_run_state(Context& context, const Project& project);

}  // namespace devx
