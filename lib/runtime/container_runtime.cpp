#include "runtime/container_runtime.hpp"

#include <devx/context.hpp>
#include <devx/error.hpp>

#include <mutex>
#include <utility>

namespace devx::runtime {
namespace {

using std::chrono::milliseconds;

// How long stop() waits for `wait` to report once `stop` returned (the container has exited by
// then; this only bounds a wedged engine).
constexpr milliseconds kAfterStop{15'000};

class ContainerNode final : public RunningNode {
 public:
  ContainerNode(Context& context, ContainerEngine engine, std::string name,
                std::unique_ptr<ChildProcess> waiter, std::unique_ptr<ChildProcess> logs)
      : context_(context),
        engine_(std::move(engine)),
        name_(std::move(name)),
        waiter_(std::move(waiter)),
        logs_(std::move(logs)) {}

  // The container is left as it is (see container_runtime.hpp); only our `wait` and `logs`
  // children end.
  ~ContainerNode() override = default;

  ContainerNode(const ContainerNode&) = delete;
  ContainerNode& operator=(const ContainerNode&) = delete;

  int pid() const noexcept override { return 0; }
  std::string container() const override { return name_; }

  std::optional<ExitStatus> wait_for(milliseconds timeout) override {
    {
      std::lock_guard lock(mutex_);
      if (exit_) return exit_;
    }
    auto result = waiter_->wait_for(timeout);
    if (!result) return std::nullopt;
    return remember(status_from(*result));
  }

  ExitStatus stop(milliseconds grace) override {
    std::lock_guard stop_lock(stop_mutex_);
    {
      std::lock_guard lock(mutex_);
      if (stopped_ && exit_) return *exit_;
    }
    try {
      engine_.stop(context_, name_, grace);
    } catch (const Error& e) {
      // rm -f below still kills and removes it.
      context_.log(LogLevel::warn, "runtime", e.message());
    }
    ExitStatus status;
    if (auto result = waiter_->wait_for(kAfterStop)) {
      status = status_from(*result);
    } else {
      status = inspect_status();
    }
    engine_.remove(context_, name_);
    waiter_->terminate(milliseconds::zero());
    if (logs_ && !logs_->wait_for(milliseconds(2000))) logs_->terminate(milliseconds::zero());
    std::lock_guard lock(mutex_);
    stopped_ = true;
    if (!exit_) exit_ = status;
    return *exit_;
  }

 private:
  ExitStatus remember(ExitStatus status) {
    std::lock_guard lock(mutex_);
    if (!exit_) exit_ = status;
    return *exit_;
  }

  ExitStatus status_from(const CommandResult& result) {
    if (result.ok()) {
      if (auto code = ContainerEngine::parse_wait(result.out)) return ExitStatus{*code, 0};
    }
    return inspect_status();
  }

  ExitStatus inspect_status() {
    try {
      if (auto state = engine_.inspect(context_, name_); state && !state->running) {
        return ExitStatus{state->exit_code, 0};
      }
    } catch (const Error&) {
    }
    return ExitStatus{};  // unknown (removed behind our back)
  }

  Context& context_;
  const ContainerEngine engine_;
  const std::string name_;
  const std::unique_ptr<ChildProcess> waiter_;
  const std::unique_ptr<ChildProcess> logs_;
  std::mutex stop_mutex_;
  std::mutex mutex_;
  std::optional<ExitStatus> exit_;
  bool stopped_ = false;
};

}  // namespace

std::filesystem::path run_directory(const Context& context, std::string_view run_key) {
  return context.home() / "run" / std::string(run_key);
}

ContainerRuntime::ContainerRuntime(ContainerEngine engine, bool use_init)
    : engine_(std::move(engine)), use_init_(use_init) {}

RunRequest ContainerRuntime::run_request(const Context& context, const LaunchSpec& spec,
                                         const ContainerExtras& extras) const {
  if (spec.image.empty()) {
    throw Error(ErrorCode::invalid_argument, "container node '" + spec.name + "' has no image",
                "set `image:` for services with `runtime: container`");
  }
  RunRequest request;
  request.name = container_name(spec.run_key, spec.name);
  request.image = spec.image;
  request.command = spec.argv;
  request.init = use_init_;
  request.labels = extras.labels;
  request.labels[std::string(kLabelProject)] = spec.project;
  request.labels[std::string(kLabelRun)] = spec.run_key;
  request.labels[std::string(kLabelService)] = spec.name;
  request.labels[std::string(kLabelKind)] = extras.kind;
  if (spec.port) {
    PortMapping mapping;
    mapping.host_port = *spec.port;
    mapping.container_port = spec.container_port.value_or(*spec.port);
    request.ports.push_back(mapping);
  } else if (spec.container_port) {
    throw Error(ErrorCode::invalid_argument,
                "container node '" + spec.name + "' has a container port but no host port");
  }
  request.volumes = extras.volumes;
  request.env = spec.env;
  request.env_file = run_directory(context, spec.run_key) / "containers" / (spec.name + ".env");
  return request;
}

std::unique_ptr<RunningNode> ContainerRuntime::launch(Context& context, const LaunchSpec& spec) {
  return launch(context, spec, ContainerExtras{});
}

std::unique_ptr<RunningNode> ContainerRuntime::launch(Context& context, const LaunchSpec& spec,
                                                      const ContainerExtras& extras) {
  const RunRequest request = run_request(context, spec, extras);
  engine_.run(context, request);
  try {
    auto waiter = engine_.spawn_wait(context, request.name);
    std::unique_ptr<ChildProcess> logs;
    if (spec.on_line) logs = engine_.follow_logs(context, request.name, spec.on_line);
    return std::make_unique<ContainerNode>(context, engine_, request.name, std::move(waiter),
                                           std::move(logs));
  } catch (...) {
    try {
      engine_.remove(context, request.name);
    } catch (const Error&) {
    }
    throw;
  }
}

std::vector<ContainerSummary> find_containers(Context& context, const ContainerEngine& engine,
                                              std::string_view project,
                                              std::optional<std::string_view> run_key) {
  std::map<std::string, std::string> labels;
  labels[std::string(kLabelProject)] = std::string(project);
  if (run_key) labels[std::string(kLabelRun)] = std::string(*run_key);
  auto found = engine.list(context, labels);
  // Filters are exact in both engines; check again so a misbehaving engine cannot make us
  // remove someone else's container.
  std::erase_if(found, [&](const ContainerSummary& c) {
    const auto p = c.labels.find(std::string(kLabelProject));
    if (p == c.labels.end() || p->second != project) return true;
    if (!run_key) return false;
    const auto r = c.labels.find(std::string(kLabelRun));
    return r == c.labels.end() || r->second != *run_key;
  });
  return found;
}

std::vector<std::string> remove_containers(Context& context, const ContainerEngine& engine,
                                           std::string_view project,
                                           std::optional<std::string_view> run_key) {
  std::vector<std::string> removed;
  for (const auto& c : find_containers(context, engine, project, run_key)) {
    engine.remove(context, c.id.empty() ? c.name : c.id);
    removed.push_back(c.name);
  }
  return removed;
}

}  // namespace devx::runtime
