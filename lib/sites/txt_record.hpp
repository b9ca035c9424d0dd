#pragma once
// DNS TXT record content as Cloudflare stores it: one or more quoted character strings
// ("…" "…"), each at most 255 bytes, with '"' and '\' escaped by a backslash.
#include <string>
#include <string_view>

namespace devx::sites {

// `value` as quoted character strings. Error(invalid_argument) for characters outside printable
// ASCII (GitHub's codes are hex; anything else is a paste error).
std::string quote_txt(std::string_view value);

// The value of TXT content: the quoted strings unescaped and concatenated; unquoted content is
// returned as it is.
std::string unquote_txt(std::string_view content);

}  // namespace devx::sites
