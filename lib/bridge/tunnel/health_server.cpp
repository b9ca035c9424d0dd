#include "bridge/tunnel/health_server.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

namespace devx::bridge::tunnel {
namespace {

constexpr std::size_t kMaxRequestHead = 4096;
constexpr std::chrono::seconds kRequestTimeout{2};

std::string response(int status, std::string_view reason, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + std::string(body);
}

}  // namespace

HealthServer::HealthServer(Fd listener, std::function<bool()> ready)
    : listener_(std::move(listener)),
      stop_event_(::eventfd(0, EFD_CLOEXEC)),
      port_(local_port(listener_.get())),
      ready_(std::move(ready)) {
  if (!stop_event_) throw TunnelError(TunnelError::Kind::io, "eventfd failed");
  thread_ = std::thread([this] { serve(); });
}

HealthServer::~HealthServer() { stop(); }

void HealthServer::stop() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(stop_event_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  requests_.join_all();
}

void HealthServer::serve() {
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{listener_.get(), POLLIN, 0},
                              pollfd{stop_event_.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    auto connection = accept_tcp(listener_.get());
    if (!connection) continue;
    requests_.reap();
    // From here the socket is tracked, so stop() can shut it down, and answer() closes it.
    const int fd = connection.release();
    if (!requests_.track(fd)) {
      ::close(fd);
      return;
    }
    if (!requests_.spawn([this, fd] { answer(fd); })) requests_.release_and_close(fd);
  }
}

void HealthServer::answer(int fd) {
  const auto deadline = Clock::now() + kRequestTimeout;
  std::string head;
  std::array<std::uint8_t, 1024> chunk{};
  try {
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxRequestHead) {
      const auto n = read_some(fd, chunk, deadline);
      if (n == 0) break;
      head.append(reinterpret_cast<const char*>(chunk.data()), n);
    }
    const auto line = head.substr(0, head.find("\r\n"));
    std::string reply;
    if (line.rfind("GET /livez ", 0) == 0) {
      reply = response(200, "OK", "ok\n");
    } else if (line.rfind("GET /readyz ", 0) == 0) {
      reply = ready_() ? response(200, "OK", "ready\n")
                       : response(503, "Service Unavailable", "no tunnel session\n");
    } else {
      reply = response(404, "Not Found", "not found\n");
    }
    write_all(fd, std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()),
              deadline);
  } catch (const TunnelError&) {
    // A probe that hung up or stalled gets nothing.
  }
  requests_.release_and_close(fd);
}

}  // namespace devx::bridge::tunnel
