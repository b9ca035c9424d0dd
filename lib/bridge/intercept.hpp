#pragma once
// An intercept session, make-before-break: deploy the agent (Job first, suspended; its
// ServiceAccount, Role, RoleBinding and token Secret owned by it) → wait until it runs (fail
// fast on image errors) → port-forward to its control port and open the authenticated tunnel →
// wait until it is Ready (readiness follows the tunnel) → swap the Service's selector with a JSON
// patch guarded by a `test` of the selector we read. While active, a lost tunnel is re-opened
// (the agent keeps the Service for its grace period). stop() restores the selector only if the
// Service still names this session, then deletes the agent.
#include <devx/bridge.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include <boost/json/object.hpp>

#include "bridge/session_store.hpp"

namespace devx::bridge {

namespace kube {
class Kubectl;
class PortForward;
}  // namespace kube
namespace tunnel {
class TunnelClient;
}

class InterceptSession {
 public:
  using EventSink = std::function<void(Event)>;
  InterceptSession(Context& context, BridgeInterceptOptions options, EventSink sink);
  ~InterceptSession();
  InterceptSession(const InterceptSession&) = delete;
  InterceptSession& operator=(const InterceptSession&) = delete;

  // Applies defaults (namespace, agent image) and rejects bad options: Error(invalid_argument).
  static void validate(BridgeInterceptOptions& options);
  // Reads the Service and returns the plan ({"v":1,"dry_run":true,"actions":[…]}) without
  // changing anything (the token is not part of it).
  std::string plan();
  // Runs every step until the intercept is active. On failure (or `stop`) undoes what it did and
  // throws.
  void run_until_active(std::stop_token stop);
  // Undoes everything. Idempotent.
  void stop();
  // The permanent failure of an active session (the agent gave the Service back), if any.
  std::optional<Error> failure() const;
  const std::string& id() const noexcept { return session_; }

 private:
  struct Prepared;
  Prepared prepare();
  void deploy(const Prepared& prepared);
  std::string wait_for_agent_pod(std::stop_token stop, bool need_ready);
  void open_tunnel(std::stop_token stop);
  void keep_tunnel(std::stop_token stop);
  void emit(EventType type, LogLevel level, std::string message, std::string data_json = {});
  void set_state(const std::string& state);

  Context& context_;
  BridgeInterceptOptions options_;
  EventSink sink_;
  SessionStore store_;
  const std::string session_;
  const std::string token_;
  std::unique_ptr<kube::Kubectl> kubectl_;

  mutable std::mutex mutex_;
  SessionRecord record_;
  bool recorded_ = false;
  bool deployed_ = false;
  bool swapped_ = false;
  std::string pod_;
  std::unique_ptr<kube::PortForward> forward_;
  std::shared_ptr<tunnel::TunnelClient> tunnel_;
  std::optional<Error> failure_;
  std::jthread keeper_;
};

}  // namespace devx::bridge
