#pragma once
#include <span>
#include <string>
#include <string_view>

namespace devx::config {

// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo;
// "" otherwise.
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace devx::config
