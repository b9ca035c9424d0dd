// The database engine table and the decisions made from it (placement, endpoint, probes).
#include <devx/error.hpp>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/unique_fd.hpp"
#include "runtime/container_runtime.hpp"
#include "runtime/database.hpp"
#include "runtime/database_runtimes.hpp"
#include "runtime/private_file.hpp"

namespace devx::runtime {
namespace {

// Values from the original tool (reference/orchestration.md §3.13), so existing volumes and
// habits keep working; the password is generated per database instead of the fixed "devx".
constexpr std::array<DatabaseEngineInfo, 4> kEngines{{
    {DatabaseEngine::postgres, "postgres", "docker.io/library/postgres:16-alpine", 5432,
     "/var/lib/postgresql/data", true},
    {DatabaseEngine::redis, "redis", "docker.io/library/redis:7-alpine", 6379, "/data", false},
    {DatabaseEngine::mysql, "mysql", "docker.io/library/mysql:8", 3306, "/var/lib/mysql", true},
    {DatabaseEngine::mongo, "mongo", "docker.io/library/mongo:7", 27017, "/data/db", true},
}};

constexpr std::string_view kUser = "devx";
constexpr std::string_view kDbName = "devx";

bool has_host_implementation(DatabaseEngine engine) {
  return engine == DatabaseEngine::postgres || engine == DatabaseEngine::redis;
}

std::string host_install_hint(DatabaseEngine engine) {
  switch (engine) {
    case DatabaseEngine::postgres:
      return "install PostgreSQL (apt-get install postgresql) or a container engine (podman)";
    case DatabaseEngine::redis:
      return "install Redis (apt-get install redis-server) or a container engine (podman)";
    case DatabaseEngine::mysql:
    case DatabaseEngine::mongo:
      break;
  }
  return "use `runtime: container` and install a container engine (podman or docker)";
}

std::string generate_password() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::array<unsigned char, 24> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::io, std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  std::string password;
  // 62 symbols: the modulo bias (256 % 62 = 8) costs well under a bit of the ~142 bits.
  for (const unsigned char b : bytes) password.push_back(kAlphabet[b % kAlphabet.size()]);
  return password;
}

}  // namespace

const DatabaseEngineInfo& engine_info(DatabaseEngine engine) {
  for (const auto& info : kEngines) {
    if (info.engine == engine) return info;
  }
  throw Error(ErrorCode::internal, "unknown database engine");
}

std::string database_image(const Database& database) {
  std::string image(engine_info(database.engine).image);
  if (database.version.empty()) return image;
  const auto colon = image.rfind(':');
  return image.substr(0, colon) + ":" + database.version;
}

std::string_view to_string(DatabasePlacement placement) noexcept {
  return placement == DatabasePlacement::host ? "host" : "container";
}

bool host_binaries_available(const Context& context, const Database& database) {
  switch (database.engine) {
    case DatabaseEngine::postgres:
      return detail::postgres_bin_dir(context, database).has_value();
    case DatabaseEngine::redis:
      return detail::find_tool(context, "redis-server").has_value() &&
             detail::find_tool(context, "redis-cli").has_value();
    case DatabaseEngine::mysql:
    case DatabaseEngine::mongo:
      return false;  // no host implementation yet
  }
  return false;
}

DatabaseRuntimeChoice choose_database_runtime(const Context& context, const Database& database,
                                              std::string_view container_engine) {
  const auto& info = engine_info(database.engine);
  const std::string what = "database '" + database.name + "' (" + std::string(info.name) + ")";
  DatabaseRuntimeChoice choice;
  auto use_container = [&](std::string reason) {
    choice.placement = DatabasePlacement::container;
    choice.engine = ContainerEngine::detect_or_throw(context, container_engine);
    choice.reason = std::move(reason);
    return choice;
  };
  switch (database.runtime) {
    case DatabaseRuntime::host:
      if (!has_host_implementation(database.engine)) {
        throw Error(
            ErrorCode::unsupported,
            what + ": running " + std::string(info.name) + " as a host server is not supported yet",
            "use `runtime: container` (or `auto`) with podman or docker installed");
      }
      if (!host_binaries_available(context, database)) {
        throw Error(ErrorCode::command_not_found,
                    what + ": the " + std::string(info.name) + " server binaries are not installed",
                    host_install_hint(database.engine));
      }
      choice.placement = DatabasePlacement::host;
      choice.reason = "runtime: host";
      return choice;
    case DatabaseRuntime::container:
      return use_container("runtime: container");
    case DatabaseRuntime::auto_:
      break;
  }
  if (host_binaries_available(context, database)) {
    choice.placement = DatabasePlacement::host;
    choice.reason = "auto: " + std::string(info.name) + " server binaries are installed";
    return choice;
  }
  if (ContainerEngine::detect(context.env(), container_engine)) {
    return use_container("auto: no host " + std::string(info.name) +
                         " server; a container engine is installed");
  }
  throw Error(ErrorCode::command_not_found,
              what +
                  ": no way to run it: neither the server binaries nor a container engine "
                  "(podman, docker) are installed",
              host_install_hint(database.engine));
}

std::shared_ptr<NodeRuntime> make_database_runtime(const Database& database,
                                                   const DatabaseRuntimeChoice& choice) {
  if (choice.placement == DatabasePlacement::container) {
    if (!choice.engine) throw Error(ErrorCode::internal, "container placement without an engine");
    return detail::make_database_container_runtime(database, *choice.engine);
  }
  switch (database.engine) {
    case DatabaseEngine::postgres:
      return detail::make_postgres_host_runtime(database);
    case DatabaseEngine::redis:
      return detail::make_redis_host_runtime(database);
    case DatabaseEngine::mysql:
    case DatabaseEngine::mongo:
      break;
  }
  throw Error(ErrorCode::unsupported,
              std::string(engine_info(database.engine).name) + " cannot run as a host server yet",
              "use `runtime: container`");
}

std::string database_password(const Context& context, std::string_view run_key,
                              const Database& database) {
  if (!engine_info(database.engine).uses_password) return {};
  const auto path = run_directory(context, run_key) / "secrets" / (database.name + ".password");
  {
    std::ifstream in(path);
    std::string existing;
    if (in && std::getline(in, existing) && !existing.empty()) return existing;
  }
  std::string password = generate_password();
  write_private_file(path, password + "\n");
  return password;
}

DatabaseEndpoint database_endpoint(const Context& context, std::string_view run_key,
                                   const Database& database, int port) {
  const std::string host = "127.0.0.1";
  const std::string p = std::to_string(port);
  const std::string password = database_password(context, run_key, database);
  const std::string user(kUser);
  const std::string db(kDbName);
  DatabaseEndpoint endpoint;
  switch (database.engine) {
    case DatabaseEngine::postgres:
      endpoint.url = "postgresql://" + user + ":" + password + "@" + host + ":" + p + "/" + db;
      endpoint.env = {
          {"DATABASE_URL", endpoint.url}, {"PGHOST", host},  {"PGPORT", p}, {"PGUSER", user},
          {"PGPASSWORD", password},       {"PGDATABASE", db}};
      break;
    case DatabaseEngine::redis:
      endpoint.url = "redis://" + host + ":" + p;
      endpoint.env = {{"REDIS_URL", endpoint.url}};
      break;
    case DatabaseEngine::mysql:
      endpoint.url = "mysql://" + user + ":" + password + "@" + host + ":" + p + "/" + db;
      endpoint.env = {{"DATABASE_URL", endpoint.url}, {"MYSQL_URL", endpoint.url}};
      break;
    case DatabaseEngine::mongo:
      // The root user lives in the admin database.
      endpoint.url =
          "mongodb://" + user + ":" + password + "@" + host + ":" + p + "/?authSource=admin";
      endpoint.env = {{"MONGODB_URI", endpoint.url}, {"MONGO_URL", endpoint.url}};
      break;
  }
  return endpoint;
}

std::vector<std::string> readiness_probe_argv(const Context& context, std::string_view run_key,
                                              const Database& database,
                                              const DatabaseRuntimeChoice& choice, int port) {
  const bool in_container = choice.placement == DatabasePlacement::container;
  const std::string p = std::to_string(in_container ? engine_info(database.engine).port : port);
  std::vector<std::string> probe;
  switch (database.engine) {
    case DatabaseEngine::postgres: {
      std::string tool = "pg_isready";
      if (!in_container) {
        if (auto dir = detail::postgres_bin_dir(context, database)) tool = (*dir / tool).string();
      }
      probe = {
          tool, "-h", "127.0.0.1", "-p", p, "-U", std::string(kUser), "-d", std::string(kDbName)};
      break;
    }
    case DatabaseEngine::redis:
      probe = {"redis-cli", "-h", "127.0.0.1", "-p", p, "ping"};
      break;
    case DatabaseEngine::mysql:
      // Exits 0 once the server answers, even before authentication would succeed.
      probe = {"mysqladmin", "ping", "-h", "127.0.0.1", "-P", p, "--silent"};
      break;
    case DatabaseEngine::mongo:
      probe = {"mongosh", "--quiet", "--host", "127.0.0.1",
               "--port",  p,         "--eval", "db.adminCommand('ping').ok"};
      break;
  }
  if (!in_container) return probe;
  if (!choice.engine) throw Error(ErrorCode::internal, "container placement without an engine");
  return choice.engine->exec_argv(container_name(run_key, database.name), probe);
}

std::string database_volume_name(std::string_view run_key, std::string_view name) {
  // container_name validates both parts; the volume uses the same pattern.
  return "devx-data-" + container_name(run_key, name).substr(5);
}

std::filesystem::path database_data_directory(const Context& context, std::string_view run_key,
                                              std::string_view name) {
  if (!is_valid_name_part(name)) {
    throw Error(ErrorCode::invalid_argument, "invalid database name '" + std::string(name) + "'");
  }
  return run_directory(context, run_key) / "data" / std::string(name);
}

void remove_database_data(Context& context, std::string_view run_key, const Database& database,
                          const DatabaseRuntimeChoice& choice) {
  if (choice.placement == DatabasePlacement::container) {
    if (!choice.engine) throw Error(ErrorCode::internal, "container placement without an engine");
    choice.engine->volume_remove(context, database_volume_name(run_key, database.name));
    return;
  }
  remove_host_data(database_data_directory(context, run_key, database.name));
}

}  // namespace devx::runtime
