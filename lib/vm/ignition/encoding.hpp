#pragma once
// Byte encodings of Ignition resources: data URLs (percent-escaped, base64, gzip+base64) chosen
// the way Butane chooses them, and their decoding for the replay reader.
#include <optional>
#include <string>
#include <string_view>

namespace devx::ignition {

// The escaping of Butane's data URLs (vincent-petithory/dataurl v1.0.0 Escape): RFC 2396
// unreserved bytes [A-Za-z0-9-_.!~*'()] are kept, everything else becomes %XX (uppercase hex).
std::string dataurl_escape(std::string_view bytes);
// Inverse of dataurl_escape (any %XX); nullopt for a malformed escape.
std::optional<std::string> percent_unescape(std::string_view text);

// Standard alphabet with padding (Go's base64.StdEncoding).
std::string base64_encode(std::string_view bytes);
// nullopt for anything that is not canonical padded standard base64.
std::optional<std::string> base64_decode(std::string_view text);

// gzip at deflate level 9 (zlib). Not byte-identical to Go's compress/gzip, which has its own
// deflate implementation, but it decompresses to the same bytes.
std::string gzip_compress(std::string_view bytes);
// Throws Error(invalid_argument) for a stream that is not gzip or is truncated; `limit` bounds the
// output so a gzip bomb cannot exhaust memory.
std::string gzip_decompress(std::string_view bytes, std::size_t limit);

struct DataUrl {
  std::string source;                      // "data:,…" or "data:;base64,…"
  std::optional<std::string> compression;  // "" or "gzip"; nullopt when the user declared one
};
// Butane's MakeDataURL: the shorter of "data:,<escaped>" and "data:;base64,<b64>", then
// "data:;base64,<b64(gzip -9)>" with compression "gzip" if that is shorter by more than
// len("gzip"). `declared_compression` true means the user set `compression:` (contents already
// compressed): no further compression, and the compression field is left as declared.
DataUrl make_data_url(std::string_view contents, bool declared_compression);

// The payload of a data URL ("data:[<media type>][;base64],<data>"), percent-unescaped and/or
// base64-decoded; nullopt when `url` is not a well-formed data URL.
std::optional<std::string> decode_data_url(std::string_view url);

}  // namespace devx::ignition
