#pragma once
// Writing a user-visible output file so readers never see a partial one.
#include <filesystem>
#include <string_view>

namespace devx::cli {

// Writes `content` to `path` through a temporary file in the same directory, fsync and rename.
// Throws devx::Error(io) naming the path.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace devx::cli
