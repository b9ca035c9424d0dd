#pragma once
// Databases as graph nodes: the engine table (images, ports, data paths, environment, readiness
// probes, connection URLs), the choice between a container and a native host server, and the
// runtimes that launch them. docs/runtimes.md documents every value here.
//
// The orchestrator calls:
//   choose_database_runtime()  — which placement a Database gets (host / container), or an Error
//   make_database_runtime()    — the NodeRuntime for that placement
//   database_endpoint()        — the URL and variables dependents receive
//   readiness_probe_argv()     — the exec health probe for the node
//   remove_database_data()     — `down --volumes`
#include <devx/config.hpp>
#include <devx/context.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/container_engine.hpp"
#include "runtime/runtime.hpp"

namespace devx::runtime {

struct DatabaseEngineInfo {
  DatabaseEngine engine;
  std::string_view name;       // "postgres"
  std::string_view image;      // default image (the tag follows Database::version when set)
  int port;                    // the engine's port (inside a container; default host port)
  std::string_view data_path;  // data directory inside the container
  bool uses_password;          // a generated password protects it (see database_password)
};

const DatabaseEngineInfo& engine_info(DatabaseEngine engine);

// The image for a database: engine_info().image, with its tag replaced by Database::version.
std::string database_image(const Database& database);

enum class DatabasePlacement { host, container };
std::string_view to_string(DatabasePlacement placement) noexcept;

struct DatabaseRuntimeChoice {
  DatabasePlacement placement = DatabasePlacement::host;
  std::optional<ContainerEngine> engine;  // set for container placement
  std::string reason;                     // why (for plans and `ps`)
};

// Whether the engine's native server binaries are installed (PATH, and for PostgreSQL also
// /usr/lib/postgresql/<major>/bin, preferring Database::version's major).
bool host_binaries_available(const Context& context, const Database& database);

// runtime host: the binaries must exist; container: an engine must exist; auto: host when the
// binaries exist, else container when an engine exists. Error(unsupported) for engines without
// a host implementation (mysql, mongo) asked to run on the host; Error(command_not_found) when
// nothing can run the database. `container_engine` overrides engine detection ("podman" …).
DatabaseRuntimeChoice choose_database_runtime(const Context& context, const Database& database,
                                              std::string_view container_engine = {});

std::shared_ptr<NodeRuntime> make_database_runtime(const Database& database,
                                                   const DatabaseRuntimeChoice& choice);

// The generated password of a database (created on first use: 24 random alphanumerics in
// <run dir>/secrets/<name>.password, mode 0600). "" for engines without a password.
std::string database_password(const Context& context, std::string_view run_key,
                              const Database& database);

struct DatabaseEndpoint {
  std::string url;                         // contains the password: a secret
  std::map<std::string, std::string> env;  // DATABASE_URL / REDIS_URL / PG* … for dependents
};

// `port` is the host port after shifting.
DatabaseEndpoint database_endpoint(const Context& context, std::string_view run_key,
                                   const Database& database, int port);

// The exec probe that succeeds (exit 0) once the server accepts connections. Host placement: run
// on the host against 127.0.0.1:<port>; container placement: run in the container through
// `<engine> exec`, against the engine's own port.
std::vector<std::string> readiness_probe_argv(const Context& context, std::string_view run_key,
                                              const Database& database,
                                              const DatabaseRuntimeChoice& choice, int port);

// Names used for a database: container devx-<run_key>-<name>, volume devx-data-<run_key>-<name>,
// host data directory <run dir>/data/<name>.
std::string database_volume_name(std::string_view run_key, std::string_view name);
std::filesystem::path database_data_directory(const Context& context, std::string_view run_key,
                                              std::string_view name);

// `down --volumes`: removes the volume (container) or the data directory (host).
void remove_database_data(Context& context, std::string_view run_key, const Database& database,
                          const DatabaseRuntimeChoice& choice);

// The user that host database servers run as when libdevx runs as root (PostgreSQL refuses to
// run as root): "devx-db", a system user created with useradd on first use.
inline constexpr std::string_view kDatabaseUser = "devx-db";

// Where host database data lives when libdevx runs as root and kDatabaseUser cannot traverse the
// run directory (DEVX_HOME=/root/.devx): <kHostDataRoot>/<run_key>-<8 hex>/<name>, linked from
// <run dir>/data/<name>. docs/runtimes.md describes the layout.
inline constexpr std::string_view kHostDataRoot = "/var/lib/devx";

// Removes a host database data directory: `path` is <run dir>/data/<name> or <run dir>/data.
// Links to relocated directories (under kHostDataRoot) are followed: the target goes too.
void remove_host_data(const std::filesystem::path& path);

}  // namespace devx::runtime
