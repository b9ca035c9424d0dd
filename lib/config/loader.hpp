#pragma once
#include <devx/config.hpp>

#include <optional>
#include <string_view>

namespace devx::config {

// Reads the root file (or `root_text` standing for it), follows include:, applies the profile and
// validates. Problems in the configuration become diagnostics.
LoadResult load(const std::filesystem::path& root_file, std::optional<std::string_view> root_text,
                const LoadOptions& options);

}  // namespace devx::config
