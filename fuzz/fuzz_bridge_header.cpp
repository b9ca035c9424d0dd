// libFuzzer target for the bridge tunnel's decoders: arbitrary bytes as a stream header, a
// session preamble and a preamble reply. They must never crash or read out of bounds, and what
// decodes must re-encode to exactly the bytes consumed.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "bridge/tunnel/protocol.hpp"

namespace {

using namespace devx::bridge::tunnel;

template <class Decoded, class Encode>
void check_round_trip(std::span<const std::uint8_t> input, const Decoded& decoded, Encode encode) {
  if (!decoded.ok()) return;
  if (decoded.size == 0 || decoded.size > input.size()) __builtin_trap();
  const auto encoded = encode(decoded.value);
  if (encoded.size() != decoded.size) __builtin_trap();
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != input[i]) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  check_round_trip(input, decode_stream_header(input),
                   [](const StreamHeader& h) { return encode_stream_header(h); });
  check_round_trip(input, decode_preamble(input),
                   [](const Preamble& p) { return encode_preamble(p.token, p.version); });
  check_round_trip(input, decode_reply(input), [](const Reply& r) { return encode_reply(r); });
  // Decoding never depends on bytes past a valid message, and a strict prefix is never an error
  // other than "incomplete" once the full message decodes.
  const auto header = decode_stream_header(input);
  if (header.ok() &&
      decode_stream_header(input.first(header.size - 1)).error != DecodeError::incomplete) {
    __builtin_trap();
  }
  return 0;
}
