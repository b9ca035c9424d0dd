#include "core/utf8.hpp"

namespace devx::core {

std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::uint32_t& rune) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  const auto continuation = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
  if (lead >= 0xc2 && lead <= 0xdf) {
    if (!continuation(i + 1)) return 0;
    rune = ((lead & 0x1fu) << 6) | (byte(i + 1) & 0x3fu);
    return 2;
  }
  if (lead >= 0xe0 && lead <= 0xef) {
    if (!continuation(i + 1) || !continuation(i + 2)) return 0;
    rune = ((lead & 0x0fu) << 12) | ((byte(i + 1) & 0x3fu) << 6) | (byte(i + 2) & 0x3fu);
    if (rune < 0x800 || (rune >= 0xd800 && rune <= 0xdfff)) return 0;
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
    rune = ((lead & 0x07u) << 18) | ((byte(i + 1) & 0x3fu) << 12) | ((byte(i + 2) & 0x3fu) << 6) |
           (byte(i + 3) & 0x3fu);
    if (rune < 0x10000 || rune > 0x10ffff) return 0;
    return 4;
  }
  return 0;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      out += text[i++];
      continue;
    }
    std::uint32_t rune = 0;
    const std::size_t length = utf8_sequence_length(text, i, rune);
    if (length == 0) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

}  // namespace devx::core
