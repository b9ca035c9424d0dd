// Databases as containers: the engine's image, a named volume devx-data-<run_key>-<name> on its
// data path (kept by `down` unless volumes are removed), its environment (with the generated
// password) in the 0600 env-file, and the engine's port published on 127.0.0.1.
#include <devx/error.hpp>

#include "runtime/container_runtime.hpp"
#include "runtime/database.hpp"
#include "runtime/database_runtimes.hpp"

namespace devx::runtime::detail {
namespace {

std::map<std::string, std::string> container_env(const Database& database,
                                                 const std::string& password) {
  switch (database.engine) {
    case DatabaseEngine::postgres:
      return {{"POSTGRES_USER", "devx"}, {"POSTGRES_PASSWORD", password}, {"POSTGRES_DB", "devx"}};
    case DatabaseEngine::mysql:
      return {{"MYSQL_ROOT_PASSWORD", password},
              {"MYSQL_DATABASE", "devx"},
              {"MYSQL_USER", "devx"},
              {"MYSQL_PASSWORD", password}};
    case DatabaseEngine::mongo:
      return {{"MONGO_INITDB_ROOT_USERNAME", "devx"}, {"MONGO_INITDB_ROOT_PASSWORD", password}};
    case DatabaseEngine::redis:
      break;
  }
  return {};
}

class DatabaseContainerRuntime final : public NodeRuntime {
 public:
  DatabaseContainerRuntime(Database database, ContainerEngine engine)
      : database_(std::move(database)), containers_(std::move(engine)) {}

  std::string name() const override {
    return std::string(engine_info(database_.engine).name) + "-" + containers_.name();
  }

  std::unique_ptr<RunningNode> launch(Context& context, const LaunchSpec& spec) override {
    const auto& info = engine_info(database_.engine);
    LaunchSpec full = spec;
    if (full.image.empty()) full.image = database_image(database_);
    if (!full.container_port) full.container_port = info.port;
    if (!full.port) full.port = info.port;
    auto env = container_env(database_, database_password(context, spec.run_key, database_));
    for (const auto& [key, value] : spec.env) env[key] = value;
    full.env = std::move(env);
    if (full.argv.empty() && database_.engine == DatabaseEngine::redis) {
      full.argv = {"redis-server", "--appendonly", "yes"};
    }

    ContainerExtras extras;
    extras.kind = "database";
    extras.labels["devx.engine"] = std::string(info.name);
    const std::string volume = database_volume_name(spec.run_key, spec.name);
    containers_.engine().volume_create(context, volume,
                                       {{std::string(kLabelProject), spec.project},
                                        {std::string(kLabelRun), spec.run_key},
                                        {std::string(kLabelService), spec.name},
                                        {"devx.engine", std::string(info.name)}});
    extras.volumes.push_back(VolumeMount{volume, std::string(info.data_path), false});
    return containers_.launch(context, full, extras);
  }

 private:
  Database database_;
  ContainerRuntime containers_;
};

}  // namespace

std::shared_ptr<NodeRuntime> make_database_container_runtime(const Database& database,
                                                             ContainerEngine engine) {
  return std::make_shared<DatabaseContainerRuntime>(database, std::move(engine));
}

}  // namespace devx::runtime::detail
