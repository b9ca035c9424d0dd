#include "bridge/tunnel/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace devx::bridge::tunnel {
namespace {

[[noreturn]] void throw_errno(TunnelError::Kind kind, const std::string& what) {
  throw TunnelError(kind, what + ": " + std::strerror(errno));
}

int poll_timeout(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1 << 30));
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    const int rc = ::poll(&pfd, 1, poll_timeout(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) throw_errno(TunnelError::Kind::io, "poll");
  }
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int Fd::release() noexcept { return std::exchange(fd_, -1); }

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Fd listen_tcp(const std::string& bind_address, std::uint16_t port, int backlog) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, bind_address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, bind_address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    throw TunnelError(TunnelError::Kind::io, "not a numeric address: " + bind_address);
  }
  Fd fd(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw_errno(TunnelError::Kind::io, "socket");
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const auto where = bind_address + ":" + std::to_string(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    throw_errno(TunnelError::Kind::io, "bind " + where);
  }
  if (::listen(fd.get(), backlog) != 0) throw_errno(TunnelError::Kind::io, "listen " + where);
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw_errno(TunnelError::Kind::io, "getsockname");
  }
  return peer_address(address).port;
}

Fd dial_tcp(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const auto service = std::to_string(port);
  const auto where = host + ":" + service;
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    throw TunnelError(TunnelError::Kind::connect, "resolve " + where + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) continue;
    int rc = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (!wait_for(fd.get(), POLLOUT, deadline)) {
        last_error = "timed out";
        continue;
      }
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      errno = error;
      rc = error == 0 ? 0 : -1;
    }
    if (rc != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    // Blocking from here on: the splice and the handshake helpers poll with deadlines.
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::freeaddrinfo(found);
    return fd;
  }
  ::freeaddrinfo(found);
  throw TunnelError(TunnelError::Kind::connect, "connect " + where + ": " + last_error);
}

Fd accept_tcp(int listener, PeerAddress* peer) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  Fd fd(::accept4(listener, reinterpret_cast<sockaddr*>(&address), &length, SOCK_CLOEXEC));
  if (!fd) return fd;
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (peer != nullptr) *peer = peer_address(address);
  return fd;
}

std::size_t read_some(int fd, std::span<std::uint8_t> buffer, Clock::time_point deadline) {
  for (;;) {
    if (!wait_for(fd, POLLIN, deadline)) throw TunnelError(TunnelError::Kind::timeout, "timed out");
    const auto n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR && errno != EAGAIN) throw_errno(TunnelError::Kind::io, "recv");
  }
}

void write_all(int fd, std::span<const std::uint8_t> bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    if (!wait_for(fd, POLLOUT, deadline))
      throw TunnelError(TunnelError::Kind::timeout, "timed out");
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw_errno(TunnelError::Kind::io, "send");
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

PeerAddress peer_address(const sockaddr_storage& address) {
  PeerAddress peer;
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    // An IPv4 client of a dual-stack listener is reported as the IPv4 address it is.
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      peer.family = 4;
      std::memcpy(peer.bytes.data(), v6->sin6_addr.s6_addr + 12, 4);
    } else {
      peer.family = 6;
      std::memcpy(peer.bytes.data(), v6->sin6_addr.s6_addr, 16);
    }
    peer.port = ntohs(v6->sin6_port);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    peer.family = 4;
    std::memcpy(peer.bytes.data(), &v4->sin_addr, 4);
    peer.port = ntohs(v4->sin_port);
  }
  return peer;
}

}  // namespace devx::bridge::tunnel
