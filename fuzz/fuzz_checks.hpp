#pragma once
// Invariants the fuzz harnesses check on what the library hands back; a violation traps (libFuzzer
// then keeps the input).
#include <boost/json/value.hpp>

#include <string_view>

#include "core/utf8.hpp"

namespace devx::fuzz {

inline void require_utf8(std::string_view text) {
  if (devx::core::valid_utf8(text) != text) __builtin_trap();
}

// Every string of a JSON document, keys included, is valid UTF-8.
inline void require_utf8(const boost::json::value& value) {
  if (value.is_string()) {
    require_utf8(std::string_view(value.get_string()));
  } else if (value.is_array()) {
    for (const auto& item : value.get_array()) require_utf8(item);
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.get_object()) {
      require_utf8(std::string_view(key));
      require_utf8(item);
    }
  }
}

}  // namespace devx::fuzz
