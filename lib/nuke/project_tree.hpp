#pragma once
// Build artefacts and dependency folders in a project tree, and the guarantees around them:
// nothing git tracks, nothing outside the tree (symlinks are never followed), never inside .git
// or a nested repository.
#include <devx/context.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace devx::cleanup {

struct ArtifactDir {
  std::filesystem::path path;
  std::string reason;
};

struct ProtectedPath {
  std::filesystem::path path;
  std::string reason;
};

struct TreeScan {
  bool git = false;  // the root is inside a git work tree (and git is installed)
  std::vector<ArtifactDir> artifacts;
  std::vector<ProtectedPath> protected_paths;
  std::vector<std::string> notes;
};

// Walks `root`. A folder is an artefact when its name is one of the generated kinds
// (node_modules, .venv, __pycache__ …, at any depth) and git tracks nothing in it; a folder with
// an ambiguous name (build, dist, target, out, .cache, vendor, tmp …) also needs git to ignore it,
// or a CACHEDIR.TAG. Without git only the unambiguous kinds qualify. `keep` (DEVX_HOME) and
// anything holding it are never artefacts.
TreeScan scan_artifacts(Context& context, const std::filesystem::path& root,
                        const std::filesystem::path& keep);

// Right before removal: `path` is still a real directory (not a symlink) strictly inside `root`
// (every parent resolved), and, in a git tree, git still tracks nothing in it. Returns the reason
// it must be kept, "" when it may go.
std::string artifact_still_removable(Context& context, const std::filesystem::path& root,
                                     const std::filesystem::path& path, bool git);

// Bytes of the regular files below `path` (symlinks are not followed; unreadable parts count 0).
std::uint64_t disk_usage(const std::filesystem::path& path);

}  // namespace devx::cleanup
