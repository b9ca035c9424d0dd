#pragma once
// The agent's probe endpoint: a minimal HTTP/1.1 server answering GET /livez (always 200) and
// GET /readyz (200 while `ready()` says so, else 503), so Endpoints drop the agent while no
// tunnel is up.

#include <functional>
#include <thread>

#include "bridge/tunnel/socket.hpp"
#include "bridge/tunnel/workers.hpp"

namespace devx::bridge::tunnel {

class HealthServer {
 public:
  // `ready` is called on the server's threads.
  HealthServer(Fd listener, std::function<bool()> ready);
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;
  ~HealthServer();  // stop()

  std::uint16_t port() const { return port_; }
  void stop();

 private:
  void serve();
  void answer(int fd);

  Fd listener_;
  Fd stop_event_;
  std::uint16_t port_;
  std::function<bool()> ready_;
  Workers requests_{16};  // a slow client must not delay the kubelet's probes
  std::thread thread_;
};

}  // namespace devx::bridge::tunnel
