#pragma once
// The project configuration (devx.yaml): the resolved model, loading (discovery, include:,
// profiles), strict validation with file:line:col diagnostics, and JSON/YAML/JSON-Schema output.
// docs/configuration.md describes every key and the merge rules.
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace devx {

struct SourceLocation {
  std::string file;  // absolute path
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  SourceLocation location;
  std::string message;
  std::string hint;  // e.g. "did you mean 'depends_on'?"; may be empty
  // "file:line:col: error: message"
  DEVX_API std::string to_string() const;
};

using Milliseconds = std::chrono::milliseconds;

enum class ServiceRuntime { host, container, kubernetes, cloud, bridge };
enum class DependencyCondition { service_started, service_healthy, service_completed_successfully };
enum class DatabaseEngine { postgres, redis, mysql, mongo };
enum class DatabaseRuntime { auto_, container, host };
enum class RestartPolicyKind { no, on_failure, always };

struct Dependency {
  std::string name;
  // Resolved: the declared condition, else service_healthy when the dependency has a health check
  // (databases always do), else service_started.
  DependencyCondition condition = DependencyCondition::service_started;
  bool condition_declared = false;
  SourceLocation location;
};

struct HealthCheck {
  // Exactly one probe kind is set.
  std::string http;               // URL; 2xx/3xx is healthy
  std::string tcp;                // host:port that must accept a connection
  std::vector<std::string> exec;  // argv; exit 0 is healthy (a string runs through /bin/sh -c)
  std::string log;                // ECMAScript regex matched against each output line
  Milliseconds interval{1000};    // the longest gap between probes (probes back off up to it)
  Milliseconds timeout{5000};     // per probe
  Milliseconds start_period{30000};  // time to become healthy before failures count
  int retries = 3;                // consecutive failures (after start_period) before unhealthy
  SourceLocation location;
};

struct RestartPolicy {
  RestartPolicyKind kind = RestartPolicyKind::no;
  int max_retries = 0;  // on-failure:N; 0 = unlimited
  bool operator==(const RestartPolicy&) const = default;
};

struct SyncMapping {
  std::string container;
  std::string src;  // absolute (resolved against the declaring file's directory)
  std::string dest;
  std::vector<std::string> ignore;
};

struct BridgeTarget {
  std::string service;
  std::string namespace_;  // "" = bridge.namespace, else "default"
  int port = 0;
  int local_port = 0;  // 0 = any free port
};

struct BridgeIntercept {
  std::string service;
  std::string namespace_;
  int port = 0;
  int local_port = 0;  // 0 = the service's own port
  std::string mode = "steal";
};

struct Service {
  std::string name;
  ServiceRuntime runtime = ServiceRuntime::host;
  std::vector<std::string> command;  // argv; a YAML string becomes {"/bin/sh","-c",string}
  std::string image;                 // runtime: container
  std::optional<int> port;           // host port (shifted at `up` when busy)
  std::optional<int> container_port; // runtime: container; defaults to port
  std::string working_dir;           // absolute; defaults to the directory of the declaring file
  std::map<std::string, std::string> env;
  std::vector<Dependency> depends_on;
  std::optional<HealthCheck> healthcheck;
  RestartPolicy restart;
  Milliseconds stop_grace_period{10000};
  std::vector<SyncMapping> sync;
  std::optional<BridgeTarget> bridge_target;
  std::optional<BridgeIntercept> bridge_intercept;
  // Environment sources for this service: the project's `env` plus the `env_file` of the include
  // that brought it in (file:// URIs are absolute).
  std::vector<std::string> env_sources;
  std::filesystem::path dir;  // directory of the file that declared it
  SourceLocation location;
};

struct DatabasePull {
  std::string command;
  std::string format = "sql";  // sql | custom
  int jobs = 0;                // 0 = number of CPUs
};

struct Database {
  std::string name;  // defaults to the engine; the node name in the graph
  DatabaseEngine engine = DatabaseEngine::postgres;
  int port = 0;      // defaults to the engine's port (5432, 6379, 3306, 27017)
  std::string version;
  DatabaseRuntime runtime = DatabaseRuntime::auto_;
  std::optional<DatabasePull> pull;
  std::string seed_command;
  std::filesystem::path dir;
  SourceLocation location;
};

struct Tunnel {
  std::string name;  // defaults to "port-<port>"
  int port = 0;
  std::string basic_auth;  // user:password (a secret: redacted in JSON/YAML output)
  std::string throttle;
  SourceLocation location;
};

struct Mock {
  std::string name;
  std::string url;
  int port = 0;  // 0 = any free port
  SourceLocation location;
};

struct CommandList {
  std::vector<std::vector<std::string>> commands;  // from `command:` (one) or `commands:` (many)
};

struct PipelineStage {
  std::vector<std::vector<std::string>> commands;
  std::vector<std::vector<std::string>> before;
  std::vector<std::vector<std::string>> after;
};

struct Pipeline {
  std::optional<PipelineStage> test, lint, build, verify;
};

struct BridgeConfig {
  std::string kubeconfig;
  std::string context;
  std::string namespace_;
  std::string agent_image;
  std::vector<BridgeTarget> targets;
  std::vector<BridgeIntercept> intercepts;
  SourceLocation location;
};

struct UiTest {
  std::string setup;
  std::string command;
};

struct Project {
  std::string name;    // defaults to the root directory's name
  std::string domain;  // defaults to "<user>.ipv1337.dev"
  std::string provider = "auto";
  bool ai_bridge = true;
  std::vector<std::string> env;  // environment sources (URIs), root and included, deduplicated
  std::vector<Tunnel> tunnels;
  std::vector<Database> databases;
  std::vector<Service> services;
  std::vector<Mock> mocks;
  std::optional<UiTest> ui_test;
  Pipeline pipeline;
  std::map<std::string, CommandList> custom_actions;
  std::optional<BridgeConfig> bridge;
  std::string state_relay;
  std::vector<std::string> profiles;  // names defined in the root file, sorted
  std::string active_profile;         // "" when none
  std::filesystem::path root_file;    // absolute path of the root devx.yaml
  std::filesystem::path root_dir;
  std::vector<std::filesystem::path> files;  // every file loaded, root first, in include order

  const Service* find_service(std::string_view name) const;
  const Database* find_database(std::string_view name) const;
};

struct LoadOptions {
  std::string profile;  // "" = none
  // Overrides of the defaults that depend on the environment (for reproducible output).
  std::optional<std::string> user;  // default domain is "<user>.ipv1337.dev"
};

struct LoadResult {
  std::optional<Project> project;        // set when there are no errors
  std::vector<Diagnostic> diagnostics;   // errors and warnings, sorted by file, line, column
  bool ok() const noexcept { return project.has_value(); }
};

// Walks up from `start` (a directory, or a file whose directory is used) to the first devx.yaml.
// Throws Error(config_not_found).
DEVX_API std::filesystem::path find_project_file(const std::filesystem::path& start);

// Loads `path` (a devx.yaml, or a directory searched with find_project_file) and validates it.
// Never throws for problems in the configuration: they are diagnostics. Throws
// Error(config_not_found) when there is no file to load.
DEVX_API LoadResult load_project(const std::filesystem::path& path, const LoadOptions& options = {});

// Like load_project, but throws Error(config_invalid) whose details hold the diagnostics.
DEVX_API Project load_project_or_throw(const std::filesystem::path& path,
                                       const LoadOptions& options = {});

// A project load running on a context thread: progress events name each file, the operation's
// result is the resolved project JSON, and project() hands over the loaded Project.
class DEVX_API ProjectLoad {
 public:
  struct State;
  explicit ProjectLoad(Operation operation, std::shared_ptr<State> state);
  Operation& operation() noexcept { return operation_; }
  // Waits for the load; the project, or the operation's Error (config_invalid, cancelled …).
  std::shared_ptr<const Project> project() const;

 private:
  Operation operation_;
  std::shared_ptr<State> state_;
};

DEVX_API ProjectLoad start_project_load(Context& context, std::filesystem::path path,
                                        LoadOptions options = {});

// Loads YAML text as if it were the file `virtual_path` (includes are read from disk relative to it).
DEVX_API LoadResult load_project_from_string(std::string_view yaml,
                                             const std::filesystem::path& virtual_path,
                                             const LoadOptions& options = {});

// The resolved project as a JSON document ({"v":1,…}; see docs/schemas/project.schema.json).
// Go-style durations ("1m30s", "1.5s", "250ms"), as in devx.yaml; nullopt when malformed.
DEVX_API std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

DEVX_API std::string project_to_json(const Project& project);
// The resolved project as devx.yaml-shaped YAML (a single file, includes and profile applied).
DEVX_API std::string project_to_yaml(const Project& project);
// {"v":1,"ok":…,"diagnostics":[{"severity","file","line","column","message","hint"}]}
DEVX_API std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics);
// An Error(config_invalid) describing the error diagnostics.
DEVX_API Error config_error(const std::vector<Diagnostic>& diagnostics);
// The JSON Schema of devx.yaml, generated from the same field table the loader uses.
DEVX_API std::string devx_yaml_json_schema();
// The JSON Schema of project_to_json's output (docs/schemas/project.schema.json).
DEVX_API std::string project_json_schema();

DEVX_API std::string_view to_string(ServiceRuntime runtime) noexcept;
DEVX_API std::string_view to_string(DependencyCondition condition) noexcept;
DEVX_API std::string_view to_string(DatabaseEngine engine) noexcept;
DEVX_API std::string_view to_string(DatabaseRuntime runtime) noexcept;
DEVX_API int default_port(DatabaseEngine engine) noexcept;

}  // namespace devx
