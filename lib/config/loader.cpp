#include "config/loader.hpp"

#include "config/fields.hpp"
#include "config/file_extras.hpp"
#include "config/profile.hpp"
#include "config/validate.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <map>

namespace devx::config {
namespace {

namespace fs = std::filesystem;

// Keys that only mean something in the root devx.yaml.
constexpr std::string_view kRootOnlyKeys[] = {"domain",   "provider",      "ai",   "profiles",
                                              "pipeline", "customActions", "test", "state"};

std::string current_user(const LoadOptions& options) {
  if (options.user) return *options.user;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  struct passwd entry {};
  struct passwd* result = nullptr;
  char buffer[4096];
  if (getpwuid_r(getuid(), &entry, buffer, sizeof buffer, &result) == 0 && result)
    return result->pw_name;
  return "dev";
}

// Configuration files are small; the cap keeps an include of a huge file (or of /dev/zero)
// from exhausting memory. Regular files and pipes are read (`-f <(generate-config)` passes a
// pipe); devices, sockets and directories are refused.
constexpr std::size_t kMaxFileSize = 16 * 1024 * 1024;

std::optional<std::string> read_file(const fs::path& path, std::string& error) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!ec && fs::exists(status) && !fs::is_regular_file(status) && !fs::is_fifo(status)) {
    error = "not a regular file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::string content;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    content.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (content.size() > kMaxFileSize) {
      error = "larger than 16 MiB";
      return std::nullopt;
    }
  }
  return content;
}

// A file read and parsed, possibly ahead of time on another thread.
struct ParsedFile {
  std::string read_error;  // set when the file could not be read
  YAML::Node root;
  std::optional<Diagnostic> parse_error;  // location without the file name
};

ParsedFile parse_text(const std::string& content) {
  ParsedFile parsed;
  try {
    parsed.root = YAML::Load(content);
  } catch (const YAML::Exception& e) {
    Diagnostic error;
    error.location = {{}, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    error.message = "invalid YAML: " + e.msg;
    parsed.parse_error = std::move(error);
  }
  return parsed;
}

ParsedFile read_and_parse(const fs::path& file) {
  std::string error;
  auto content = read_file(file, error);
  if (!content) {
    ParsedFile failed;
    failed.read_error = error.empty() ? std::string("unreadable") : error;
    return failed;
  }
  return parse_text(*content);
}

// The file an include: entry names: relative to the including file's directory; a directory
// means its devx.yaml; symlinks resolved so that cycles and diamonds are recognised.
fs::path include_target(const fs::path& dir, const IncludeEntry& include) {
  fs::path target = fs::path(include.path);
  if (target.is_relative()) target = dir / target;
  target = target.lexically_normal();
  std::error_code ec;
  if (fs::is_directory(target, ec)) target /= "devx.yaml";
  const fs::path canonical = fs::weakly_canonical(target, ec);
  return ec ? target : canonical;
}

// Included files are parsed ahead, in parallel, while earlier ones are decoded: parsing is most
// of the cost of a load. At most this many files are in flight per load.
constexpr std::size_t kMaxPrefetched = 16;

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : options_(options) {}

  LoadResult run(const fs::path& root_file, std::optional<std::string_view> root_text) {
    project_.root_file = root_file;
    project_.root_dir = root_file.parent_path();
    FileExtras root_extras;
    load_file(root_file, root_text, {}, {}, nullptr, &root_extras);

    DecodeContext root_ctx{root_file.string(), project_.root_dir, &diagnostics_, false, nullptr};
    for (const ProfileEntry& profile : root_extras.profiles) project_.profiles.push_back(profile.name);
    std::sort(project_.profiles.begin(), project_.profiles.end());
    apply_selected_profile(root_extras, root_ctx);
    // Profiles not selected are still checked, on a copy, so a typo in one is never silent.
    for (const ProfileEntry& profile : root_extras.profiles) {
      if (profile.name == options_.profile) continue;
      Project scratch = project_;
      apply_profile(scratch, profile, root_ctx, root_env_);
    }

    if (project_.name.empty()) project_.name = project_.root_dir.filename().string();
    if (project_.domain.empty()) project_.domain = current_user(options_) + ".ipv1337.dev";
    validate_project(project_, diagnostics_);

    std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.location.file, a.location.line, a.location.column) <
             std::tie(b.location.file, b.location.line, b.location.column);
    });
    LoadResult result;
    const bool failed = std::any_of(diagnostics_.begin(), diagnostics_.end(),
                                    [](const Diagnostic& d) { return d.severity == Severity::error; });
    if (!failed) result.project = std::move(project_);
    result.diagnostics = std::move(diagnostics_);
    return result;
  }

 private:
  void apply_selected_profile(const FileExtras& root_extras, const DecodeContext& root_ctx) {
    if (options_.profile.empty()) return;
    for (const ProfileEntry& profile : root_extras.profiles) {
      if (profile.name != options_.profile) continue;
      project_.active_profile = profile.name;
      apply_profile(project_, profile, root_ctx, root_env_);
      return;
    }
    std::string message = "profile '" + options_.profile + "' not found";
    std::string hint;
    if (project_.profiles.empty()) {
      hint = "no profiles are defined in " + project_.root_file.string();
    } else {
      hint = "available profiles: ";
      for (std::size_t i = 0; i < project_.profiles.size(); ++i)
        hint += (i ? ", " : "") + project_.profiles[i];
    }
    Diagnostic unknown;
    unknown.location.file = project_.root_file.string();
    unknown.message = std::move(message);
    unknown.hint = std::move(hint);
    diagnostics_.push_back(std::move(unknown));
  }

  std::string display(const fs::path& path) const {
    const fs::path relative = path.lexically_relative(project_.root_dir);
    return relative.empty() || *relative.begin() == ".." ? path.string() : relative.string();
  }

  // `chain` holds the files including this one (root first); `env_sources` the environment
  // sources its entities inherit from the includes above it.
  void load_file(const fs::path& file, std::optional<std::string_view> text,
                 std::vector<fs::path> chain, std::vector<std::string> env_sources,
                 const IncludeEntry* included_by, FileExtras* root_extras) {
    const bool is_root = included_by == nullptr;
    ParsedFile parsed = text ? parse_text(std::string(*text)) : take_parsed(file);
    if (!parsed.read_error.empty()) {
      const std::string& error = parsed.read_error;
      if (is_root) throw Error(ErrorCode::config_not_found, "cannot read " + file.string() + ": " + error);
      diagnostics_.push_back({Severity::error, included_by->location,
                              "cannot read included file " + file.string() + ": " + error, {}});
      return;
    }
    project_.files.push_back(file);
    loaded_.push_back(file);
    if (parsed.parse_error) {
      parsed.parse_error->location.file = file.string();
      diagnostics_.push_back(std::move(*parsed.parse_error));
      return;
    }
    const YAML::Node root = parsed.root;
    if (root.IsNull()) return;  // an empty file is an empty project
    FileExtras local_extras;
    FileExtras& extras = is_root ? *root_extras : local_extras;
    DecodeContext ctx{file.string(), file.parent_path(), &diagnostics_, false, &extras};
    if (!root.IsMap()) {
      ctx.error(root, "a devx.yaml must be a mapping, got " + std::string(yaml_kind(root)));
      return;
    }
    Project local;
    Codec<Project>::decode(root, local, ctx);

    if (is_root) {
      project_.name = local.name;
      project_.domain = local.domain;
      project_.provider = local.provider;
      project_.ai_bridge = local.ai_bridge;
      project_.ui_test = local.ui_test;
      project_.pipeline = local.pipeline;
      project_.custom_actions = local.custom_actions;
      project_.state_relay = local.state_relay;
    } else {
      for (std::string_view key : kRootOnlyKeys) {
        if (auto node = root[std::string(key)])
          ctx.warning(node, "'" + std::string(key) + "' is ignored in an included file",
                      "only the root devx.yaml (" + display(project_.root_file) + ") sets it");
      }
      if (included_by && !included_by->env_file.empty())
        add_unique(env_sources, absolute_env_source(included_by->env_file,
                                                    fs::path(included_by->location.file).parent_path()));
    }
    for (const std::string& source : local.env) add_unique(env_sources, source);
    if (is_root) root_env_ = env_sources;
    for (const std::string& source : env_sources) add_unique(project_.env, source);
    if (!project_.bridge && local.bridge) project_.bridge = std::move(local.bridge);

    const fs::path dir = file.parent_path();
    for (Service& service : local.services) {
      service.dir = dir;
      if (service.working_dir.empty()) service.working_dir = dir.string();
      service.env_sources = env_sources;
      project_.services.push_back(std::move(service));
    }
    for (Database& database : local.databases) {
      database.dir = dir;
      apply_name_default(database);
      project_.databases.push_back(std::move(database));
    }
    for (Tunnel& tunnel : local.tunnels) {
      apply_name_default(tunnel);
      project_.tunnels.push_back(std::move(tunnel));
    }
    for (Mock& mock : local.mocks) project_.mocks.push_back(std::move(mock));

    chain.push_back(file);
    std::vector<fs::path> targets;
    for (const IncludeEntry& include : extras.includes) targets.push_back(include_target(dir, include));
    for (const fs::path& target : targets) prefetch(target, chain);
    for (std::size_t i = 0; i < extras.includes.size(); ++i) {
      const IncludeEntry& include = extras.includes[i];
      const fs::path& key = targets[i];
      if (std::find(chain.begin(), chain.end(), key) != chain.end()) {
        std::string cycle;
        auto start = std::find(chain.begin(), chain.end(), key);
        for (auto it = start; it != chain.end(); ++it) cycle += display(*it) + " -> ";
        cycle += display(key);
        diagnostics_.push_back({Severity::error, include.location, "include cycle: " + cycle,
                                "remove one of the include: entries in this cycle"});
        continue;
      }
      // Diamonds: a file included along two paths is merged once.
      if (std::find(loaded_.begin(), loaded_.end(), key) != loaded_.end()) continue;
      load_file(key, std::nullopt, chain, env_sources, &include, root_extras);
    }
  }

  void prefetch(const fs::path& file, const std::vector<fs::path>& chain) {
    if (prefetched_.size() >= kMaxPrefetched || prefetched_.count(file) ||
        std::find(loaded_.begin(), loaded_.end(), file) != loaded_.end() ||
        std::find(chain.begin(), chain.end(), file) != chain.end())
      return;
    prefetched_.emplace(file, std::async(std::launch::async, read_and_parse, file));
  }

  ParsedFile take_parsed(const fs::path& file) {
    auto it = prefetched_.find(file);
    if (it == prefetched_.end()) return read_and_parse(file);
    ParsedFile parsed = it->second.get();
    prefetched_.erase(it);
    return parsed;
  }

  static void add_unique(std::vector<std::string>& list, const std::string& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
  }

  const LoadOptions& options_;
  Project project_;
  std::vector<Diagnostic> diagnostics_;
  std::vector<fs::path> loaded_;
  std::vector<std::string> root_env_;
  // Declared last: destroyed (joining any parse still running) before the rest.
  std::map<fs::path, std::future<ParsedFile>> prefetched_;
};

}  // namespace

LoadResult load(const std::filesystem::path& root_file, std::optional<std::string_view> root_text,
                const LoadOptions& options) {
  std::error_code ec;
  fs::path absolute = fs::absolute(root_file, ec).lexically_normal();
  if (!root_text) {
    const fs::path canonical = fs::weakly_canonical(absolute, ec);
    if (!ec) absolute = canonical;
  }
  return Loader(options).run(absolute, root_text);
}

}  // namespace devx::config
