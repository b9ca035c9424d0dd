// Loading a project as an operation (devx_project_load_start, Python's load_async, Node's
// loadProject): one implementation of the work, its events and its cancellation points.
#include <devx/config.hpp>

#include <mutex>

namespace devx {

struct ProjectLoad::State {
  std::mutex mutex;
  std::shared_ptr<const Project> project;
};

ProjectLoad::ProjectLoad(Operation operation, std::shared_ptr<State> state)
    : operation_(std::move(operation)), state_(std::move(state)) {}

std::shared_ptr<const Project> ProjectLoad::project() const {
  operation_.result();  // throws the load's error
  std::lock_guard lock(state_->mutex);
  return state_->project;
}

ProjectLoad start_project_load(Context& context, std::filesystem::path path, LoadOptions options) {
  auto state = std::make_shared<ProjectLoad::State>();
  Operation operation = context.start(
      "project.load", [state, path = std::move(path), options = std::move(options)](OperationScope& scope) {
        auto check_cancelled = [&scope] {
          if (scope.cancelled()) throw Error(ErrorCode::cancelled, "project load was cancelled");
        };
        check_cancelled();
        scope.progress("config", "loading " + path.string());
        LoadResult result = load_project(path, options);
        check_cancelled();
        if (!result.ok()) throw config_error(result.diagnostics);
        for (const auto& file : result.project->files) scope.progress("config", "loaded " + file.string());
        auto project = std::make_shared<const Project>(std::move(*result.project));
        std::string json = project_to_json(*project);
        std::lock_guard lock(state->mutex);
        state->project = std::move(project);
        return json;
      });
  return ProjectLoad(std::move(operation), std::move(state));
}

}  // namespace devx
