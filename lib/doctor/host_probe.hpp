#pragma once
// What doctor learns about the machine: executables on the Context's PATH, the tool versions they
// report, the platform and its package manager.
#include <devx/context.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "doctor/tool_catalog.hpp"

namespace devx::doctor {

// `binary` on the PATH of `env` (default /usr/local/bin:/usr/bin:/bin), then in `extra_dirs`
// (see ToolSpec::extra_dirs). Only regular files we may execute count.
std::optional<std::filesystem::path> find_executable(
    const std::map<std::string, std::string>& env, std::string_view binary,
    const std::vector<std::string>& extra_dirs = {});

// The version in a tool's output; "" when there is none.
std::string parse_version(std::string_view output, VersionFormat format);

struct VersionProbe {
  std::string version;
  std::string problem;  // "" when the probe ran and exited 0
};

// Runs `<path> <args…>` through the Context's CommandRunner, killed after `timeout`.
VersionProbe probe_version(Context& context, const std::filesystem::path& path,
                           const std::vector<std::string>& args, VersionFormat format,
                           std::chrono::milliseconds timeout);

struct SystemInfo {
  std::string os;               // "linux" | "darwin"
  std::string arch;             // uname machine ("x86_64", "arm64" …)
  std::string package_manager;  // "apt", "dnf", "pacman", "yum", "apk", "zypper", "nix", "brew", ""
  std::filesystem::path package_manager_path;
  std::string package_manager_version;
  bool root = false;
};

// `platform` "" = this machine; otherwise "linux" or "darwin" (Error(invalid_argument) else).
// darwin → brew; linux → the first of apt-get, dnf, pacman, yum, apk, zypper, nix on PATH.
SystemInfo probe_system(Context& context, std::string_view platform, std::optional<bool> as_root,
                        std::chrono::milliseconds timeout);

}  // namespace devx::doctor
