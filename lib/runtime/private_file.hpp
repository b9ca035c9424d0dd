#pragma once
// Files holding secrets (container env-files, database passwords).
#include <filesystem>
#include <string_view>

namespace devx::runtime {

// Writes `content` to `path` with mode 0600 through a temporary file and rename(), creating the
// parent directory (mode 0700) when needed.
void write_private_file(const std::filesystem::path& path, std::string_view content);

}  // namespace devx::runtime
