#pragma once
// The data table behind `devx doctor`: which tools each feature area uses, how to ask each for its
// version, and how each package manager installs it (or why it cannot).
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace devx::doctor {

enum class VersionFormat {
  first_version,  // the first "1.2" / "1.2.3" in the output
  kubectl_json,   // `kubectl version --client -o json`: clientVersion.gitVersion
};

// How one package manager provides a tool. An empty `name` means it does not: `note` says how
// to install it instead (a vendor repository, a release download).
struct Package {
  std::string name;
  std::string tap;    // brew: tap added first ("mutagen-io/mutagen")
  bool cask = false;  // brew: installed with --cask
  std::string note;
};

struct ToolSpec {
  std::string name;    // what users call it
  std::string binary;  // looked up on PATH (then in extra_dirs)
  std::string area;
  bool required = false;
  // Non-empty: the requirement is met by any one installed tool of the same group; the first
  // listed for the platform is the one installed when none is.
  std::string group;
  std::vector<std::string> version_args;  // argv after the binary, one element per argument
  VersionFormat format = VersionFormat::first_version;
  std::vector<std::string> platforms;  // "linux", "darwin"; empty = both
  // Directories searched after PATH; a "*" component matches the highest-sorting entry
  // ("/usr/lib/postgresql/*/bin" finds Debian's server binaries, which are not on PATH).
  std::vector<std::string> extra_dirs;
  std::map<std::string, Package> packages;  // by manager: apt, dnf, brew, pacman, apk
  std::string homepage;
};

struct AreaSpec {
  std::string name;
  std::string purpose;
  std::string note;  // "" when none
};

const std::vector<AreaSpec>& area_catalog();
const std::vector<ToolSpec>& tool_catalog();

// The table a manager's packages are listed under ("yum" uses dnf's names); "" when devx has no
// package table for `manager` (zypper, nix).
std::string_view package_table(std::string_view manager) noexcept;

}  // namespace devx::doctor
