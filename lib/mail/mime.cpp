#include "mail/mime.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/utf8.hpp"
#include "vm/ignition/encoding.hpp"

namespace devx::mail {
namespace {

namespace json = boost::json;

constexpr int kMaxDepth = 8;  // multipart nesting followed; deeper parts are listed, not opened

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// Bytes in `charset` as UTF-8. Charsets other than UTF-8/ASCII/Latin-1 are not converted: their
// invalid bytes show as U+FFFD rather than being guessed at.
std::string to_utf8(std::string_view bytes, std::string_view charset) {
  const auto cs = lower(charset);
  if (cs == "iso-8859-1" || cs == "latin1" || cs == "latin-1" || cs == "iso8859-1")
    return latin1_to_utf8(bytes);
  return core::valid_utf8(bytes);
}

std::string base64_lenient(std::string_view text) {
  std::string clean;
  for (char c : text)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') clean.push_back(c);
  // Garbage after the last full quantum (some mailers pad wrongly) is dropped.
  if (clean.size() % 4 == 1) clean.pop_back();
  while (clean.size() % 4 != 0) clean.push_back('=');
  if (auto decoded = ignition::base64_decode(clean)) return *decoded;
  return std::string(text);
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\n') {  // soft line break (LF)
      i += 1;
    } else if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);  // a stray '=' is kept, as RFC 2045 §6.7 suggests
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
      return std::nullopt;
    out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
    i += 2;
  }
  return out;
}

// "text/plain; charset=\"utf-8\"; name*=utf-8''r%C3%A9sum%C3%A9.pdf" → value + parameters.
struct Structured {
  std::string value;  // lower-cased
  std::vector<std::pair<std::string, std::string>> params;
  std::string param(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return v;
    return {};
  }
};

Structured parse_structured(std::string_view field) {
  Structured out;
  std::size_t i = field.find(';');
  out.value = lower(trim(field.substr(0, i)));
  while (i != std::string_view::npos && i < field.size()) {
    ++i;
    const auto eq = field.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name = lower(trim(field.substr(i, eq - i)));
    std::size_t j = eq + 1;
    while (j < field.size() && (field[j] == ' ' || field[j] == '\t')) ++j;
    std::string value;
    if (j < field.size() && field[j] == '"') {
      for (++j; j < field.size() && field[j] != '"'; ++j) {
        if (field[j] == '\\' && j + 1 < field.size()) ++j;
        value.push_back(field[j]);
      }
      i = field.find(';', j);
    } else {
      i = field.find(';', j);
      value = std::string(trim(field.substr(j, i == std::string_view::npos ? i : i - j)));
    }
    if (name.ends_with('*')) {  // RFC 2231: charset'language'percent-encoded
      name.pop_back();
      const auto first = value.find('\'');
      const auto second = first == std::string::npos ? first : value.find('\'', first + 1);
      if (second != std::string::npos) {
        if (auto decoded = percent_decode(std::string_view(value).substr(second + 1)))
          value = to_utf8(*decoded, value.substr(0, first));
      }
    }
    out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string field(const HeaderFields& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (lower(k) == name) return v;
  return {};
}

struct Walk {
  std::optional<std::string> text, html;
  json::array parts;
};

void walk_part(std::string_view part, int depth, Walk& walk);

// The bodies between the boundary delimiters of a multipart body (preamble and epilogue dropped).
std::vector<std::string_view> split_multipart(std::string_view body, const std::string& boundary) {
  const std::string delimiter = "--" + boundary;
  std::vector<std::string_view> parts;
  std::size_t start = std::string_view::npos;  // where the current part's content begins
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto eol = body.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? body.size() : eol + 1;
    std::string_view line = body.substr(pos, next - pos);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    if (line.starts_with(delimiter)) {
      const auto rest = trim(line.substr(delimiter.size()));
      const bool close = rest == "--";
      if (rest.empty() || close) {
        if (start != std::string_view::npos) {
          // The line break before a delimiter belongs to the delimiter.
          std::size_t end = pos;
          if (end > start && body[end - 1] == '\n') --end;
          if (end > start && body[end - 1] == '\r') --end;
          parts.push_back(body.substr(start, end - start));
        }
        if (close) return parts;
        start = next;
      }
    }
    pos = next;
  }
  if (start != std::string_view::npos && start < body.size())
    parts.push_back(body.substr(start));  // an unterminated last part is still shown
  return parts;
}

void walk_part(std::string_view part, int depth, Walk& walk) {
  std::size_t body_at = 0;
  const auto headers = parse_header_block(part, body_at);
  const auto body = part.substr(body_at);
  const auto type_field = field(headers, "content-type");
  auto type = parse_structured(type_field.empty() ? "text/plain; charset=us-ascii" : type_field);
  if (type.value.empty()) type.value = "text/plain";
  const auto disposition = parse_structured(field(headers, "content-disposition"));

  if (type.value.starts_with("multipart/") && depth < kMaxDepth &&
      !type.param("boundary").empty()) {
    for (const auto sub : split_multipart(body, type.param("boundary")))
      walk_part(sub, depth + 1, walk);
    return;
  }
  const auto decoded =
      decode_transfer_encoding(body, lower(trim(field(headers, "content-transfer-encoding"))));
  std::string filename = disposition.param("filename");
  if (filename.empty()) filename = type.param("name");
  filename = decode_header_value(filename);
  const bool attachment = disposition.value == "attachment" || !filename.empty();
  const auto charset = type.param("charset");
  if (!attachment && type.value == "text/plain" && !walk.text)
    walk.text = to_utf8(decoded, charset);
  if (!attachment && type.value == "text/html" && !walk.html) walk.html = to_utf8(decoded, charset);
  // Header bytes are whatever the client sent: the part list must stay valid UTF-8 JSON.
  walk.parts.push_back(json::object{{"content_type", core::valid_utf8(type.value)},
                                    {"charset", core::valid_utf8(lower(charset))},
                                    {"disposition", core::valid_utf8(disposition.value)},
                                    {"filename", filename},
                                    {"size", decoded.size()}});
}

}  // namespace

HeaderFields parse_header_block(std::string_view message, std::size_t& body_offset) {
  HeaderFields fields;
  std::size_t pos = 0;
  body_offset = message.size();
  while (pos < message.size()) {
    const auto eol = message.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? message.size() : eol + 1;
    std::string_view line = message.substr(pos, next - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) {
      body_offset = next;
      break;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !fields.empty()) {
      fields.back().second += " ";  // unfolding: the line break goes, the whitespace stays one
      fields.back().second += trim(line);
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      fields.emplace_back(std::string(trim(line.substr(0, colon))),
                          std::string(trim(line.substr(colon + 1))));
    }
    pos = next;
  }
  return fields;
}

std::string decode_header_value(std::string_view value) {
  std::string out;
  std::size_t pos = 0;
  bool last_was_word = false;
  std::string pending_space;  // whitespace between two encoded words is dropped (RFC 2047 §6.2)
  while (pos < value.size()) {
    const auto start = value.find("=?", pos);
    std::size_t q1 = 0, q2 = 0, end = std::string_view::npos;
    if (start != std::string_view::npos) {
      q1 = value.find('?', start + 2);
      q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
      end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
    }
    if (end == std::string_view::npos || q2 != q1 + 2) {
      out += pending_space;
      out += value.substr(pos);
      break;
    }
    const auto between = value.substr(pos, start - pos);
    if (last_was_word && trim(between).empty()) {
      // adjacent encoded words: no space between them
    } else {
      out += between;
    }
    const auto charset = value.substr(start + 2, q1 - start - 2);
    const char encoding =
        static_cast<char>(std::toupper(static_cast<unsigned char>(value[q1 + 1])));
    const auto text = value.substr(q2 + 1, end - q2 - 1);
    std::string bytes;
    if (encoding == 'B') {
      bytes = base64_lenient(text);
    } else if (encoding == 'Q') {
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
          bytes.push_back(' ');
        } else if (text[i] == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
          bytes.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
          i += 2;
        } else {
          bytes.push_back(text[i]);
        }
      }
    } else {
      bytes = std::string(value.substr(start, end + 2 - start));
    }
    // RFC 2231 language suffix: "utf-8*en".
    out += to_utf8(bytes, charset.substr(0, charset.find('*')));
    last_was_word = true;
    pos = end + 2;
  }
  return core::valid_utf8(out);
}

std::string decode_transfer_encoding(std::string_view body, std::string_view encoding) {
  if (encoding == "base64") return base64_lenient(body);
  if (encoding == "quoted-printable") return quoted_printable(body);
  return std::string(body);
}

json::object parse_message(std::string_view message) {
  std::size_t body_at = 0;
  const auto headers = parse_header_block(message, body_at);
  json::array list;
  for (const auto& [name, value] : headers)
    list.push_back(json::array{json::string(core::valid_utf8(name)),
                               json::string(decode_header_value(value))});
  Walk walk;
  walk_part(message, 0, walk);
  json::object out{
      {"headers", json::object{{"subject", decode_header_value(field(headers, "subject"))},
                               {"from", decode_header_value(field(headers, "from"))},
                               {"to", decode_header_value(field(headers, "to"))},
                               {"cc", decode_header_value(field(headers, "cc"))},
                               {"date", decode_header_value(field(headers, "date"))},
                               {"message_id", decode_header_value(field(headers, "message-id"))}}},
      {"header_list", std::move(list)}};
  if (walk.text) out["text"] = *walk.text;
  if (walk.html) out["html"] = *walk.html;
  out["parts"] = std::move(walk.parts);
  return out;
}

}  // namespace devx::mail
