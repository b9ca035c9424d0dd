#pragma once
// The one place where libdevx turns text into JSON values and back. Boost.JSON is the document
// model of the library (it keeps insertion order and has a stable serialiser); simdjson is kept
// for bulk read-only paths that never build a DOM.
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace devx::core {

// Compact serialisation.
std::string to_json_string(const boost::json::value& value);

// Parses `text` as one JSON document. Throws Error(invalid_argument) naming `what` and the
// position ("line 3, column 7") of the first problem.
boost::json::value parse_json_or_throw(std::string_view text, std::string_view what);

// Like parse_json_or_throw, but the document must be an object.
boost::json::object parse_json_object_or_throw(std::string_view text, std::string_view what);

// Best effort: the parsed document, or nullptr-valued when `text` is empty or not JSON.
boost::json::value parse_json_or_null(std::string_view text) noexcept;

// Lenient field access for state files written by us: "" / 0 when absent or of another type.
std::string string_field(const boost::json::object& o, std::string_view key);
std::int64_t int_field(const boost::json::object& o, std::string_view key);

}  // namespace devx::core
