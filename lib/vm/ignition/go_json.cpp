#include "vm/ignition/go_json.hpp"

#include <devx/error.hpp>

#include <cstdint>
#include <string_view>

#include "core/utf8.hpp"

namespace devx::ignition {

namespace json = boost::json;

namespace {

constexpr char kLowerHex[] = "0123456789abcdef";

void write_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out += kLowerHex[c >> 4];
            out += kLowerHex[c & 0x0f];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    std::uint32_t rune = 0;
    const std::size_t length = core::utf8_sequence_length(s, i, rune);
    if (length == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (rune == 0x2028 || rune == 0x2029) {
      out += rune == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, length));
    }
    i += length;
  }
  out += '"';
}

void newline(std::string& out, bool indent, int depth) {
  if (!indent) return;
  out += '\n';
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

void write_value(std::string& out, const json::value& value, bool indent, int depth) {
  switch (value.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      out += std::to_string(value.get_int64());
      return;
    case json::kind::uint64:
      out += std::to_string(value.get_uint64());
      return;
    case json::kind::double_:
      throw Error(ErrorCode::internal, "an Ignition document has no floating-point values");
    case json::kind::string:
      write_string(out, value.get_string());
      return;
    case json::kind::array: {
      const json::array& array = value.get_array();
      if (array.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const json::value& item : array) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        write_value(out, item, indent, depth + 1);
      }
      newline(out, indent, depth);
      out += ']';
      return;
    }
    case json::kind::object: {
      const json::object& object = value.get_object();
      if (object.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& member : object) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        write_string(out, member.key());
        out += indent ? ": " : ":";
        write_value(out, member.value(), indent, depth + 1);
      }
      newline(out, indent, depth);
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string go_marshal(const json::value& value, bool indent) {
  std::string out;
  write_value(out, value, indent, 0);
  return out;
}

}  // namespace devx::ignition
