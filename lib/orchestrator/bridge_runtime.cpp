#include "orchestrator/bridge_runtime.hpp"

#include <devx/bridge.hpp>
#include <devx/error.hpp>

#include <condition_variable>
#include <mutex>

#include "bridge/connect.hpp"
#include "bridge/intercept.hpp"
#include "bridge/kube/port_forward.hpp"

namespace devx::orchestrator {
namespace {

using std::chrono::milliseconds;

BridgeTargetSpec target_of(const Project& project, const Service& service, int local_port) {
  const BridgeTarget& t = *service.bridge_target;
  BridgeTargetSpec spec{t.service, t.namespace_, t.port, local_port};
  if (spec.namespace_.empty()) spec.namespace_ = project.bridge ? project.bridge->namespace_ : "";
  if (spec.namespace_.empty()) spec.namespace_ = "default";
  return spec;
}

BridgeInterceptOptions intercept_of(const Project& project, const Service& service) {
  const BridgeIntercept& i = *service.bridge_intercept;
  BridgeInterceptOptions options = bridge_intercept_options(project, i.service);
  if (!i.namespace_.empty()) options.namespace_ = i.namespace_;
  if (options.namespace_.empty()) options.namespace_ = "default";
  options.ports = {BridgePortMapping{i.port, i.local_port > 0 ? i.local_port : i.port}};
  options.origin = "up";
  return options;
}

void to_sink(const runtime::LaunchSpec& spec, const Event& e) {
  if (spec.on_line) spec.on_line(e.message, e.level >= LogLevel::warn);
}

// A bridge node runs until stopped or until its bridge fails for good.
template <typename BridgeSession>
class BridgeNode final : public runtime::RunningNode {
 public:
  explicit BridgeNode(std::unique_ptr<BridgeSession> session) : session_(std::move(session)) {}
  int pid() const noexcept override { return 0; }
  std::optional<runtime::ExitStatus> wait_for(milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    for (;;) {
      if (stopped_) return runtime::ExitStatus{0, 0};
      if (session_->failure()) return runtime::ExitStatus{1, 0};
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      cv_.wait_until(lock,
                     std::min(deadline, std::chrono::steady_clock::now() + milliseconds(200)));
    }
  }
  runtime::ExitStatus stop(milliseconds) override {
    session_->stop();
    std::lock_guard lock(mutex_);
    stopped_ = true;
    cv_.notify_all();
    return runtime::ExitStatus{0, 0};
  }

 private:
  std::unique_ptr<BridgeSession> session_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

class BridgeRuntime final : public runtime::NodeRuntime {
 public:
  BridgeRuntime(const Project& project, const Service& service)
      : project_(project), service_(service) {}
  std::string name() const override { return "bridge"; }

  std::unique_ptr<runtime::RunningNode> launch(Context& context,
                                               const runtime::LaunchSpec& spec) override {
    if (service_.bridge_target) {
      BridgeConnectOptions options = bridge_connect_options(project_);
      options.targets = {target_of(project_, service_, spec.port.value_or(0))};
      options.origin = "up";
      auto session = std::make_unique<bridge::ConnectSession>(
          context, std::move(options), [spec](Event e) { to_sink(spec, e); });
      session->start();
      session->wait_ready(std::chrono::minutes(2), {});
      return std::make_unique<BridgeNode<bridge::ConnectSession>>(std::move(session));
    }
    auto session = std::make_unique<bridge::InterceptSession>(
        context, intercept_of(project_, service_), [spec](Event e) { to_sink(spec, e); });
    session->run_until_active({});
    return std::make_unique<BridgeNode<bridge::InterceptSession>>(std::move(session));
  }

 private:
  const Project& project_;
  const Service& service_;
};

}  // namespace

std::shared_ptr<runtime::NodeRuntime> make_bridge_runtime(const Project& project,
                                                          const Service& service) {
  return std::make_shared<BridgeRuntime>(project, service);
}

std::string describe_bridge(const Project& project, const Service& service,
                            std::optional<int> port) {
  if (service.bridge_target) {
    const auto t = target_of(project, service, port.value_or(0));
    return "connect " + t.namespace_ + "/" + t.service + ":" + std::to_string(t.port) +
           " → 127.0.0.1:" + (port ? std::to_string(*port) : std::string("?"));
  }
  const auto options = intercept_of(project, service);
  return "intercept " + options.namespace_ + "/" + options.service + ":" +
         std::to_string(options.ports.front().remote) +
         " → 127.0.0.1:" + std::to_string(options.ports.front().local);
}

std::vector<std::string> bridge_argv(const Project& project, const Service& service,
                                     int local_port) {
  if (!service.bridge_target) return {};
  const auto t = target_of(project, service, local_port);
  return bridge::kube::port_forward_argv(
      bridge_connect_options(project).kube,
      bridge::kube::PortForwardOptions{"svc/" + t.service, t.namespace_, t.port, local_port});
}

}  // namespace devx::orchestrator
