#include "bridge/tunnel/protocol.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

namespace devx::bridge::tunnel {
namespace {

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

std::uint16_t get_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

std::size_t address_size(std::uint8_t family) { return family == 4 ? 4 : 16; }

template <class T>
Decoded<T> fail(DecodeError error) {
  Decoded<T> result;
  result.error = error;
  return result;
}

}  // namespace

std::string_view to_string(DecodeError error) noexcept {
  switch (error) {
    case DecodeError::none:
      return "ok";
    case DecodeError::incomplete:
      return "truncated";
    case DecodeError::bad_magic:
      return "not a devx bridge preamble (bad magic)";
    case DecodeError::unsupported_version:
      return "unsupported version";
    case DecodeError::bad_length:
      return "length out of bounds";
    case DecodeError::bad_status:
      return "unknown status";
    case DecodeError::bad_family:
      return "unknown address family";
    case DecodeError::bad_port:
      return "port 0";
  }
  return "unknown";
}

std::string PeerAddress::host() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text) == nullptr) {
    return "?";
  }
  return text;
}

std::string PeerAddress::to_string() const {
  auto text = family == 4 ? host() : "[" + host() + "]";
  return text + ":" + std::to_string(port);
}

std::vector<std::uint8_t> encode_preamble(std::string_view token, std::uint8_t version) {
  if (token.size() > kMaxTokenLength) throw std::invalid_argument("bridge token is too long");
  std::vector<std::uint8_t> out(kPreambleMagic.begin(), kPreambleMagic.end());
  out.push_back(version);
  put_u16(out, static_cast<std::uint16_t>(token.size()));
  out.insert(out.end(), token.begin(), token.end());
  return out;
}

std::vector<std::uint8_t> encode_reply(const Reply& reply) {
  if (reply.message.size() > kMaxReplyMessageLength) {
    throw std::invalid_argument("bridge reply message is too long");
  }
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(reply.status));
  put_u16(out, static_cast<std::uint16_t>(reply.message.size()));
  out.insert(out.end(), reply.message.begin(), reply.message.end());
  return out;
}

std::vector<std::uint8_t> encode_stream_header(const StreamHeader& header) {
  if (header.peer.family != 4 && header.peer.family != 6) {
    throw std::invalid_argument("stream header: address family must be 4 or 6");
  }
  if (header.service_port == 0 || header.target_port == 0) {
    throw std::invalid_argument("stream header: port 0");
  }
  std::vector<std::uint8_t> out;
  out.push_back(header.version);
  put_u16(out, header.service_port);
  put_u16(out, header.target_port);
  out.push_back(header.peer.family);
  const auto n = address_size(header.peer.family);
  out.insert(out.end(), header.peer.bytes.begin(),
             header.peer.bytes.begin() + static_cast<std::ptrdiff_t>(n));
  put_u16(out, header.peer.port);
  return out;
}

Decoded<Preamble> decode_preamble(std::span<const std::uint8_t> bytes) {
  const auto magic_seen = std::min(bytes.size(), kPreambleMagic.size());
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(magic_seen),
                  kPreambleMagic.begin())) {
    return fail<Preamble>(DecodeError::bad_magic);
  }
  if (bytes.size() <= kPreambleMagic.size()) return fail<Preamble>(DecodeError::incomplete);
  const auto version = bytes[kPreambleMagic.size()];
  if (version != kProtocolVersion) return fail<Preamble>(DecodeError::unsupported_version);
  if (bytes.size() < kPreambleFixedSize) return fail<Preamble>(DecodeError::incomplete);
  const std::size_t length = get_u16(bytes, kPreambleMagic.size() + 1);
  if (length == 0 || length > kMaxTokenLength) return fail<Preamble>(DecodeError::bad_length);
  if (bytes.size() < kPreambleFixedSize + length) return fail<Preamble>(DecodeError::incomplete);

  Decoded<Preamble> result;
  result.value.version = version;
  result.value.token.assign(
      bytes.begin() + kPreambleFixedSize,
      bytes.begin() + static_cast<std::ptrdiff_t>(kPreambleFixedSize + length));
  result.size = kPreambleFixedSize + length;
  result.error = DecodeError::none;
  return result;
}

Decoded<Reply> decode_reply(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return fail<Reply>(DecodeError::incomplete);
  if (bytes[0] > static_cast<std::uint8_t>(ReplyStatus::unsupported_version)) {
    return fail<Reply>(DecodeError::bad_status);
  }
  if (bytes.size() < kReplyFixedSize) return fail<Reply>(DecodeError::incomplete);
  const std::size_t length = get_u16(bytes, 1);
  if (length > kMaxReplyMessageLength) return fail<Reply>(DecodeError::bad_length);
  if (bytes.size() < kReplyFixedSize + length) return fail<Reply>(DecodeError::incomplete);

  Decoded<Reply> result;
  result.value.status = static_cast<ReplyStatus>(bytes[0]);
  result.value.message.assign(
      bytes.begin() + kReplyFixedSize,
      bytes.begin() + static_cast<std::ptrdiff_t>(kReplyFixedSize + length));
  result.size = kReplyFixedSize + length;
  result.error = DecodeError::none;
  return result;
}

Decoded<StreamHeader> decode_stream_header(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return fail<StreamHeader>(DecodeError::incomplete);
  if (bytes[0] != kStreamHeaderVersion) return fail<StreamHeader>(DecodeError::unsupported_version);
  if (bytes.size() < 6) return fail<StreamHeader>(DecodeError::incomplete);
  const auto family = bytes[5];
  if (family != 4 && family != 6) return fail<StreamHeader>(DecodeError::bad_family);
  const auto total = 6 + address_size(family) + 2;
  if (bytes.size() < total) return fail<StreamHeader>(DecodeError::incomplete);

  Decoded<StreamHeader> result;
  auto& header = result.value;
  header.version = bytes[0];
  header.service_port = get_u16(bytes, 1);
  header.target_port = get_u16(bytes, 3);
  if (header.service_port == 0 || header.target_port == 0) {
    return fail<StreamHeader>(DecodeError::bad_port);
  }
  header.peer.family = family;
  std::copy_n(bytes.begin() + 6, address_size(family), header.peer.bytes.begin());
  header.peer.port = get_u16(bytes, total - 2);
  result.size = total;
  result.error = DecodeError::none;
  return result;
}

bool token_equals(std::string_view expected, std::string_view presented) noexcept {
  // Walk the expected token whatever was presented, so neither the position of the first
  // mismatch nor the presented length shortens the loop.
  unsigned char difference = expected.size() == presented.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto theirs = i < presented.size() ? presented[i] : '\0';
    difference = static_cast<unsigned char>(difference | (expected[i] ^ theirs));
  }
  return difference == 0 && !expected.empty();
}

}  // namespace devx::bridge::tunnel
