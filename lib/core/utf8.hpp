#pragma once
// UTF-8 checks. JSON documents must be valid UTF-8, and messages often quote user bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace devx::core {

// Length of the valid UTF-8 sequence starting at s[i] (as Go's utf8.DecodeRuneInString accepts
// it: no overlongs, no surrogates, at most U+10FFFF) with its code point in `rune`, or 0 when it
// is invalid. s[i] must not be ASCII.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::uint32_t& rune);

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

}  // namespace devx::core
