#include "nuke/project_tree.hpp"

#include <devx/error.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string_view>

namespace devx::cleanup {
namespace {

namespace fs = std::filesystem;

// Names that only tools create: safe by name once git tracks nothing in them.
const std::set<std::string, std::less<>> kGenerated = {
    "node_modules", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox",
    ".nox",         ".next",       ".nuxt",         ".svelte-kit", ".turbo",      ".parcel-cache",
    ".gradle",      ".angular",    ".expo",         ".dart_tool",  ".terraform",  ".eggs"};
// Virtualenvs: generated when they carry pyvenv.cfg.
const std::set<std::string, std::less<>> kVirtualenvs = {".venv", "venv"};
// Common names that are also used for hand-written files: removed only when git ignores them or
// a CACHEDIR.TAG marks them.
const std::set<std::string, std::less<>> kAmbiguous = {
    "build", "dist", "target", "out", ".cache", "vendor", "tmp", "coverage", "bin", "obj"};

// https://bford.info/cachedir/
bool has_cachedir_tag(const fs::path& dir) {
  std::ifstream in(dir / "CACHEDIR.TAG");
  std::string head(43, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return in && head == "Signature: 8a477f597d28d172789f06886806bc55";
}

std::string run_git(Context& context, const fs::path& root, std::vector<std::string> args,
                    std::optional<std::string> input, bool* ok) {
  CommandSpec spec;
  spec.argv = {"git", "-C", root.string()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.stdin_data = std::move(input);
  spec.timeout = std::chrono::seconds(60);
  CommandResult result;
  try {
    result = context.commands().run(spec);
  } catch (const Error&) {
    *ok = false;
    return {};
  }
  // check-ignore exits 1 when nothing is ignored.
  *ok = result.ok() || (args.front() == "check-ignore" && result.exit_code == 1 &&
                        result.signal == 0 && !result.timed_out);
  return result.out;
}

std::vector<std::string> split_nul(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\0', start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

bool has_git_marker(const fs::path& root) {
  std::error_code ec;
  for (fs::path dir = root; !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / ".git", ec)) return true;
    if (dir == dir.parent_path()) break;
  }
  return false;
}

bool is_inside_git_tree(Context& context, const fs::path& root) {
  bool ok = false;
  const std::string out = run_git(context, root, {"rev-parse", "--is-inside-work-tree"}, {}, &ok);
  if (ok) return out.rfind("true", 0) == 0;
  // A repository git cannot read (not installed, "dubious ownership" …) must not be mistaken
  // for no repository: tracked files would lose their protection.
  if (has_git_marker(root)) {
    throw Error(ErrorCode::command_failed, "git cannot read the repository around " + root.string(),
                "run `git -C " + root.string() +
                    " status` to see why (for another user's checkout: git config --global "
                    "--add safe.directory <path>)");
  }
  return false;
}

// "a/b/c" → {"a", "a/b"}: every directory that holds a tracked file.
std::set<std::string> tracked_directories(Context& context, const fs::path& root) {
  bool ok = false;
  const std::string out = run_git(context, root, {"ls-files", "-z"}, {}, &ok);
  if (!ok) {
    throw Error(ErrorCode::command_failed, "git ls-files failed in " + root.string(),
                "check the repository with `git status`");
  }
  std::set<std::string> dirs;
  for (const auto& file : split_nul(out)) {
    for (auto slash = file.find('/'); slash != std::string::npos;
         slash = file.find('/', slash + 1)) {
      dirs.insert(file.substr(0, slash));
    }
  }
  return dirs;
}

std::set<std::string> ignored_by_git(Context& context, const fs::path& root,
                                     const std::vector<std::string>& relative) {
  if (relative.empty()) return {};
  std::string input;
  for (const auto& r : relative) input += r + '\0';
  bool ok = false;
  const std::string out = run_git(context, root, {"check-ignore", "-z", "--stdin"}, input, &ok);
  if (!ok) return {};
  const auto parts = split_nul(out);
  return {parts.begin(), parts.end()};
}

bool contains(const fs::path& outer, const fs::path& inner) {
  const auto rel = inner.lexically_relative(outer);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

TreeScan scan_artifacts(Context& context, const fs::path& root, const fs::path& keep) {
  TreeScan scan;
  scan.git = is_inside_git_tree(context, root);
  std::set<std::string> tracked;
  if (scan.git) {
    tracked = tracked_directories(context, root);
  } else {
    scan.notes.push_back(root.string() +
                         " is not in a git work tree (or git is missing): only folders that are "
                         "generated by name (node_modules, __pycache__, virtualenvs …) are listed");
  }
  struct Candidate {
    fs::path path;
    std::string relative;
    std::string name;
    bool generated;
  };
  std::vector<Candidate> candidates;
  std::error_code ec;
  const auto options = fs::directory_options::skip_permission_denied;
  for (auto it = fs::recursive_directory_iterator(root, options, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    std::error_code status_ec;
    const auto status = entry.symlink_status(status_ec);
    if (status_ec || !fs::is_directory(status)) continue;  // symlinks are never followed
    const std::string name = entry.path().filename().string();
    if (name == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (fs::exists(entry.path() / ".git", status_ec)) {
      // A nested repository or submodule: its own git knows what it tracks.
      it.disable_recursion_pending();
      scan.protected_paths.push_back({entry.path(), "a nested git repository"});
      continue;
    }
    const bool virtualenv =
        kVirtualenvs.count(name) > 0 && fs::exists(entry.path() / "pyvenv.cfg", status_ec);
    const bool generated = kGenerated.count(name) > 0 || virtualenv ||
                           (kAmbiguous.count(name) > 0 && has_cachedir_tag(entry.path()));
    if (!generated && kAmbiguous.count(name) == 0) continue;
    it.disable_recursion_pending();
    candidates.push_back(
        {entry.path(), entry.path().lexically_relative(root).generic_string(), name, generated});
  }
  if (ec) {
    throw Error(ErrorCode::io, "cannot walk " + root.string() + ": " + ec.message());
  }

  std::vector<std::string> undecided;
  for (const auto& c : candidates) {
    if (!c.generated && scan.git && tracked.count(c.relative) == 0) undecided.push_back(c.relative);
  }
  const auto ignored =
      scan.git ? ignored_by_git(context, root, undecided) : std::set<std::string>{};

  for (const auto& c : candidates) {
    if (contains(c.path, keep) || c.path == keep) {
      scan.protected_paths.push_back({c.path, "holds DEVX_HOME"});
    } else if (scan.git && tracked.count(c.relative) > 0) {
      scan.protected_paths.push_back({c.path, "holds files tracked by git"});
    } else if (c.generated) {
      scan.artifacts.push_back(
          {c.path,
           c.name + " is generated" + std::string(scan.git ? " and not tracked by git" : "")});
    } else if (!scan.git) {
      scan.protected_paths.push_back(
          {c.path, "not a git work tree: '" + c.name + "' may hold hand-written files"});
    } else if (ignored.count(c.relative) > 0) {
      scan.artifacts.push_back({c.path, "ignored by git"});
    } else {
      scan.protected_paths.push_back(
          {c.path, "not tracked but not ignored by git either: it may hold your work"});
    }
  }
  return scan;
}

std::string artifact_still_removable(Context& context, const fs::path& root, const fs::path& path,
                                     bool git) {
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (ec || !fs::exists(status)) return "it no longer exists";
  if (!fs::is_directory(status)) return "it is no longer a directory";
  // A parent swapped for a symlink would lead the removal out of the project.
  const fs::path real_parent = fs::canonical(path.parent_path(), ec);
  const fs::path real_root = fs::canonical(root, ec);
  if (ec || !(real_parent == real_root || contains(real_root, real_parent))) {
    return "it is no longer inside " + root.string();
  }
  if (git) {
    bool ok = false;
    const std::string relative = path.lexically_relative(root).generic_string();
    const std::string out = run_git(context, root, {"ls-files", "-z", "--", relative}, {}, &ok);
    if (!ok) return "git cannot tell whether it tracks files in it";
    if (!out.empty()) return "git now tracks files in it";
  }
  return {};
}

std::uint64_t disk_usage(const fs::path& path) {
  std::uint64_t total = 0;
  std::error_code ec;
  const auto top = fs::symlink_status(path, ec);
  if (ec) return 0;
  if (fs::is_regular_file(top)) return fs::file_size(path, ec);
  if (!fs::is_directory(top)) return 0;
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<std::uint64_t>(st.st_size);
    }
  }
  return total;
}

}  // namespace devx::cleanup
