// Provider resolution: option → DEVX_HOME/config.yaml → the project's devx.yaml → the provider
// the resolved VM was created with (its `vm init` record) → detection.
// Name resolution: option → $DEVX_VM_NAME → the VM `vm init` recorded → "<user>-dev-machine".
#include "vm/resolve.hpp"

#include <devx/config.hpp>
#include <devx/error.hpp>
#include <devx/vm.hpp>

#include <sys/utsname.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <filesystem>

#include "core/json.hpp"
#include "vm/vm_record.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr std::string_view kConfigKey = "config.yaml";

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return std::string(text);
}

bool known_provider(std::string_view name) {
  const auto& names = provider_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string install_hint(std::string_view provider, std::string_view platform) {
  const bool mac = platform == "darwin";
  if (provider == "podman")
    return mac ? "install it with `brew install podman`"
               : "install it with `sudo apt-get install podman`";
  if (provider == "lima")
    return mac ? "install it with `brew install lima`"
               : "install Lima from https://github.com/lima-vm/lima/releases (and qemu-system)";
  if (provider == "colima")
    return mac ? "install it with `brew install colima`"
               : "install Colima from https://github.com/abiosoft/colima#installation";
  if (provider == "docker")
    return mac ? "install Docker Desktop (`brew install --cask docker`)"
               : "install it with `sudo apt-get install docker.io`";
  if (provider == "orbstack") return "install OrbStack (`brew install orbstack`)";
  return "install podman (`sudo apt-get install podman`) or docker (`sudo apt-get install "
         "docker.io`)";
}

// The user's default from DEVX_HOME/config.yaml, "" when unset or "auto".
std::string user_config_provider(Context& context) {
  const auto text = context.state().read(kConfigKey);
  if (!text) return {};
  const auto path = (context.home() / kConfigKey).string();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    throw Error(ErrorCode::config_invalid,
                path + ":" + std::to_string(e.mark.line + 1) + ":" +
                    std::to_string(e.mark.column + 1) + ": " + e.msg,
                "fix or remove the file", core::to_json_string(json::object{{"path", path}}));
  }
  if (root.IsNull()) return {};
  if (!root.IsMap())
    throw Error(ErrorCode::config_invalid, path + ": expected a mapping",
                "write `provider: <name>`", core::to_json_string(json::object{{"path", path}}));
  const auto node = root["provider"];
  if (!node || node.IsNull()) return {};
  const auto value = node.IsScalar() ? node.Scalar() : std::string();
  if (value == "auto" || value.empty()) return {};
  if (!known_provider(value))
    throw Error(
        ErrorCode::config_invalid,
        path + ":" + std::to_string(node.Mark().line + 1) + ": unknown provider '" + value + "'",
        "use podman, lima, colima, docker, orbstack, host or auto",
        core::to_json_string(json::object{{"path", path}}));
  return value;
}

// The project's devx.yaml `provider`, "" when there is no devx.yaml or it says auto.
std::string project_provider(const fs::path& project_dir) {
  fs::path file;
  try {
    file = find_project_file(project_dir.empty() ? fs::current_path() : project_dir);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::config_not_found) return {};
    throw;
  }
  const auto loaded = load_project(file);
  if (!loaded.ok()) throw config_error(loaded.diagnostics);
  return loaded.project->provider == "auto" ? std::string() : loaded.project->provider;
}

struct Detected {
  std::string name;
  std::string binary;
  std::string path;
  std::string version;
  bool available = false;
  std::string note;
};

std::string first_line(std::string_view text) { return trim(text.substr(0, text.find('\n'))); }

std::string version_of(Context& context, const std::string& path) {
  for (const char* flag : {"--version", "version"}) {
    try {
      const auto result = run_query(context, {path, flag}, std::chrono::seconds(10));
      if (result.ok()) {
        auto line = first_line(result.out.empty() ? result.err : result.out);
        if (!line.empty()) return line;
      }
    } catch (const Error&) {
      return {};
    }
  }
  return {};
}

std::vector<Detected> detect(Context& context, std::string_view platform) {
  std::vector<Detected> out;
  const bool linux_host = platform == "linux";
  bool orbstack_found = false;
  for (const auto& name : provider_names()) {
    Detected d;
    d.name = name;
    if (name == "orbstack" && linux_host) {
      d.binary = "orb";
      d.note = "OrbStack runs on macOS only";
      out.push_back(std::move(d));
      continue;
    }
    if (name == "host") {
      if (!linux_host) {
        d.binary = "podman";
        d.note = "the host provider needs Linux";
        out.push_back(std::move(d));
        continue;
      }
      for (const auto& engine : provider_binaries("host")) {
        if (auto path = find_in_path(context, engine)) {
          d.binary = engine;
          d.path = *path;
          d.version = version_of(context, *path);
          d.available = !d.version.empty();
          d.note = "containers run on the host's " + engine;
          break;
        }
      }
      if (d.binary.empty()) {
        d.binary = "podman";
        d.note = "neither podman nor docker is installed";
      }
      out.push_back(std::move(d));
      continue;
    }
    d.binary = provider_binaries(name).front();
    if (auto path = find_in_path(context, d.binary)) {
      d.path = *path;
      d.version = version_of(context, *path);
      d.available = !d.version.empty();
      if (!d.available) d.note = "`" + d.binary + " --version` failed";
    } else {
      d.note = "not installed";
    }
    if (name == "orbstack" && d.available) orbstack_found = true;
    out.push_back(std::move(d));
  }
  // OrbStack installs its own `docker`: one installation, one provider.
  if (orbstack_found) {
    for (auto& d : out) {
      if (d.name == "docker" && d.available) {
        d.available = false;
        d.note = "provided by OrbStack (counted as orbstack)";
      }
    }
  }
  return out;
}

std::string host_engine(Context& context) {
  for (const auto& engine : provider_binaries("host"))
    if (find_in_path(context, engine)) return engine;
  return {};
}

// Checks that an explicitly chosen provider can run here; returns the host engine for "host".
std::string check_explicit(Context& context, const std::string& provider,
                           const std::string& platform, const std::string& source) {
  if (provider == "host") {
    if (platform != "linux")
      throw Error(ErrorCode::unsupported,
                  "the host provider needs Linux (this is " + platform + ")",
                  "use podman, lima, colima, docker or orbstack");
    auto engine = host_engine(context);
    if (engine.empty())
      throw Error(ErrorCode::command_not_found,
                  "provider \"host\" (from " + source + ") needs podman or docker on PATH",
                  install_hint("host", platform));
    return engine;
  }
  if (provider == "orbstack" && platform != "darwin")
    throw Error(ErrorCode::unsupported, "OrbStack runs on macOS only",
                "use podman, lima, colima or host");
  const auto binary = provider_binaries(provider).front();
  if (!find_in_path(context, binary))
    throw Error(ErrorCode::command_not_found,
                "provider \"" + provider + "\" (from " + source + ") needs `" + binary +
                    "`, which is not on PATH",
                install_hint(provider, platform),
                core::to_json_string(json::object{{"binary", binary}, {"provider", provider}}));
  return "podman";
}

}  // namespace

std::string resolve_platform(std::string_view requested) {
  if (requested == "linux" || requested == "darwin") return std::string(requested);
  if (!requested.empty())
    throw Error(ErrorCode::invalid_argument, "unknown platform '" + std::string(requested) + "'",
                "use linux or darwin");
  struct utsname u {};
  ::uname(&u);
  return std::string_view(u.sysname) == "Darwin" ? "darwin" : "linux";
}

std::optional<std::string> find_in_path(const Context& context, std::string_view binary) {
  if (binary.find('/') != std::string_view::npos) {
    if (::access(std::string(binary).c_str(), X_OK) == 0) return std::string(binary);
    return std::nullopt;
  }
  const auto it = context.env().find("PATH");
  const std::string path = it == context.env().end() ? "/usr/local/bin:/usr/bin:/bin" : it->second;
  std::string_view rest = path;
  while (true) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    if (!dir.empty()) {
      const auto candidate = fs::path(dir) / binary;
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
        return candidate.string();
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

void validate_vm_name(std::string_view name, std::string_view origin) {
  const bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (name.empty() || name.size() > 63 || !chars_ok || name.front() == '-' || name.back() == '-')
    throw Error(ErrorCode::invalid_argument,
                "invalid VM name '" + std::string(name) + "' (from " + std::string(origin) + ")",
                "a VM name is a DNS label: 1-63 characters of a-z, 0-9 and '-', not starting or "
                "ending with '-'");
}

std::string default_vm_name(const Context& context) {
  const auto it = context.env().find("USER");
  std::string label;
  if (it != context.env().end()) {
    for (const char raw : it->second) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (ok)
        label += c;
      else if (!label.empty() && label.back() != '-')
        label += '-';
    }
  }
  // Room for "-dev-machine" within 63 characters.
  constexpr std::size_t kMaxUser = 63 - std::string_view("-dev-machine").size();
  if (label.size() > kMaxUser) label.resize(kMaxUser);
  while (!label.empty() && label.back() == '-') label.pop_back();
  if (label.empty()) label = "developer";
  return label + "-dev-machine";
}

std::string resolve_vm_name(Context& context, const VmOptions& options, std::string* source) {
  auto set = [&](const char* s) {
    if (source != nullptr) *source = s;
  };
  if (!options.name.empty()) {
    validate_vm_name(options.name, "the name option");
    set("option");
    return options.name;
  }
  if (auto it = context.env().find("DEVX_VM_NAME");
      it != context.env().end() && !it->second.empty()) {
    validate_vm_name(it->second, "$DEVX_VM_NAME");
    set("env");
    return it->second;
  }
  if (auto recorded = context.state().read("vm/current")) {
    const auto name = trim(*recorded);
    if (!name.empty()) {
      validate_vm_name(name, (context.home() / "vm/current").string());
      set("recorded");
      return name;
    }
  }
  set("default");
  return default_vm_name(context);
}

namespace {

// The provider in the `vm init` record of VM `vm_name`, "" when there is none.
std::string recorded_provider(Context& context, const std::string& vm_name) {
  const auto record = load_record(context, vm_name);
  if (!record) return {};
  const auto* provider = record->if_contains("provider");
  if (provider == nullptr || !provider->is_string()) return {};
  std::string name(provider->as_string());
  return known_provider(name) ? name : std::string();
}

}  // namespace

ResolvedVm resolve(Context& context, const VmOptions& options) {
  ResolvedVm out;
  out.platform = resolve_platform(options.platform);
  auto& target = out.target;
  std::string engine = "podman";
  if (!options.provider.empty()) {
    if (!known_provider(options.provider))
      throw Error(ErrorCode::invalid_argument, "unknown VM provider '" + options.provider + "'",
                  "use podman, lima, colima, docker, orbstack or host");
    target.provider = options.provider;
    target.provider_source = "option";
  } else if (auto user = user_config_provider(context); !user.empty()) {
    target.provider = user;
    target.provider_source = "user-config";
  } else if (auto project = project_provider(options.project_dir); !project.empty()) {
    target.provider = project;
    target.provider_source = "project";
  } else {
    // `vm init --provider podman` on a Linux host would otherwise be followed by commands that
    // detect `host` and miss the VM just made.
    target.name = resolve_vm_name(context, options, &target.name_source);
    target.provider = recorded_provider(context, target.name);
    if (!target.provider.empty()) target.provider_source = "recorded";
  }
  if (!target.provider.empty()) {
    const std::string source =
        target.provider_source == "option"        ? "the provider option"
        : target.provider_source == "user-config" ? (context.home() / kConfigKey).string()
        : target.provider_source == "recorded"    ? "the record of VM " + target.name
                                                  : "devx.yaml";
    engine = check_explicit(context, target.provider, out.platform, source);
  } else {
    std::vector<std::string> candidates;
    for (const auto& d : detect(context, out.platform)) {
      if (!d.available) continue;
      if (d.name == "host") engine = d.binary;
      candidates.push_back(d.name);
    }
    // On Linux the host's own engine needs no VM: it wins over Lima and Colima.
    if (std::find(candidates.begin(), candidates.end(), "host") != candidates.end())
      candidates = {"host"};
    if (candidates.empty())
      throw Error(ErrorCode::command_not_found, "no VM provider is installed",
                  out.platform == "darwin"
                      ? "install one: `brew install podman`, OrbStack, Docker Desktop, "
                        "`brew install lima` or `brew install colima`"
                      : "install podman (`sudo apt-get install podman`) or docker; Lima and "
                        "Colima work too");
    if (candidates.size() > 1) {
      json::array list;
      for (const auto& c : candidates) list.emplace_back(c);
      throw Error(ErrorCode::prompt_required,
                  "several VM providers are installed: " + joined(candidates) +
                      "; choose one with --provider <name>",
                  "pass --provider (e.g. --provider " + candidates.front() +
                      "), or set `provider: <name>` in " + (context.home() / kConfigKey).string(),
                  core::to_json_string(json::object{{"candidates", std::move(list)}}));
    }
    target.provider = candidates.front();
    target.provider_source = "detected";
  }
  if (target.name.empty()) target.name = resolve_vm_name(context, options, &target.name_source);
  out.provider = make_provider(target.provider, out.platform, engine);
  target.runtime = out.provider->runtime();
  return out;
}

}  // namespace devx::vm

namespace devx {

namespace json = boost::json;

VmTarget resolve_vm(Context& context, const VmOptions& options) {
  return vm::resolve(context, options).target;
}

void save_default_provider(Context& context, std::string_view provider) {
  if (provider != "auto" && std::find(vm::provider_names().begin(), vm::provider_names().end(),
                                      provider) == vm::provider_names().end())
    throw Error(ErrorCode::invalid_argument, "unknown VM provider '" + std::string(provider) + "'",
                "use podman, lima, colima, docker, orbstack, host or auto");
  if (context.dry_run()) return;
  const auto path = (context.home() / "config.yaml").string();
  context.state().update(
      "config.yaml",
      [&](std::optional<std::string> current) -> std::optional<std::string> {
        YAML::Node root(YAML::NodeType::Map);
        if (current && !current->empty()) {
          try {
            root = YAML::Load(*current);
          } catch (const YAML::Exception& e) {
            throw Error(ErrorCode::config_invalid, path + ": " + e.msg,
                        "fix the file; devx keeps its other keys and will not overwrite it");
          }
          if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
          if (!root.IsMap())
            throw Error(ErrorCode::config_invalid, path + ": expected a mapping",
                        "fix the file; devx keeps its other keys and will not overwrite it");
        }
        root["provider"] = std::string(provider);
        YAML::Emitter out;
        out << root;
        return std::string(out.c_str()) + "\n";
      },
      FileAccess::shared);
}

std::string detect_vm_providers(Context& context, std::string_view platform) {
  const auto resolved_platform = vm::resolve_platform(platform);
  json::array providers;
  for (const auto& d : vm::detect(context, resolved_platform)) {
    providers.push_back(json::object{{"name", d.name},
                                     {"binary", d.binary},
                                     {"path", d.path},
                                     {"version", d.version},
                                     {"available", d.available},
                                     {"note", d.note}});
  }
  return core::to_json_string(
      json::object{{"v", 1}, {"platform", resolved_platform}, {"providers", std::move(providers)}});
}

}  // namespace devx
