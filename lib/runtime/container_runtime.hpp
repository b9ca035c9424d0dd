#pragma once
// The container runtime: a node is a detached container (`run -d`) named
// devx-<run_key>-<node>, labelled devx.project / devx.run / devx.service, with its ports published
// on 127.0.0.1 and its environment in a 0600 env-file under the run directory (deleted once the
// engine has read it). Its output is followed with `logs -f` and its exit with `wait`.
//
// Destroying a RunningNode without stop() leaves the container running (as a crashed supervisor
// would); find_containers() / remove_containers() reconcile such leftovers by label.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/container_engine.hpp"
#include "runtime/runtime.hpp"

namespace devx::runtime {

// What a database (or another caller) adds to a LaunchSpec for a container.
struct ContainerExtras {
  std::vector<VolumeMount> volumes;
  std::map<std::string, std::string> labels;  // added to the devx.* labels
  std::string kind = "service";               // the devx.kind label
};

class ContainerRuntime final : public NodeRuntime {
 public:
  explicit ContainerRuntime(ContainerEngine engine, bool use_init = true);

  std::string name() const override { return std::string(engine_.name()); }
  const ContainerEngine& engine() const noexcept { return engine_; }

  // LaunchSpec: image (required), argv (optional command), env (container environment),
  // port + container_port (published as 127.0.0.1:port:container_port; container_port defaults
  // to port), on_line (log lines).
  std::unique_ptr<RunningNode> launch(Context& context, const LaunchSpec& spec) override;
  std::unique_ptr<RunningNode> launch(Context& context, const LaunchSpec& spec,
                                      const ContainerExtras& extras);

  // The RunRequest launch() would use (no side effects): for plans and tests.
  RunRequest run_request(const Context& context, const LaunchSpec& spec,
                         const ContainerExtras& extras = {}) const;

 private:
  ContainerEngine engine_;
  bool use_init_;
};

// The directory of a run: <DEVX_HOME>/run/<run_key>.
std::filesystem::path run_directory(const Context& context, std::string_view run_key);

// Containers of a project (and, when run_key is set, of one run), running or not.
std::vector<ContainerSummary> find_containers(Context& context, const ContainerEngine& engine,
                                              std::string_view project,
                                              std::optional<std::string_view> run_key = {});
// Removes (rm -f) what find_containers() finds; returns the names removed.
std::vector<std::string> remove_containers(Context& context, const ContainerEngine& engine,
                                           std::string_view project,
                                           std::optional<std::string_view> run_key = {});

}  // namespace devx::runtime
