#include "bridge/tunnel/handshake.hpp"

#include <vector>

namespace devx::bridge::tunnel {
namespace {

// Reads until `decode` stops answering `incomplete`. Lengths are bounded by the decoders, so the
// buffer cannot grow past the largest valid message.
template <class Decode>
auto read_message(int fd, Decode decode, Clock::time_point deadline) {
  std::vector<std::uint8_t> buffer;
  for (;;) {
    auto decoded = decode(std::span<const std::uint8_t>(buffer));
    if (decoded.error != DecodeError::incomplete) return decoded;
    // Byte by byte: the agent may send its first Yamux frame right behind the reply, and that
    // must stay in the socket for the Yamux session. The messages are tiny.
    std::uint8_t byte = 0;
    if (read_some(fd, std::span(&byte, 1), deadline) == 0) {
      throw TunnelError(TunnelError::Kind::closed, "peer closed during the handshake");
    }
    buffer.push_back(byte);
  }
}

void send_reply(int fd, ReplyStatus status, const std::string& message,
                Clock::time_point deadline) {
  write_all(fd, encode_reply(Reply{status, message}), deadline);
}

}  // namespace

void client_handshake(int fd, std::string_view token, Clock::time_point deadline) {
  write_all(fd, encode_preamble(token), deadline);
  const auto reply = read_message(fd, decode_reply, deadline);
  if (!reply.ok()) {
    throw TunnelError(TunnelError::Kind::protocol, "the peer is not a devx bridge agent: " +
                                                       std::string(to_string(reply.error)));
  }
  switch (reply.value.status) {
    case ReplyStatus::ok:
      return;
    case ReplyStatus::bad_token:
      throw TunnelError(TunnelError::Kind::bad_token,
                        "the bridge agent rejected the session token: " + reply.value.message);
    case ReplyStatus::unsupported_version:
      throw TunnelError(
          TunnelError::Kind::unsupported_version,
          "the bridge agent does not speak this protocol version: " + reply.value.message);
  }
  throw TunnelError(TunnelError::Kind::protocol, "unknown reply status");
}

HandshakeOutcome server_handshake(int fd, std::string_view expected_token,
                                  Clock::time_point deadline) {
  const auto preamble = read_message(fd, decode_preamble, deadline);
  if (preamble.error == DecodeError::unsupported_version) {
    send_reply(fd, ReplyStatus::unsupported_version,
               "this agent speaks protocol version " + std::to_string(kProtocolVersion), deadline);
    return {false, "unsupported protocol version"};
  }
  if (!preamble.ok()) return {false, "bad preamble: " + std::string(to_string(preamble.error))};
  if (!token_equals(expected_token, preamble.value.token)) {
    send_reply(fd, ReplyStatus::bad_token, "invalid session token", deadline);
    return {false, "invalid session token"};
  }
  send_reply(fd, ReplyStatus::ok, "", deadline);
  return {true, ""};
}

}  // namespace devx::bridge::tunnel
