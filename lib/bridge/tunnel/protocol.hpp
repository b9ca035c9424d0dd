#pragma once
// The bridge tunnel protocol (docs/bridge-protocol.md): a session preamble exchanged on the raw
// control connection before Yamux starts, and a header at the start of every stream the agent
// opens. Pure encoding and decoding; no I/O. Depends on std only (part of devx_wire).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace devx::bridge::tunnel {

inline constexpr std::array<std::uint8_t, 6> kPreambleMagic = {'D', 'E', 'V', 'X', 'B', 'R'};
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::uint8_t kStreamHeaderVersion = 1;
// Bounds every length field, so a peer cannot make the other side buffer more than this.
inline constexpr std::size_t kMaxTokenLength = 512;
inline constexpr std::size_t kMaxReplyMessageLength = 1024;
inline constexpr std::size_t kPreambleFixedSize = 9;  // magic + version + token length
inline constexpr std::size_t kReplyFixedSize = 3;     // status + message length
inline constexpr std::size_t kMaxStreamHeaderSize = 24;

// Thrown by the tunnel's I/O helpers, the agent and the client.
class TunnelError : public std::runtime_error {
 public:
  enum class Kind { connect, timeout, bad_token, unsupported_version, protocol, io, closed };
  TunnelError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// Why a decode did not produce a value. `incomplete` means "read more bytes and try again": every
// decoder reports it only while the input is a strict prefix of something that could be valid.
enum class DecodeError {
  none,
  incomplete,
  bad_magic,
  unsupported_version,
  bad_length,
  bad_status,
  bad_family,
  bad_port,
};
std::string_view to_string(DecodeError error) noexcept;

template <class T>
struct Decoded {
  T value{};
  std::size_t size = 0;  // bytes consumed when ok()
  DecodeError error = DecodeError::incomplete;
  bool ok() const noexcept { return error == DecodeError::none; }
};

struct Preamble {
  std::uint8_t version = kProtocolVersion;
  std::string token;
};

enum class ReplyStatus : std::uint8_t { ok = 0, bad_token = 1, unsupported_version = 2 };

struct Reply {
  ReplyStatus status = ReplyStatus::ok;
  std::string message;
};

struct PeerAddress {
  std::uint8_t family = 4;               // 4 or 6, as on the wire
  std::array<std::uint8_t, 16> bytes{};  // the first 4 are used for IPv4
  std::uint16_t port = 0;

  std::string host() const;       // "10.0.0.7" / "fd00::1"
  std::string to_string() const;  // "10.0.0.7:51234" / "[fd00::1]:51234"
  bool operator==(const PeerAddress&) const = default;
};

struct StreamHeader {
  std::uint8_t version = kStreamHeaderVersion;
  std::uint16_t service_port = 0;
  std::uint16_t target_port = 0;
  PeerAddress peer;
  bool operator==(const StreamHeader&) const = default;
};

// Throws std::invalid_argument for values the wire cannot carry (token too long, port 0, family).
std::vector<std::uint8_t> encode_preamble(std::string_view token,
                                          std::uint8_t version = kProtocolVersion);
std::vector<std::uint8_t> encode_reply(const Reply& reply);
std::vector<std::uint8_t> encode_stream_header(const StreamHeader& header);

// An unknown preamble version is reported as soon as the version byte is seen, so the agent can
// answer `unsupported_version` without guessing the layout of the rest.
Decoded<Preamble> decode_preamble(std::span<const std::uint8_t> bytes);
Decoded<Reply> decode_reply(std::span<const std::uint8_t> bytes);
Decoded<StreamHeader> decode_stream_header(std::span<const std::uint8_t> bytes);

// Compares in time that depends only on the lengths, not on where the first difference is.
bool token_equals(std::string_view expected, std::string_view presented) noexcept;

}  // namespace devx::bridge::tunnel
