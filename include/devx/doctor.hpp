#pragma once
// `devx doctor`: which tools each feature area needs, which are installed (with parsed versions),
// how to install what is missing on this platform, and the state of credentials. docs/doctor.md.
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace devx {

struct DoctorOptions {
  // "linux" | "darwin"; "" = this machine. Decides the package manager and install commands.
  std::string platform;
  // Dotenv file consulted for credentials (CLOUDFLARE_API_TOKEN, …) besides the environment;
  // empty = ".env" in the current directory when it exists. Values are never reported.
  std::filesystem::path env_file;
  // Feature areas to check ("vm", "tunnel", "mesh", "bridge", "databases", "secrets", "ci",
  // "sync", "ignition"); empty = all. An unknown name is Error(invalid_argument).
  std::vector<std::string> areas;
  // Whether install commands run as root (no `sudo` prefix); nullopt = geteuid() == 0.
  std::optional<bool> as_root;
  // Each `<tool> <version args>` probe is killed after this long (a hanging tool must not hang
  // doctor); the tool is then reported installed with an empty version and a "problem".
  std::chrono::milliseconds probe_timeout{5000};
};

// {"v":1,"ok":bool,"system":{"os","arch","package_manager","package_manager_version","root"},
//  "areas":[{"name","purpose","ready",
//            "tools":[{"name","binary","required","installed","version","path",
//                      "install":{"manager","argv":[…],"note"}|null,
//                      "alternatives"?:[…],"problem"?}],
//            "credentials":[{"name","configured","detail","how_to_fix"}],"note"?}],
//  "missing_required":["tool",…]}
// ok is false when a required tool is missing. A tool with "alternatives" is one of a group any
// member of which meets the requirement (vm: podman, docker, lima …); "problem" says why a version
// probe failed. Runs `<tool> <version args>` with probe_timeout; never prints a credential's value.
DEVX_API std::string doctor_report(Context& context, const DoctorOptions& options);

struct DoctorInstallOptions {
  DoctorOptions doctor;
  bool all = false;         // also optional tools (default: required ones only)
  bool assume_yes = false;  // confirmation granted; else Error(prompt_required) with the plan
};

// What `doctor install` would run: {"v":1,"package_manager","root","steps":[{"tools":[…],
// "argv":[…],"required"}],"unavailable":[{"tool","reason","how_to_install"}]}. No `sudo` when
// running as root (nor for brew). Error(unsupported) / Error(command_not_found) when something is
// to be installed and no package manager (Homebrew on darwin) is found.
DEVX_API std::string doctor_install_plan(Context& context, const DoctorInstallOptions& options);

// Runs the plan (dry_run: returns it); without assume_yes throws Error(prompt_required) whose
// details are {"confirm","plan"}. A progress event per step, its output lines as log events.
// Result: the plan with each step's "status": "ok" | "failed" and "error"; the operation fails with
// command_failed if any step failed.
DEVX_API Operation start_doctor_install(Context& context, DoctorInstallOptions options);

}  // namespace devx
