// Yamux frame header (hashicorp/yamux spec, protocol version 0): 12 bytes, big-endian.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

namespace devx::bridge::yamux {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::uint8_t kProtocolVersion = 0;
// The spec's initial per-stream window; a peer may send this much before any window update.
inline constexpr std::uint32_t kInitialWindow = 256 * 1024;

enum class FrameType : std::uint8_t { data = 0, window_update = 1, ping = 2, go_away = 3 };

namespace flags {
inline constexpr std::uint16_t syn = 1;
inline constexpr std::uint16_t ack = 2;
inline constexpr std::uint16_t fin = 4;
inline constexpr std::uint16_t rst = 8;
}  // namespace flags

struct FrameHeader {
  std::uint8_t version = kProtocolVersion;
  FrameType type = FrameType::data;
  std::uint16_t flags = 0;
  std::uint32_t stream_id = 0;
  // Data: payload size; WindowUpdate: window delta; Ping: opaque value; GoAway: error code.
  std::uint32_t length = 0;

  bool has(std::uint16_t flag) const { return (flags & flag) != 0; }
  friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

enum class DecodeError { bad_version, bad_type };

using EncodedHeader = std::array<std::byte, kHeaderSize>;

EncodedHeader encode(const FrameHeader& header);

// Reads a header from the first kHeaderSize bytes of `bytes`. std::monostate means that fewer than
// kHeaderSize bytes are available (not an error: wait for more).
using DecodeResult = std::variant<std::monostate, FrameHeader, DecodeError>;
DecodeResult decode(std::span<const std::byte> bytes);

const char* to_string(DecodeError error);

}  // namespace devx::bridge::yamux
