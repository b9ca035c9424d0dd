#pragma once
// One supervised `kubectl port-forward`. The local port is the one kubectl reports on stdout
// ("Forwarding from 127.0.0.1:NNNN -> R"), never found by connecting through the forward (such a
// probe would be a real connection to the remote side). kubectl is restarted whenever it ends —
// also after exit 0 — with capped, jittered backoff, until stop(). After the first success the
// port kubectl chose is kept for later attempts, so clients keep their address.
#include <devx/bridge.hpp>
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bridge/kube/backoff.hpp"

namespace devx::bridge::kube {

struct PortForwardOptions {
  std::string target;  // "svc/NAME" or "pod/NAME"
  std::string namespace_;
  int remote_port = 0;  // the Service port (svc/) or container port (pod/)
  int local_port = 0;   // 0 = kubectl chooses; a pinned port that is taken fails the forward
  BackoffOptions backoff{};
  std::function<double()> random01{};  // jitter source for tests; empty = random
};

enum class PortForwardState { starting, forwarding, backoff, failed, stopped };
std::string_view to_string(PortForwardState state) noexcept;

struct PortForwardStatus {
  PortForwardState state = PortForwardState::starting;
  int local_port = 0;  // set while forwarding (and kept afterwards as the last known port)
  int attempt = 0;     // kubectl starts so far
  std::chrono::milliseconds retry_in{0};  // backoff: the pause before the next attempt
  std::string message;                    // why the last attempt ended
  std::optional<Error> error;             // failed: the permanent error
};

// `kubectl [--kubeconfig K] [--context C] port-forward TARGET [LOCAL]:REMOTE -n NS --address
// 127.0.0.1`. `home` expands "~/" in the kubeconfig ("" = the user's home directory).
std::vector<std::string> port_forward_argv(const KubeSettings& settings,
                                           const PortForwardOptions& options,
                                           std::string_view home = {});

// Parses kubectl's "Forwarding from 127.0.0.1:NNNN -> R" line; 0 for any other line.
int parse_forwarding_line(std::string_view line);

class PortForward {
 public:
  // `on_status` is called on a library thread for every state change, one call at a time; it
  // must not call stop() or destroy the PortForward.
  PortForward(Context& context, KubeSettings settings, PortForwardOptions options,
              std::function<void(const PortForwardStatus&)> on_status = {});
  ~PortForward();
  PortForward(const PortForward&) = delete;
  PortForward& operator=(const PortForward&) = delete;

  void start();
  // Terminates kubectl (its whole process group) and ends supervision. Idempotent.
  void stop();

  PortForwardStatus status() const;
  // Blocks until forwarding and returns the local port. Throws the permanent error when the
  // forward failed, Error(timeout), or Error(cancelled) for `stop` or stop().
  int wait_forwarding(std::chrono::milliseconds timeout, std::stop_token stop = {});

 private:
  struct AttemptResult;
  void supervise(std::stop_token stop);
  AttemptResult run_attempt(std::stop_token stop, int local_port);
  void publish(PortForwardStatus status);

  Context& context_;
  const KubeSettings settings_;
  const PortForwardOptions options_;
  const std::function<void(const PortForwardStatus&)> on_status_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  PortForwardStatus status_;
  std::mutex callback_mutex_;
  std::jthread thread_;
};

}  // namespace devx::bridge::kube
