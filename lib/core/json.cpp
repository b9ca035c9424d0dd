#include "core/json.hpp"

#include <devx/error.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <cstddef>
#include <string>

namespace devx::core {
namespace {

struct LineColumn {
  std::size_t line = 1;
  std::size_t column = 1;
};

LineColumn line_column_at(std::string_view text, std::size_t offset) {
  LineColumn lc;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.column = 1;
    } else {
      ++lc.column;
    }
  }
  return lc;
}

}  // namespace

std::string to_json_string(const boost::json::value& value) {
  return boost::json::serialize(value);
}

boost::json::value parse_json_or_throw(std::string_view text, std::string_view what) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  // write() returns how many characters were consumed, which is where the error is.
  const std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    const std::size_t offset = consumed < text.size() ? consumed : text.size();
    const LineColumn lc = line_column_at(text, offset);
    boost::json::object details;
    details["line"] = lc.line;
    details["column"] = lc.column;
    details["offset"] = offset;
    throw Error(ErrorCode::invalid_argument,
                std::string(what) + ": invalid JSON at line " + std::to_string(lc.line) +
                    ", column " + std::to_string(lc.column) + ": " + ec.message(),
                {}, to_json_string(details));
  }
  return parser.release();
}

boost::json::object parse_json_object_or_throw(std::string_view text, std::string_view what) {
  boost::json::value value = parse_json_or_throw(text, what);
  if (!value.is_object()) {
    throw Error(ErrorCode::invalid_argument, std::string(what) + ": expected a JSON object");
  }
  return std::move(value.as_object());
}

boost::json::value parse_json_or_null(std::string_view text) noexcept {
  if (text.empty()) return nullptr;
  boost::system::error_code ec;
  try {
    boost::json::stream_parser parser;
    parser.write(text.data(), text.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) return nullptr;
    return parser.release();
  } catch (...) {  // allocation failure
    return nullptr;
  }
}

std::string string_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t int_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return 0;
}

}  // namespace devx::core
