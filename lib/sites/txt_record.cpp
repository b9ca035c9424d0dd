#include "sites/txt_record.hpp"

#include <devx/error.hpp>

namespace devx::sites {

std::string quote_txt(std::string_view value) {
  for (unsigned char c : value)
    if (c < 0x20 || c > 0x7e)
      throw Error(ErrorCode::invalid_argument,
                  "the TXT value contains a control or non-ASCII character",
                  "paste the value exactly as GitHub shows it");
  if (value.empty()) return "\"\"";
  std::string out;
  std::size_t in_string = 0;  // bytes in the current character string (the limit is 255)
  for (char c : value) {
    if (in_string == 0) out += out.empty() ? "\"" : " \"";
    if (c == '"' || c == '\\') out += '\\';
    out += c;
    if (++in_string == 255) {
      out += '"';
      in_string = 0;
    }
  }
  if (in_string > 0) out += '"';
  return out;
}

std::string unquote_txt(std::string_view content) {
  if (content.empty() || content.front() != '"') return std::string(content);
  std::string out;
  bool inside = false;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (!inside) {
      if (c == '"') inside = true;
      continue;  // the spaces between strings
    }
    if (c == '\\' && i + 1 < content.size()) {
      out += content[++i];
    } else if (c == '"') {
      inside = false;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace devx::sites
