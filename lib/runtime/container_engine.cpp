#include "runtime/container_engine.hpp"

#include <devx/context.hpp>
#include <devx/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/json.hpp"
#include "runtime/private_file.hpp"

namespace devx::runtime {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr milliseconds kShortCommand{30'000};
constexpr milliseconds kRunCommand{180'000};  // may create storage layers for a new image

bool is_executable(const std::filesystem::path& path) {
  return ::access(path.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(path);
}

std::optional<std::string> find_on_path(std::string_view name, std::string_view path_var) {
  if (name.find('/') != std::string_view::npos) {
    if (is_executable(std::filesystem::path(name))) return std::string(name);
    return std::nullopt;
  }
  std::string_view rest = path_var;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (!dir.empty()) {
      auto candidate = std::filesystem::path(dir) / name;
      if (is_executable(candidate)) return candidate.string();
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::optional<EngineKind> kind_of(std::string_view name) {
  const auto slash = name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  if (base == "podman") return EngineKind::podman;
  if (base == "docker") return EngineKind::docker;
  return std::nullopt;
}

bool is_loopback(std::string_view ip) { return ip == "::1" || ip.starts_with("127."); }

std::string seconds_ceil(milliseconds grace) {
  const auto secs = std::max<std::int64_t>(0, (grace.count() + 999) / 1000);
  return std::to_string(secs);
}

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

bool not_found_text(std::string_view err) {
  return err.find("no such container") != std::string_view::npos ||
         err.find("No such container") != std::string_view::npos ||
         err.find("no such object") != std::string_view::npos ||
         err.find("No such object") != std::string_view::npos ||
         err.find("no such volume") != std::string_view::npos ||
         err.find("No such volume") != std::string_view::npos;
}

void validate_env_name(const std::string& name) {
  const bool bad =
      name.empty() || name.front() == '#' || name.find_first_of("= \t\r\n") != std::string::npos;
  if (bad) {
    throw Error(ErrorCode::invalid_argument,
                "invalid environment variable name for a container: '" + name + "'");
  }
}

std::string string_or_empty(const json::value* value) {
  if (value != nullptr && value->is_string()) return std::string(value->as_string());
  return {};
}

ContainerSummary summary_of(const json::object& obj) {
  ContainerSummary s;
  s.id = string_or_empty(obj.if_contains("Id"));
  if (s.id.empty()) s.id = string_or_empty(obj.if_contains("ID"));
  if (const auto* names = obj.if_contains("Names")) {
    if (names->is_array() && !names->as_array().empty()) {
      s.name = string_or_empty(&names->as_array().front());
    } else {
      s.name = string_or_empty(names);  // Docker: "a,b"
      s.name = s.name.substr(0, s.name.find(','));
    }
  }
  if (!s.name.empty() && s.name.front() == '/') s.name.erase(0, 1);
  s.image = string_or_empty(obj.if_contains("Image"));
  s.state = string_or_empty(obj.if_contains("State"));
  if (const auto* code = obj.if_contains("ExitCode"); code != nullptr && code->is_int64()) {
    s.exit_code = static_cast<int>(code->as_int64());
  }
  s.labels = labels_of(obj.if_contains("Labels"));
  return s;
}

}  // namespace

std::map<std::string, std::string> labels_of(const json::value* value) {
  std::map<std::string, std::string> labels;
  if (value == nullptr) return labels;
  if (value->is_object()) {
    for (const auto& [key, v] : value->as_object()) {
      if (v.is_string()) labels[std::string(key)] = std::string(v.as_string());
    }
  } else if (value->is_string()) {
    // Docker: "k=v,k2=v2".
    std::string_view rest = value->as_string();
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const auto eq = item.find('=');
      if (eq != std::string_view::npos) {
        labels[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return labels;
}

bool is_valid_name_part(std::string_view part) noexcept {
  if (part.empty() || std::isalnum(static_cast<unsigned char>(part.front())) == 0) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
}

std::string container_name(std::string_view run_key, std::string_view node) {
  for (const auto part : {run_key, node}) {
    if (!is_valid_name_part(part)) {
      throw Error(ErrorCode::invalid_argument,
                  "'" + std::string(part) + "' cannot be part of a container name",
                  "use letters, digits, '_', '.' and '-' (starting with a letter or digit)");
    }
  }
  return "devx-" + std::string(run_key) + "-" + std::string(node);
}

ContainerEngine::ContainerEngine(EngineKind kind, std::string executable)
    : kind_(kind), executable_(std::move(executable)) {}

std::string_view ContainerEngine::name() const noexcept {
  return kind_ == EngineKind::podman ? "podman" : "docker";
}

std::optional<ContainerEngine> ContainerEngine::detect(
    const std::map<std::string, std::string>& env, std::string_view preferred) {
  std::string wanted(preferred);
  if (wanted.empty()) {
    if (auto it = env.find("DEVX_CONTAINER_ENGINE"); it != env.end()) wanted = it->second;
  }
  const auto path_it = env.find("PATH");
  const std::string path_var =
      path_it != env.end() ? path_it->second : "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> candidates;
  if (!wanted.empty()) {
    candidates.push_back(wanted);
  } else {
    candidates = {"podman", "docker"};
  }
  for (const auto& candidate : candidates) {
    const auto kind = kind_of(candidate);
    if (!kind) {
      throw Error(ErrorCode::invalid_argument, "unsupported container engine '" + candidate + "'",
                  "use podman or docker");
    }
    if (auto found = find_on_path(candidate, path_var)) return ContainerEngine(*kind, *found);
  }
  return std::nullopt;
}

ContainerEngine ContainerEngine::detect_or_throw(const Context& context,
                                                 std::string_view preferred) {
  if (auto engine = detect(context.env(), preferred)) return *engine;
  const std::string what = preferred.empty() ? "podman or docker" : std::string(preferred);
  throw Error(ErrorCode::command_not_found, "no container engine found (" + what + ")",
              "install Podman (apt-get install podman runc) or Docker, or use the host runtime");
}

// --- argv builders -------------------------------------------------------------------------

PreparedRun ContainerEngine::prepare_run(const RunRequest& request) const {
  if (request.name.empty() || request.image.empty()) {
    throw Error(ErrorCode::invalid_argument, "a container needs a name and an image");
  }
  PreparedRun prepared;
  auto& argv = prepared.argv;
  argv = base();
  argv.insert(argv.end(), {"run", "-d", "--name", request.name});
  if (request.init) argv.emplace_back("--init");
  for (const auto& [key, value] : request.labels) {
    argv.insert(argv.end(), {"--label", key + "=" + value});
  }
  for (const auto& port : request.ports) {
    if (!is_loopback(port.host_ip)) {
      throw Error(ErrorCode::invalid_argument,
                  "container ports are published on loopback only, not on " + port.host_ip);
    }
    if (port.host_port <= 0 || port.host_port > 65535 || port.container_port <= 0 ||
        port.container_port > 65535) {
      throw Error(ErrorCode::invalid_argument, "invalid port mapping for " + request.name);
    }
    const std::string ip =
        port.host_ip.find(':') != std::string::npos ? "[" + port.host_ip + "]" : port.host_ip;
    std::string spec =
        ip + ":" + std::to_string(port.host_port) + ":" + std::to_string(port.container_port);
    if (port.protocol != "tcp") spec += "/" + port.protocol;
    argv.insert(argv.end(), {"-p", spec});
  }
  for (const auto& volume : request.volumes) {
    std::string spec = volume.source + ":" + volume.target;
    if (volume.read_only) spec += ":ro";
    argv.insert(argv.end(), {"-v", spec});
  }
  std::vector<std::string> from_process_env;
  for (const auto& [key, value] : request.env) {
    validate_env_name(key);
    // The env-file format is one KEY=VALUE per line with no quoting: a value with a line break
    // travels in the engine's own environment instead (`--env NAME` copies it from there).
    if (value.find_first_of("\r\n") != std::string::npos) {
      prepared.process_env[key] = value;
      from_process_env.push_back(key);
    } else {
      prepared.env_file_content += key + "=" + value + "\n";
    }
  }
  if (!prepared.env_file_content.empty()) {
    if (request.env_file.empty()) {
      throw Error(ErrorCode::internal, "container environment without an env-file path");
    }
    argv.insert(argv.end(), {"--env-file", request.env_file.string()});
  }
  for (const auto& key : from_process_env) argv.insert(argv.end(), {"--env", key});
  if (request.workdir) argv.insert(argv.end(), {"--workdir", *request.workdir});
  if (request.user) argv.insert(argv.end(), {"--user", *request.user});
  argv.push_back(request.image);
  argv.insert(argv.end(), request.command.begin(), request.command.end());
  return prepared;
}

std::vector<std::string> ContainerEngine::logs_argv(std::string_view container, bool follow) const {
  auto argv = base();
  argv.emplace_back("logs");
  if (follow) argv.emplace_back("-f");
  argv.emplace_back(container);
  return argv;
}

std::vector<std::string> ContainerEngine::inspect_argv(std::string_view container) const {
  auto argv = base();
  argv.insert(argv.end(), {"container", "inspect", std::string(container)});
  return argv;
}

std::vector<std::string> ContainerEngine::wait_argv(std::string_view container) const {
  auto argv = base();
  argv.insert(argv.end(), {"wait", std::string(container)});
  return argv;
}

std::vector<std::string> ContainerEngine::stop_argv(std::string_view container,
                                                    milliseconds grace) const {
  auto argv = base();
  argv.insert(argv.end(), {"stop", "-t", seconds_ceil(grace), std::string(container)});
  return argv;
}

std::vector<std::string> ContainerEngine::rm_argv(std::string_view container) const {
  auto argv = base();
  argv.insert(argv.end(), {"rm", "-f", std::string(container)});
  return argv;
}

std::vector<std::string> ContainerEngine::ps_argv(
    const std::map<std::string, std::string>& labels) const {
  auto argv = base();
  argv.insert(argv.end(), {"ps", "-a"});
  for (const auto& [key, value] : labels) {
    argv.insert(argv.end(), {"--filter", "label=" + key + "=" + value});
  }
  // Podman prints a JSON array; Docker prints one JSON object per line ("{{json .}}").
  argv.insert(argv.end(), {"--format", kind_ == EngineKind::podman ? "json" : "{{json .}}"});
  return argv;
}

std::vector<std::string> ContainerEngine::exec_argv(std::string_view container,
                                                    const std::vector<std::string>& command,
                                                    const ExecOptions& options) const {
  auto argv = base();
  argv.emplace_back("exec");
  if (options.interactive) argv.emplace_back("-i");
  if (options.tty) argv.emplace_back("-t");
  if (options.workdir) argv.insert(argv.end(), {"--workdir", *options.workdir});
  for (const auto& name : options.env_names) {
    validate_env_name(name);
    argv.insert(argv.end(), {"--env", name});
  }
  argv.emplace_back(container);
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::vector<std::string> ContainerEngine::volume_create_argv(
    std::string_view volume, const std::map<std::string, std::string>& labels) const {
  auto argv = base();
  argv.insert(argv.end(), {"volume", "create"});
  for (const auto& [key, value] : labels) {
    argv.insert(argv.end(), {"--label", key + "=" + value});
  }
  argv.emplace_back(volume);
  return argv;
}

std::vector<std::string> ContainerEngine::volume_inspect_argv(std::string_view volume) const {
  auto argv = base();
  argv.insert(argv.end(), {"volume", "inspect", std::string(volume)});
  return argv;
}

std::vector<std::string> ContainerEngine::volume_rm_argv(std::string_view volume) const {
  auto argv = base();
  argv.insert(argv.end(), {"volume", "rm", "-f", std::string(volume)});
  return argv;
}

std::vector<std::string> ContainerEngine::image_exists_argv(std::string_view image) const {
  auto argv = base();
  argv.insert(argv.end(), {"image", "inspect", std::string(image)});
  return argv;
}

// --- parsers ---------------------------------------------------------------------------------

ContainerState ContainerEngine::parse_inspect(std::string_view text) {
  const auto doc = core::parse_json_or_null(text);
  const json::object* obj = nullptr;
  if (doc.is_array() && !doc.as_array().empty() && doc.as_array().front().is_object()) {
    obj = &doc.as_array().front().as_object();
  } else if (doc.is_object()) {
    obj = &doc.as_object();
  }
  if (obj == nullptr) {
    throw Error(ErrorCode::internal, "unexpected container inspect output: " + last_line(text));
  }
  ContainerState state;
  state.id = string_or_empty(obj->if_contains("Id"));
  state.name = string_or_empty(obj->if_contains("Name"));
  if (!state.name.empty() && state.name.front() == '/') state.name.erase(0, 1);
  if (const auto* st = obj->if_contains("State"); st != nullptr && st->is_object()) {
    const auto& s = st->as_object();
    state.status = string_or_empty(s.if_contains("Status"));
    if (const auto* r = s.if_contains("Running"); r != nullptr && r->is_bool()) {
      state.running = r->as_bool();
    }
    if (const auto* c = s.if_contains("ExitCode"); c != nullptr && c->is_int64()) {
      state.exit_code = static_cast<int>(c->as_int64());
    }
  }
  if (const auto* config = obj->if_contains("Config"); config != nullptr && config->is_object()) {
    state.labels = labels_of(config->as_object().if_contains("Labels"));
  }
  return state;
}

std::vector<ContainerSummary> ContainerEngine::parse_ps(std::string_view output) {
  std::vector<ContainerSummary> result;
  const auto doc = core::parse_json_or_null(output);
  if (doc.is_array()) {
    for (const auto& item : doc.as_array()) {
      if (item.is_object()) result.push_back(summary_of(item.as_object()));
    }
    return result;
  }
  // JSON Lines.
  std::string_view rest = output;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      const auto item = core::parse_json_or_null(line);
      if (!item.is_object()) {
        throw Error(ErrorCode::internal, "unexpected container list output: " + std::string(line));
      }
      result.push_back(summary_of(item.as_object()));
    }
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return result;
}

std::optional<int> ContainerEngine::parse_wait(std::string_view output) {
  const std::string line = last_line(output);
  if (line.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const int code = std::stoi(line, &used);
    if (used != line.size()) return std::nullopt;
    return code;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// --- execution -------------------------------------------------------------------------------

CommandResult ContainerEngine::run_checked(Context& context, std::vector<std::string> argv,
                                           milliseconds timeout, std::string_view what) const {
  CommandSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = timeout;
  auto result = context.commands().run(spec);
  if (!result.ok()) {
    json::object details;
    json::array args;
    for (const auto& a : spec.argv) args.emplace_back(a);
    details["argv"] = std::move(args);
    details["exit_code"] = result.exit_code;
    details["stderr"] = result.err;
    std::string message = std::string(name()) + " " + std::string(what) + " failed";
    if (result.timed_out) message += " (timed out)";
    const std::string reason = last_line(result.err);
    if (!reason.empty()) message += ": " + reason;
    throw Error(ErrorCode::command_failed, message, {}, core::to_json_string(details));
  }
  return result;
}

std::string ContainerEngine::run(Context& context, const RunRequest& request) const {
  PreparedRun prepared = prepare_run(request);
  const bool with_file = !prepared.env_file_content.empty();
  if (with_file) write_private_file(request.env_file, prepared.env_file_content);
  struct RemoveFile {
    std::filesystem::path path;
    ~RemoveFile() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove(path, ec);
    }
  } cleanup{with_file ? request.env_file : std::filesystem::path{}};

  CommandSpec spec;
  spec.argv = prepared.argv;
  spec.env = prepared.process_env;
  spec.timeout = kRunCommand;
  auto result = context.commands().run(spec);
  if (!result.ok() && result.err.find("already in use") != std::string::npos) {
    // A container of ours left over from a crashed run: ours by name, so it is safe to replace.
    remove(context, request.name);
    result = context.commands().run(spec);
  }
  if (!result.ok()) {
    json::object details;
    json::array args;
    for (const auto& a : spec.argv) args.emplace_back(a);
    details["argv"] = std::move(args);
    details["exit_code"] = result.exit_code;
    details["stderr"] = result.err;
    std::string hint;
    if (result.err.find("image not known") != std::string::npos ||
        result.err.find("pull") != std::string::npos ||
        result.err.find("Unable to find image") != std::string::npos) {
      hint = "the image '" + request.image +
             "' is not available locally and could not be pulled; build or load it first";
    } else if (result.err.find("address already in use") != std::string::npos ||
               result.err.find("port is already allocated") != std::string::npos) {
      hint = "another process holds the port; choose another port";
    }
    throw Error(
        ErrorCode::command_failed,
        std::string(name()) + " run failed for " + request.name + ": " + last_line(result.err),
        hint, core::to_json_string(details));
  }
  return last_line(result.out);
}

std::optional<ContainerState> ContainerEngine::inspect(Context& context,
                                                       std::string_view container) const {
  CommandSpec spec;
  spec.argv = inspect_argv(container);
  spec.timeout = kShortCommand;
  const auto result = context.commands().run(spec);
  if (!result.ok()) {
    if (not_found_text(result.err) || result.out.starts_with("[]")) return std::nullopt;
    throw Error(ErrorCode::command_failed,
                std::string(name()) + " inspect failed: " + last_line(result.err));
  }
  return parse_inspect(result.out);
}

void ContainerEngine::stop(Context& context, std::string_view container, milliseconds grace) const {
  CommandSpec spec;
  spec.argv = stop_argv(container, grace);
  spec.timeout = grace + kShortCommand;
  const auto result = context.commands().run(spec);
  if (!result.ok() && !not_found_text(result.err)) {
    throw Error(ErrorCode::command_failed, std::string(name()) + " stop failed for " +
                                               std::string(container) + ": " +
                                               last_line(result.err));
  }
}

void ContainerEngine::remove(Context& context, std::string_view container) const {
  CommandSpec spec;
  spec.argv = rm_argv(container);
  spec.timeout = kShortCommand * 2;
  const auto result = context.commands().run(spec);
  if (!result.ok() && !not_found_text(result.err)) {
    throw Error(ErrorCode::command_failed, std::string(name()) + " rm failed for " +
                                               std::string(container) + ": " +
                                               last_line(result.err));
  }
}

std::vector<ContainerSummary> ContainerEngine::list(
    Context& context, const std::map<std::string, std::string>& labels) const {
  const auto result = run_checked(context, ps_argv(labels), kShortCommand, "ps");
  return parse_ps(result.out);
}

void ContainerEngine::volume_create(Context& context, std::string_view volume,
                                    const std::map<std::string, std::string>& labels) const {
  if (volume_exists(context, volume)) return;
  run_checked(context, volume_create_argv(volume, labels), kShortCommand, "volume create");
}

bool ContainerEngine::volume_exists(Context& context, std::string_view volume) const {
  CommandSpec spec;
  spec.argv = volume_inspect_argv(volume);
  spec.timeout = kShortCommand;
  return context.commands().run(spec).ok();
}

void ContainerEngine::volume_remove(Context& context, std::string_view volume) const {
  CommandSpec spec;
  spec.argv = volume_rm_argv(volume);
  spec.timeout = kShortCommand;
  const auto result = context.commands().run(spec);
  if (!result.ok() && !not_found_text(result.err)) {
    throw Error(ErrorCode::command_failed, std::string(name()) + " volume rm failed for " +
                                               std::string(volume) + ": " + last_line(result.err));
  }
}

bool ContainerEngine::image_exists(Context& context, std::string_view image) const {
  CommandSpec spec;
  spec.argv = image_exists_argv(image);
  spec.output = OutputMode::discard;
  spec.timeout = kShortCommand;
  return context.commands().run(spec).ok();
}

std::unique_ptr<ChildProcess> ContainerEngine::follow_logs(
    Context& context, std::string_view container,
    std::function<void(std::string_view, bool)> on_line) const {
  CommandSpec spec;
  spec.argv = logs_argv(container, true);
  spec.output = OutputMode::stream;
  spec.on_line = std::move(on_line);
  return context.commands().spawn(spec);
}

std::unique_ptr<ChildProcess> ContainerEngine::spawn_wait(Context& context,
                                                          std::string_view container) const {
  CommandSpec spec;
  spec.argv = wait_argv(container);
  spec.output = OutputMode::capture;
  return context.commands().spawn(spec);
}

}  // namespace devx::runtime
