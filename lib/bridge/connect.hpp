#pragma once
// A connect session: one supervised `kubectl port-forward` per target, recorded in the session
// store while it runs. Used by start_bridge_connect and by `devx up` for bridge_target services.
#include <devx/bridge.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "bridge/session_store.hpp"

namespace devx::bridge {

namespace kube {
class PortForward;
}

class ConnectSession {
 public:
  using EventSink = std::function<void(Event)>;
  ConnectSession(Context& context, BridgeConnectOptions options, EventSink sink);
  ~ConnectSession();
  ConnectSession(const ConnectSession&) = delete;
  ConnectSession& operator=(const ConnectSession&) = delete;

  // The argv of every port-forward, without starting anything (dry run plans).
  std::vector<std::vector<std::string>> planned_commands() const;
  // Checks kubectl and the cluster, records the session and starts every forward.
  void start();
  // Waits until every forward reported its local port. Throws the first forward's permanent
  // failure (e.g. a pinned port that is taken), Error(timeout) or Error(cancelled).
  void wait_ready(std::chrono::milliseconds timeout, std::stop_token stop);
  // Stops every forward and forgets the session. Idempotent.
  void stop();

  const std::string& id() const noexcept { return record_.id; }
  std::vector<ForwardRecord> forwards() const;
  // Set when a forward failed for good (it is no longer retried).
  std::optional<Error> failure() const;

 private:
  void on_forward_state(std::size_t index, const std::string& state, int local_port, int attempt,
                        const std::string& message);

  Context& context_;
  BridgeConnectOptions options_;
  EventSink sink_;
  SessionStore store_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  SessionRecord record_;
  std::optional<Error> failure_;
  std::vector<std::unique_ptr<kube::PortForward>> forwards_;
  bool recorded_ = false;
};

// Targets with the namespace defaults applied ("" → options' namespace → "default").
std::vector<BridgeTargetSpec> resolve_targets(const BridgeConnectOptions& options);

}  // namespace devx::bridge
