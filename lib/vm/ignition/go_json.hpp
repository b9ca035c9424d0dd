#pragma once
// Serialises a Boost.JSON document the way Go's encoding/json does (json.Marshal / MarshalIndent
// with prefix "" and indent "  "), so that Ignition output is byte-identical to Butane's. Boost's
// own serialiser differs: Go escapes '<', '>' and '&' as \u003c, \u003e, \u0026, U+2028/U+2029,
// writes invalid UTF-8 as \ufffd and other control characters as lowercase \u00xx.
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace devx::ignition {

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD, as Go does when it
// encodes a string. Diagnostics quote user input, and JSON documents must be valid UTF-8.
std::string valid_utf8(std::string_view text);

// Numbers must be integers (Ignition has no floats). No trailing newline.
std::string go_marshal(const boost::json::value& value, bool indent);

}  // namespace devx::ignition
