#pragma once
// Small POSIX socket helpers shared by the agent and the client. Failures throw TunnelError.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "bridge/tunnel/protocol.hpp"

struct sockaddr_storage;

namespace devx::bridge::tunnel {

using Clock = std::chrono::steady_clock;

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept;
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// A listening TCP socket on a numeric address ("0.0.0.0", "127.0.0.1", "::"). Port 0 = ephemeral.
Fd listen_tcp(const std::string& bind_address, std::uint16_t port, int backlog = 128);
std::uint16_t local_port(int fd);

// Connects to a numeric host or a name (resolved with getaddrinfo), giving up at `timeout`.
Fd dial_tcp(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

// Accepts one connection (CLOEXEC), or returns an empty Fd if the listener has none ready.
Fd accept_tcp(int listener, PeerAddress* peer = nullptr);

// Reads what is available (at least one byte) before `deadline`; 0 = EOF. Throws on timeout.
std::size_t read_some(int fd, std::span<std::uint8_t> buffer, Clock::time_point deadline);
void write_all(int fd, std::span<const std::uint8_t> bytes, Clock::time_point deadline);

PeerAddress peer_address(const sockaddr_storage& address);

}  // namespace devx::bridge::tunnel
