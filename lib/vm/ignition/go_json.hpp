#pragma once
// Serialises a Boost.JSON document the way Go's encoding/json does (json.Marshal / MarshalIndent
// with prefix "" and indent "  "), so that Ignition output is byte-identical to Butane's. Boost's
// own serialiser differs: Go escapes '<', '>' and '&' as \u003c, \u003e, \u0026, U+2028/U+2029,
// writes invalid UTF-8 as \ufffd and other control characters as lowercase \u00xx.
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace devx::ignition {

// Numbers must be integers (Ignition has no floats). No trailing newline.
std::string go_marshal(const boost::json::value& value, bool indent);

}  // namespace devx::ignition
