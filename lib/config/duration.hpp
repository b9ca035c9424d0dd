#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace devx::config {

// Go-style durations: one or more <number><unit> with units ns, us, µs, ms, s, m, h
// ("1m30s", "1.5s", "250ms"). Rounded to milliseconds. nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact spelling: "1500ms", "2s", "1m30s", "0s".
std::string format_duration(std::chrono::milliseconds value);

}  // namespace devx::config
