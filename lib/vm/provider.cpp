// What every provider shares: quoting for a remote shell, the query runner, the command error,
// the container count, and the factory. Each provider's own adapter lives in its own file.
#include "vm/provider.hpp"

#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

#include "core/json.hpp"
#include "vm/providers.hpp"

namespace devx::vm {
namespace {

namespace json = boost::json;

std::string tail(std::string_view text, std::size_t max) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.size() > max) text = text.substr(text.size() - max);
  return std::string(text);
}

bool labelled_system(const json::value& labels) {
  if (const auto* object = labels.if_object()) {
    const auto* value = object->if_contains("devx.system");
    return value != nullptr && value->is_string() && value->as_string() == "true";
  }
  // docker ps --format '{{json .}}' gives "k=v,k2=v2".
  if (const auto* text = labels.if_string()) {
    std::string_view rest(*text);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = rest.substr(0, comma);
      if (item == "devx.system=true") return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace

std::string shell_quote(std::string_view word) {
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += "'";
  return out;
}

std::vector<std::string> ExecTransport::wrap(const std::vector<std::string>& command,
                                             bool privileged) const {
  std::vector<std::string> words;
  if (privileged && !login_user_is_root) words = {"sudo", "-n"};
  words.insert(words.end(), command.begin(), command.end());
  std::vector<std::string> argv = prefix;
  for (auto& word : words) argv.push_back(quote_for_remote_shell ? shell_quote(word) : word);
  return argv;
}

std::vector<std::string> Provider::container_list_argv(const std::string& vm) const {
  const auto rt = runtime();
  std::vector<std::string> command = {rt, "ps", "--format", rt == "podman" ? "json" : "{{json .}}"};
  return transport(vm).wrap(command, true);
}

std::optional<std::filesystem::path> Provider::login_identity(const std::filesystem::path& /*home*/,
                                                              const std::string& /*vm*/) const {
  return std::nullopt;
}

std::optional<std::filesystem::path> Provider::ignition_copy(Context& /*context*/,
                                                             const std::string& /*vm*/) const {
  return std::nullopt;
}

std::optional<std::vector<std::string>> Provider::set_default_argv(Context& /*context*/,
                                                                   const std::string& /*vm*/,
                                                                   bool /*planning*/) const {
  return std::nullopt;
}

const std::vector<std::string>& provider_names() {
  static const std::vector<std::string> names = {"podman", "lima",     "colima",
                                                 "docker", "orbstack", "host"};
  return names;
}

std::vector<std::string> provider_binaries(std::string_view provider) {
  if (provider == "podman") return {"podman"};
  if (provider == "lima") return {"limactl"};
  if (provider == "colima") return {"colima"};
  if (provider == "docker") return {"docker"};
  if (provider == "orbstack") return {"orb"};
  if (provider == "host") return {"podman", "docker"};
  return {};
}

std::unique_ptr<Provider> make_provider(std::string_view name, std::string_view platform,
                                        std::string_view host_engine) {
  if (name == "podman") return make_podman_provider();
  if (name == "lima") return make_lima_provider(platform);
  if (name == "colima") return make_colima_provider(platform);
  if (name == "docker") return make_docker_desktop_provider();
  if (name == "orbstack") return make_orbstack_provider();
  if (name == "host") return make_host_provider(std::string(host_engine));
  throw Error(ErrorCode::invalid_argument, "unknown VM provider '" + std::string(name) + "'",
              "use podman, lima, colima, docker, orbstack or host");
}

int whole_gib(int memory_mb) { return std::max(1, (memory_mb + 1023) / 1024); }

std::string gib_text(int memory_mb) {
  if (memory_mb % 1024 == 0) return std::to_string(memory_mb / 1024);
  // Three decimals are exact to the MiB for the sizes people use (512 → 0.5, 1536 → 1.5).
  std::string text = std::to_string(static_cast<double>(memory_mb) / 1024.0);
  text.resize(text.find('.') + 4);
  while (text.back() == '0') text.pop_back();
  return text;
}

CommandResult run_query(Context& context, std::vector<std::string> argv,
                        std::chrono::milliseconds timeout, std::optional<std::string> stdin_data) {
  CommandSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = timeout;
  spec.stdin_data = std::move(stdin_data);
  return context.commands().run(spec);
}

Error command_error(std::string_view what, const std::vector<std::string>& argv,
                    const CommandResult& result) {
  json::array words;
  for (const auto& a : argv) words.emplace_back(a);
  json::object details{{"argv", std::move(words)},
                       {"exit_code", result.exit_code},
                       {"stderr", tail(result.err, 2000)},
                       {"stdout", tail(result.out, 1000)}};
  if (result.signal != 0) details["signal"] = result.signal;
  if (result.timed_out) details["timed_out"] = true;
  if (result.cancelled)
    return Error(ErrorCode::cancelled, std::string(what) + ": cancelled", {},
                 core::to_json_string(details));
  std::string why = result.timed_out ? "timed out"
                    : result.signal  ? "killed by signal " + std::to_string(result.signal)
                                     : "exit " + std::to_string(result.exit_code);
  const auto err = tail(result.err.empty() ? result.out : result.err, 300);
  return Error(ErrorCode::command_failed,
               std::string(what) + " failed (" + argv.front() + ", " + why + ")" +
                   (err.empty() ? "" : ": " + err),
               {}, core::to_json_string(details));
}

int count_user_containers(std::string_view ps_output) {
  // `ps` without -a lists running containers only, so every entry counts unless it is devx's own.
  std::vector<json::object> entries;
  const auto whole = core::parse_json_or_null(ps_output);
  if (const auto* array = whole.if_array()) {
    for (const auto& e : *array)
      if (e.is_object()) entries.push_back(e.as_object());
  } else if (const auto* object = whole.if_object()) {
    entries.push_back(*object);
  } else {
    std::string_view rest = ps_output;
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      const auto line = rest.substr(0, nl);
      const auto v = core::parse_json_or_null(line);
      if (v.is_object()) entries.push_back(v.as_object());
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  }
  return static_cast<int>(std::count_if(entries.begin(), entries.end(), [](const auto& e) {
    const auto* labels = e.if_contains("Labels");
    return !(labels != nullptr && labelled_system(*labels));
  }));
}

}  // namespace devx::vm
