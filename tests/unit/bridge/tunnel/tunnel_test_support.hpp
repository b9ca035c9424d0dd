#pragma once
// Loopback fixtures for the tunnel tests: local "developer" servers, "cluster" clients, a probe
// client, and a wait helper whose timeout is only a safety net.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bridge/tunnel/socket.hpp"

namespace devx::bridge::tunnel::testing {

inline constexpr auto kSafetyNet = std::chrono::seconds(20);

inline bool wait_until(const std::function<bool()>& condition) {
  const auto deadline = Clock::now() + kSafetyNet;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Reads until EOF (or a reset, which the tests treat the same way: the connection ended).
inline std::string read_to_end(int fd) {
  std::string out;
  std::vector<std::uint8_t> buffer(4096);
  try {
    for (;;) {
      const auto n = read_some(fd, buffer, Clock::now() + kSafetyNet);
      if (n == 0) break;
      out.append(reinterpret_cast<const char*>(buffer.data()), n);
    }
  } catch (const TunnelError& e) {
    if (e.kind() == TunnelError::Kind::timeout) throw;
  }
  return out;
}

inline void send_text(int fd, std::string_view text) {
  write_all(fd, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
            Clock::now() + kSafetyNet);
}

// A developer-side server: reads each connection to EOF, then answers "<name>:<what it read>"
// and closes. Answering only after EOF is what makes half-close observable.
class LocalServer {
 public:
  explicit LocalServer(std::string name, const std::string& bind = "127.0.0.1")
      : name_(std::move(name)), listener_(listen_tcp(bind, 0)), port_(local_port(listener_.get())) {
    thread_ = std::thread([this] { serve(); });
  }
  ~LocalServer() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
    for (auto& t : connections_) t.join();
  }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void serve() {
    while (!stopping_) {
      pollfd pfd{listener_.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      auto connection = accept_tcp(listener_.get());
      if (!connection) continue;
      ++accepted_;
      connections_.emplace_back([this, fd = std::make_shared<Fd>(std::move(connection))] {
        const auto request = read_to_end(fd->get());
        try {
          send_text(fd->get(), name_ + ":" + request);
        } catch (const TunnelError&) {
        }
      });
    }
  }

  std::string name_;
  Fd listener_;
  std::uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::vector<std::thread> connections_;
  std::thread thread_;
};

// A cluster client: connects, sends `request`, half-closes, and returns everything it receives.
inline std::string cluster_exchange(std::uint16_t port, std::string_view request) {
  auto fd = dial_tcp("127.0.0.1", port, kSafetyNet);
  send_text(fd.get(), request);
  ::shutdown(fd.get(), SHUT_WR);
  return read_to_end(fd.get());
}

// One GET; returns the status code.
inline int http_status(std::uint16_t port, const std::string& path) {
  auto fd = dial_tcp("127.0.0.1", port, kSafetyNet);
  send_text(fd.get(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto response = read_to_end(fd.get());
  if (response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

}  // namespace devx::bridge::tunnel::testing
