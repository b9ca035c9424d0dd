// libFuzzer target for the Yamux wire layer: arbitrary bytes are (1) decoded as a sequence of
// frame headers, which must round-trip through encode, and (2) fed as the peer's side of a
// connection to a Session, which must answer or reject them without crashing, hanging or leaking.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <thread>

#include "bridge/yamux/yamux.hpp"

namespace yamux = devx::bridge::yamux;

namespace {

void check_decoder(std::span<const std::byte> bytes) {
  for (std::size_t at = 0; at + yamux::kHeaderSize <= bytes.size(); at += yamux::kHeaderSize) {
    const auto decoded = yamux::decode(bytes.subspan(at));
    if (const auto* header = std::get_if<yamux::FrameHeader>(&decoded)) {
      const auto encoded = yamux::encode(*header);
      if (std::memcmp(encoded.data(), bytes.data() + at, yamux::kHeaderSize) != 0) {
        __builtin_trap();
      }
    } else if (!std::holds_alternative<yamux::DecodeError>(decoded)) {
      __builtin_trap();
    }
  }
}

void run_session(std::span<const std::byte> bytes) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return;
  yamux::Config config;
  config.keepalive = false;
  config.max_stream_window = yamux::kInitialWindow;  // bounds memory per stream
  config.accept_backlog = 8;
  // The last byte picks the role (it is also part of the stream, like every other byte).
  const auto role = !bytes.empty() && (std::to_integer<unsigned>(bytes.back()) & 1) != 0
                        ? yamux::Role::client
                        : yamux::Role::server;
  auto session = yamux::Session::start(fds[0], role, config);

  // Accepted streams are read so that data, FIN and RST paths run; a few replies exercise writes.
  std::thread acceptor([&session] {
    while (auto stream = session->accept()) {
      try {
        char buf[512];
        while (const auto n = stream->read(buf, sizeof buf)) stream->write(buf, n);
        stream->close();
      } catch (const yamux::Error&) {
      }
    }
  });
  std::thread feeder([&bytes, fd = fds[1]] {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const auto n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
  });
  // Drain what the session writes so it never blocks; EOF once it closed.
  char sink[4096];
  while (::recv(fds[1], sink, sizeof sink, 0) > 0) {
  }
  feeder.join();
  session->close();
  acceptor.join();
  if (!session->closed()) __builtin_trap();
  session.reset();
  ::close(fds[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  check_decoder(bytes);
  run_session(bytes);
  return 0;
}
