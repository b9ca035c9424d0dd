#include "doctor/host_probe.hpp"

#include <devx/error.hpp>

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

#include "core/json.hpp"

namespace devx::doctor {
namespace {

namespace fs = std::filesystem;

bool is_executable_file(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// "/usr/lib/postgresql/*/bin" → the directory under the highest-sorting match of "*".
std::optional<fs::path> expand_star(const std::string& pattern) {
  const auto star = pattern.find("/*/");
  if (star == std::string::npos) return fs::path(pattern);
  const fs::path parent = pattern.substr(0, star);
  const std::string rest = pattern.substr(star + 3);
  std::vector<fs::path> matches;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    if (entry.is_directory(ec)) matches.push_back(entry.path() / rest);
  }
  if (matches.empty()) return std::nullopt;
  // Numeric versions ("9.6" < "15"): compare by the leading number first.
  std::sort(matches.begin(), matches.end(), [&](const fs::path& a, const fs::path& b) {
    const std::string na = a.lexically_relative(parent).begin()->string();
    const std::string nb = b.lexically_relative(parent).begin()->string();
    const long va = std::strtol(na.c_str(), nullptr, 10);
    const long vb = std::strtol(nb.c_str(), nullptr, 10);
    return va != vb ? va < vb : na < nb;
  });
  return matches.back();
}

std::string first_version(std::string_view text) {
  auto digit = [&](std::size_t i) {
    return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!digit(i)) continue;
    if (i > 0 && (digit(i - 1) || text[i - 1] == '.')) continue;
    std::size_t j = i;
    while (digit(j)) ++j;
    if (j >= text.size() || text[j] != '.' || !digit(j + 1)) {
      i = j;
      continue;
    }
    ++j;
    while (digit(j)) ++j;
    if (j + 1 < text.size() && text[j] == '.' && digit(j + 1)) {
      ++j;
      while (digit(j)) ++j;
    }
    return std::string(text.substr(i, j - i));
  }
  return {};
}

std::string kubectl_version(std::string_view output) {
  const boost::json::value doc = core::parse_json_or_null(output);
  if (doc.is_object()) {
    if (const auto* client = doc.get_object().if_contains("clientVersion");
        client != nullptr && client->is_object()) {
      const std::string git = core::string_field(client->get_object(), "gitVersion");
      if (!git.empty()) return first_version(git);
    }
  }
  return first_version(output);
}

std::string this_os() {
  utsname u{};
  if (::uname(&u) != 0) return "linux";
  std::string name = u.sysname;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::string this_arch() {
  utsname u{};
  return ::uname(&u) == 0 ? std::string(u.machine) : std::string();
}

}  // namespace

std::optional<fs::path> find_executable(const std::map<std::string, std::string>& env,
                                        std::string_view binary,
                                        const std::vector<std::string>& extra_dirs) {
  if (binary.empty()) return std::nullopt;
  const auto it = env.find("PATH");
  std::string_view rest = it != env.end() ? std::string_view(it->second)
                                          : std::string_view("/usr/local/bin:/usr/bin:/bin");
  while (true) {
    const auto colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (!dir.empty()) {
      const fs::path candidate = fs::path(dir) / binary;
      if (is_executable_file(candidate)) return candidate;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  for (const auto& pattern : extra_dirs) {
    if (auto dir = expand_star(pattern)) {
      const fs::path candidate = *dir / binary;
      if (is_executable_file(candidate)) return candidate;
    }
  }
  return std::nullopt;
}

std::string parse_version(std::string_view output, VersionFormat format) {
  return format == VersionFormat::kubectl_json ? kubectl_version(output) : first_version(output);
}

VersionProbe probe_version(Context& context, const fs::path& path,
                           const std::vector<std::string>& args, VersionFormat format,
                           std::chrono::milliseconds timeout) {
  CommandSpec spec;
  spec.argv.push_back(path.string());
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout = timeout;
  spec.kill_grace = std::chrono::milliseconds(200);
  VersionProbe probe;
  CommandResult result;
  try {
    result = context.commands().run(spec);
  } catch (const Error& e) {
    probe.problem = e.message();
    return probe;
  }
  if (result.timed_out) {
    probe.problem = "no answer to `" + path.filename().string() + "` within " +
                    std::to_string(timeout.count()) + " ms";
    return probe;
  }
  probe.version = parse_version(result.out, format);
  if (probe.version.empty()) probe.version = parse_version(result.err, format);
  if (!result.ok()) {
    probe.problem =
        result.signal != 0
            ? "the version probe was killed by signal " + std::to_string(result.signal)
            : "the version probe exited with status " + std::to_string(result.exit_code);
  } else if (probe.version.empty()) {
    probe.problem = "no version in the output of the version probe";
  }
  return probe;
}

SystemInfo probe_system(Context& context, std::string_view platform, std::optional<bool> as_root,
                        std::chrono::milliseconds timeout) {
  SystemInfo info;
  if (platform.empty()) {
    info.os = this_os();
  } else if (platform == "linux" || platform == "darwin") {
    info.os = std::string(platform);
  } else {
    throw Error(ErrorCode::invalid_argument, "unknown platform '" + std::string(platform) + "'",
                "use linux or darwin, or leave it empty for this machine");
  }
  info.arch = this_arch();
  info.root = as_root.value_or(::geteuid() == 0);

  struct Manager {
    std::string_view name;
    std::string_view binary;
  };
  static constexpr Manager kLinux[] = {{"apt", "apt-get"}, {"dnf", "dnf"}, {"pacman", "pacman"},
                                       {"yum", "yum"},     {"apk", "apk"}, {"zypper", "zypper"},
                                       {"nix", "nix"}};
  static constexpr Manager kDarwin[] = {{"brew", "brew"}};
  const auto candidates = info.os == "darwin"
                              ? std::vector<Manager>(std::begin(kDarwin), std::end(kDarwin))
                              : std::vector<Manager>(std::begin(kLinux), std::end(kLinux));
  for (const auto& manager : candidates) {
    if (auto path = find_executable(context.env(), manager.binary)) {
      info.package_manager = std::string(manager.name);
      info.package_manager_path = *path;
      info.package_manager_version =
          probe_version(context, *path, {"--version"}, VersionFormat::first_version, timeout)
              .version;
      break;
    }
  }
  return info;
}

}  // namespace devx::doctor
