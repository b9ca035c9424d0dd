#pragma once
// The in-cluster end of the bridge tunnel (docs/bridge-protocol.md). It listens on the pod's
// side of each intercepted Service port, accepts authenticated control connections on loopback
// (reached through `kubectl port-forward`), and relays every inbound cluster connection as one
// Yamux stream to the developer's machine. The binary (tools/devx-bridge-agent) adds flags,
// signals and the Service restore; this class is usable in-process by tests.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/yamux/yamux.hpp"

namespace devx::bridge::tunnel {

struct PortMapping {
  std::uint16_t service_port = 0;  // the Service `port`, sent in each stream header
  std::uint16_t listen_port = 0;   // the resolved targetPort the agent listens on; 0 = ephemeral
};

struct AgentConfig {
  std::string token;  // the session secret; required
  std::vector<PortMapping> ports;
  std::string listen_bind = "0.0.0.0";     // the pod IP side, where Endpoints route traffic
  std::string control_bind = "127.0.0.1";  // loopback only: port-forward reaches the pod's lo
  std::uint16_t control_port = 4200;
  std::string health_bind = "0.0.0.0";  // kubelet probes the pod IP
  std::uint16_t health_port = 4201;

  // With no authenticated session for this long (from start, or since the last one ended),
  // on_expired fires once.
  std::chrono::milliseconds grace{30000};
  // Until the first session, at least this long instead of `grace`: the pod starting, kubectl
  // port-forward and the client's connect all happen in that window, and a busy cluster is slow.
  std::chrono::milliseconds first_session_timeout{0};
  // A control connection that has not completed the preamble by then is closed.
  std::chrono::milliseconds handshake_timeout{5000};
  // Inbound connections arriving while no session is up wait this long for one, at most
  // max_pending of them; the others are closed at once.
  std::chrono::milliseconds pending_timeout{10000};
  std::size_t max_pending = 128;
  std::size_t max_connections = 1024;  // relayed at the same time
  std::size_t max_handshakes = 8;      // control connections authenticating at the same time

  yamux::Config yamux{};  // keepalive_interval/timeout decide how fast a lost client is noticed

  // Both run on agent threads. on_log calls are serialised; on_expired runs on the agent's event
  // loop thread and must not call stop() from it synchronously (signal the owner instead).
  std::function<void(const std::string&)> on_log;
  std::function<void()> on_expired;
};

class Agent {
 public:
  // Binds every listener (throws TunnelError if one cannot be bound) and starts serving.
  explicit Agent(AgentConfig config);
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  ~Agent();  // stop()

  // Closes the listeners, the session and every relayed connection; joins all threads.
  // Idempotent. Must not be called from on_expired or on_log.
  void stop();

  // True while an authenticated tunnel session is up (what /readyz reports).
  bool ready() const;
  // How many sessions have authenticated since start.
  std::uint64_t sessions_started() const;

  // The ports actually bound (useful when the configuration asked for 0).
  std::uint16_t control_port() const;
  std::uint16_t health_port() const;
  std::uint16_t listen_port(std::uint16_t service_port) const;  // 0 if not configured

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace devx::bridge::tunnel
