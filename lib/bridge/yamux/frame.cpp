#include "bridge/yamux/frame.hpp"

namespace devx::bridge::yamux {
namespace {

void put16(std::byte* out, std::uint16_t value) {
  out[0] = static_cast<std::byte>(value >> 8);
  out[1] = static_cast<std::byte>(value);
}

void put32(std::byte* out, std::uint32_t value) {
  out[0] = static_cast<std::byte>(value >> 24);
  out[1] = static_cast<std::byte>(value >> 16);
  out[2] = static_cast<std::byte>(value >> 8);
  out[3] = static_cast<std::byte>(value);
}

std::uint16_t get16(const std::byte* in) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(in[0]) << 8) |
                                    std::to_integer<unsigned>(in[1]));
}

std::uint32_t get32(const std::byte* in) {
  return (std::to_integer<std::uint32_t>(in[0]) << 24) |
         (std::to_integer<std::uint32_t>(in[1]) << 16) |
         (std::to_integer<std::uint32_t>(in[2]) << 8) | std::to_integer<std::uint32_t>(in[3]);
}

}  // namespace

EncodedHeader encode(const FrameHeader& header) {
  EncodedHeader out{};
  out[0] = static_cast<std::byte>(header.version);
  out[1] = static_cast<std::byte>(header.type);
  put16(&out[2], header.flags);
  put32(&out[4], header.stream_id);
  put32(&out[8], header.length);
  return out;
}

DecodeResult decode(std::span<const std::byte> bytes) {
  if (bytes.size() < kHeaderSize) return std::monostate{};
  const auto version = std::to_integer<std::uint8_t>(bytes[0]);
  if (version != kProtocolVersion) return DecodeError::bad_version;
  const auto type = std::to_integer<std::uint8_t>(bytes[1]);
  if (type > static_cast<std::uint8_t>(FrameType::go_away)) return DecodeError::bad_type;
  FrameHeader header;
  header.version = version;
  header.type = static_cast<FrameType>(type);
  header.flags = get16(&bytes[2]);
  header.stream_id = get32(&bytes[4]);
  header.length = get32(&bytes[8]);
  return header;
}

const char* to_string(DecodeError error) {
  switch (error) {
    case DecodeError::bad_version:
      return "unsupported protocol version";
    case DecodeError::bad_type:
      return "unknown frame type";
  }
  return "invalid frame header";
}

}  // namespace devx::bridge::yamux
