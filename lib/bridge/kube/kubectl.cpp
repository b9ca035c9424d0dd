#include "bridge/kube/kubectl.hpp"

#include <pwd.h>
#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include "bridge/kube/api_access.hpp"
#include "core/json.hpp"

namespace devx::bridge::kube {
namespace {

namespace json = boost::json;

constexpr std::string_view kInstallHint =
    "install kubectl (https://kubernetes.io/docs/tasks/tools/) and make sure it is on PATH";
constexpr std::chrono::seconds kCallTimeout{60};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// klog lines ("E1128 15:26:01.123456 1234 memcache.go:265] …") repeat what the final line says.
bool is_klog_line(std::string_view line) {
  return line.size() > 5 && (line[0] == 'E' || line[0] == 'W' || line[0] == 'I') &&
         std::all_of(line.begin() + 1, line.begin() + 5,
                     [](char c) { return c >= '0' && c <= '9'; });
}

std::string last_message_line(std::string_view err) {
  std::string_view best;
  std::size_t start = 0;
  while (start < err.size()) {
    std::size_t end = err.find('\n', start);
    if (end == std::string_view::npos) end = err.size();
    std::string_view line = err.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty() && (!is_klog_line(line) || best.empty())) best = line;
    start = end + 1;
  }
  return std::string(best);
}

std::string user_home() {
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr)
    return pw->pw_dir;
  return "/";
}

std::string home_directory(const Context& context) {
  if (auto it = context.env().find("HOME"); it != context.env().end() && !it->second.empty())
    return it->second;
  return user_home();
}

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

json::array to_json_array(const std::vector<std::string>& argv) {
  json::array out;
  for (const auto& a : argv) out.emplace_back(a);
  return out;
}

std::string string_at(const json::object& object, std::initializer_list<std::string_view> path) {
  const json::value* v = nullptr;
  const json::object* o = &object;
  for (auto key : path) {
    if (o == nullptr) return {};
    v = o->if_contains(key);
    if (v == nullptr) return {};
    o = v->if_object();
  }
  if (v != nullptr && v->is_string()) return std::string(v->get_string());
  return {};
}

// A JSON patch with a `test` op whose failure the server reports generically (HTTP 422).
bool is_guarded_json_patch(const std::vector<std::string>& argv) {
  bool json_type = false;
  bool has_test = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--type=json") json_type = true;
    if (argv[i] == "-p" && i + 1 < argv.size()) has_test = contains(argv[i + 1], R"("op":"test")");
  }
  return json_type && has_test;
}

}  // namespace

std::vector<std::string> kubectl_prefix(const KubeSettings& settings, std::string_view home) {
  std::vector<std::string> argv{settings.kubectl.empty() ? "kubectl" : settings.kubectl};
  if (!settings.kubeconfig.empty()) {
    std::filesystem::path path = settings.kubeconfig;
    if (settings.kubeconfig == "~" || settings.kubeconfig.starts_with("~/"))
      path = std::filesystem::path(home.empty() ? user_home() : std::string(home)) /
             settings.kubeconfig.substr(std::min<std::size_t>(2, settings.kubeconfig.size()));
    argv.emplace_back("--kubeconfig");
    argv.push_back(std::filesystem::absolute(path).lexically_normal().string());
  }
  if (!settings.context.empty()) {
    argv.emplace_back("--context");
    argv.push_back(settings.context);
  }
  return argv;
}

Error kubectl_error(const std::vector<std::string>& argv, const CommandResult& result) {
  const std::string& err = result.err;
  std::string tail = err.size() > 2000 ? err.substr(err.size() - 2000) : err;
  const json::object details{{"argv", to_json_array(argv)},
                             {"exit_code", result.exit_code},
                             {"signal", result.signal},
                             {"stderr", tail}};
  const std::string detail_text = core::to_json_string(details);
  // argv[0] is the binary; the verb follows the global flags.
  std::string what = "kubectl";
  for (std::size_t i = 1; i < argv.size() && i < 5; ++i) {
    if (argv[i] == "--kubeconfig" || argv[i] == "--context") {
      ++i;
      continue;
    }
    what += " " + argv[i];
  }
  if (result.cancelled) return Error(ErrorCode::cancelled, what + ": cancelled");
  if (result.timed_out) {
    return Error(ErrorCode::unreachable,
                 what + ": no answer within " + std::to_string(kCallTimeout.count()) + " s",
                 "check that the cluster is reachable (VPN, kubeconfig context)", detail_text);
  }
  const std::string line = last_message_line(err);
  const std::string message =
      what + ": " + (line.empty() ? "exited with " + std::to_string(result.exit_code) : line);
  if (contains(err, "test failed") ||
      (is_guarded_json_patch(argv) && contains(err, "the server rejected our request")) ||
      contains(err, "Operation cannot be fulfilled")) {
    return Error(ErrorCode::conflict, message,
                 "the object changed since it was read; read it again and retry", detail_text);
  }
  if (contains(err, "(Forbidden)") || contains(err, "forbidden:") || contains(err, "Forbidden:")) {
    return Error(ErrorCode::permission_denied, message,
                 "your Kubernetes user lacks a permission devx needs: see `devx bridge rbac`",
                 detail_text);
  }
  if (contains(err, "Unauthorized") || contains(err, "You must be logged in")) {
    return Error(ErrorCode::permission_denied, message,
                 "the cluster refused your credentials: log in again (e.g. refresh the token)",
                 detail_text);
  }
  if (contains(err, "context was not found") || contains(err, "does not exist")) {
    return Error(ErrorCode::not_found, message,
                 "list contexts with `kubectl config get-contexts` and pass one of them",
                 detail_text);
  }
  if (contains(err, "(NotFound)") || contains(err, " not found")) {
    return Error(ErrorCode::not_found, message, {}, detail_text);
  }
  if (contains(err, "(AlreadyExists)")) {
    return Error(ErrorCode::already_exists, message, {}, detail_text);
  }
  for (std::string_view needle :
       {"connection refused", "was refused", "Unable to connect to the server", "dial tcp",
        "i/o timeout", "context deadline exceeded", "no such host", "TLS handshake timeout",
        "Client.Timeout exceeded", "connection reset by peer", "no route to host"}) {
    if (contains(err, needle)) {
      return Error(ErrorCode::unreachable, message,
                   "check that the cluster is reachable (VPN, kubeconfig context)", detail_text);
    }
  }
  return Error(ErrorCode::command_failed, message, {}, detail_text);
}

std::optional<Error> PodStatus::failure() const {
  const std::string details = core::to_json_string(json::object{
      {"pod", name}, {"phase", phase}, {"reason", waiting_reason}, {"message", message}});
  const std::string said = message.empty() ? "" : ": " + message;
  if (waiting_reason == "InvalidImageName") {
    return Error(ErrorCode::invalid_argument, "pod " + name + ": invalid image reference" + said,
                 "use a lower-case reference: registry/repository[:tag][@sha256:digest]", details);
  }
  if (waiting_reason == "ErrImagePull" || waiting_reason == "ImagePullBackOff" ||
      waiting_reason == "ErrImageNeverPull") {
    return Error(ErrorCode::not_found, "pod " + name + ": the image cannot be pulled" + said,
                 "check that the image exists and that the cluster may pull it (registry "
                 "access, imagePullSecrets)",
                 details);
  }
  if (waiting_reason == "CreateContainerConfigError" || waiting_reason == "CreateContainerError") {
    return Error(ErrorCode::invalid_argument,
                 "pod " + name + ": the container cannot be created" + said, {}, details);
  }
  if (waiting_reason == "CrashLoopBackOff") {
    return Error(ErrorCode::command_failed, "pod " + name + ": the container keeps crashing" + said,
                 "see `kubectl logs " + name + "`", details);
  }
  if (phase == "Failed" || phase == "Succeeded") {
    return Error(ErrorCode::command_failed,
                 "pod " + name + " ended (" + phase +
                     (waiting_reason.empty() ? "" : ", " + waiting_reason) + ")" + said,
                 "see `kubectl logs " + name + "`", details);
  }
  return std::nullopt;
}

PodStatus parse_pod_status(const json::object& pod) {
  PodStatus s;
  s.name = string_at(pod, {"metadata", "name"});
  s.phase = string_at(pod, {"status", "phase"});
  const json::object* status = nullptr;
  if (const auto* v = pod.if_contains("status")) status = v->if_object();
  if (status == nullptr) return s;
  if (const auto* conditions = status->if_contains("conditions");
      conditions && conditions->is_array()) {
    for (const auto& c : conditions->get_array()) {
      if (!c.is_object()) continue;
      if (string_at(c.get_object(), {"type"}) == "Ready")
        s.ready = string_at(c.get_object(), {"status"}) == "True";
    }
  }
  if (const auto* containers = status->if_contains("containerStatuses");
      containers && containers->is_array() && !containers->get_array().empty() &&
      containers->get_array().front().is_object()) {
    const json::object& c = containers->get_array().front().get_object();
    if (const auto* n = c.if_contains("restartCount"); n && n->is_int64())
      s.restarts = static_cast<int>(n->get_int64());
    if (auto reason = string_at(c, {"state", "waiting", "reason"}); !reason.empty()) {
      s.waiting_reason = reason;
      s.message = string_at(c, {"state", "waiting", "message"});
    } else if (auto ended = string_at(c, {"state", "terminated", "reason"}); !ended.empty()) {
      s.waiting_reason = ended;
      s.message = string_at(c, {"state", "terminated", "message"});
    }
  }
  if (s.message.empty()) s.message = string_at(*status, {"message"});
  return s;
}

Kubectl::Kubectl(Context& context, KubeSettings settings, std::stop_token stop)
    : context_(context), settings_(std::move(settings)), stop_(std::move(stop)) {}

CommandResult Kubectl::run(std::vector<std::string> args, std::optional<std::string> stdin_data) {
  CommandSpec spec;
  spec.argv = kubectl_prefix(settings_, home_directory(context_));
  spec.argv.insert(spec.argv.end(), std::make_move_iterator(args.begin()),
                   std::make_move_iterator(args.end()));
  spec.stdin_data = std::move(stdin_data);
  spec.timeout = kCallTimeout;
  spec.stop = stop_;
  CommandResult result;
  try {
    result = context_.commands().run(spec);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::command_not_found) throw;
    throw Error(ErrorCode::command_not_found, "kubectl not found ('" + spec.argv.front() + "')",
                std::string(kInstallHint))
        .with_cause(e);
  }
  if (!result.ok()) throw kubectl_error(spec.argv, result);
  return result;
}

json::value Kubectl::run_json(std::vector<std::string> args,
                              std::optional<std::string> stdin_data) {
  const std::string what = "output of kubectl " + join(args);
  const CommandResult result = run(std::move(args), std::move(stdin_data));
  return core::parse_json_or_throw(result.out, what);
}

std::string Kubectl::client_version() {
  const json::value v = run_json({"version", "--client", "-o", "json"});
  const std::string version =
      v.is_object() ? string_at(v.get_object(), {"clientVersion", "gitVersion"}) : std::string();
  if (version.empty())
    throw Error(ErrorCode::command_failed, "kubectl version printed no clientVersion.gitVersion");
  return version;
}

std::string Kubectl::check_cluster() {
  const json::value v = run_json({"version", "-o", "json"});
  const std::string version =
      v.is_object() ? string_at(v.get_object(), {"serverVersion", "gitVersion"}) : std::string();
  if (version.empty())
    throw Error(ErrorCode::unreachable, "kubectl could not read the server version",
                "check the kubeconfig and context (`kubectl version`)");
  return version;
}

json::object Kubectl::get(std::string_view kind, std::string_view name, std::string_view ns) {
  require_access("get", kind);
  json::value v =
      run_json({"get", std::string(kind), std::string(name), "-n", std::string(ns), "-o", "json"});
  if (!v.is_object()) throw Error(ErrorCode::command_failed, "kubectl get printed no object");
  return std::move(v.get_object());
}

std::optional<json::object> Kubectl::find(std::string_view kind, std::string_view name,
                                          std::string_view ns) {
  try {
    return get(kind, name, ns);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) return std::nullopt;
    throw;
  }
}

std::vector<json::object> Kubectl::list(std::string_view kind, std::string_view ns,
                                        std::string_view label_selector) {
  require_access("list", kind);
  std::vector<std::string> args{"get", std::string(kind)};
  if (ns.empty()) {
    args.emplace_back("-A");
  } else {
    args.emplace_back("-n");
    args.emplace_back(ns);
  }
  if (!label_selector.empty()) {
    args.emplace_back("-l");
    args.emplace_back(label_selector);
  }
  args.emplace_back("-o");
  args.emplace_back("json");
  const json::value v = run_json(std::move(args));
  std::vector<json::object> out;
  if (const auto* o = v.if_object()) {
    if (const auto* items = o->if_contains("items"); items && items->is_array()) {
      for (const auto& item : items->get_array())
        if (item.is_object()) out.push_back(item.get_object());
    }
  }
  return out;
}

json::array Kubectl::apply(const json::array& objects) {
  for (const auto& o : objects) {
    const std::string kind = o.is_object() ? string_at(o.get_object(), {"kind"}) : "";
    for (std::string_view verb : {"get", "create", "patch"}) require_access(verb, kind);
  }
  const json::object list{{"apiVersion", "v1"}, {"kind", "List"}, {"items", objects}};
  json::value v = run_json({"apply", "-f", "-", "-o", "json"}, core::to_json_string(list));
  json::array out;
  if (auto* o = v.if_object()) {
    if (string_at(*o, {"kind"}) == "List") {
      if (auto* items = o->if_contains("items"); items && items->is_array())
        out = std::move(items->get_array());
    } else {
      out.push_back(std::move(*o));
    }
  }
  return out;
}

json::object Kubectl::patch_json(std::string_view kind, std::string_view name, std::string_view ns,
                                 const json::array& ops) {
  require_access("patch", kind);
  json::value v = run_json({"patch", std::string(kind), std::string(name), "-n", std::string(ns),
                            "--type=json", "-p", core::to_json_string(ops), "-o", "json"});
  if (!v.is_object()) throw Error(ErrorCode::command_failed, "kubectl patch printed no object");
  return std::move(v.get_object());
}

json::object Kubectl::patch_merge(std::string_view kind, std::string_view name, std::string_view ns,
                                  const json::object& patch) {
  require_access("patch", kind);
  json::value v = run_json({"patch", std::string(kind), std::string(name), "-n", std::string(ns),
                            "--type=merge", "-p", core::to_json_string(patch), "-o", "json"});
  if (!v.is_object()) throw Error(ErrorCode::command_failed, "kubectl patch printed no object");
  return std::move(v.get_object());
}

void Kubectl::remove(std::string_view kind, std::string_view name, std::string_view ns) {
  require_access("delete", kind);
  run({"delete", std::string(kind), std::string(name), "-n", std::string(ns), "--ignore-not-found",
       "--wait=false"});
}

std::optional<PodStatus> Kubectl::pod_status(std::string_view ns, std::string_view label_selector) {
  const auto pods = list("pods", ns, label_selector);
  const json::object* newest = nullptr;
  std::string newest_time;
  for (const auto& pod : pods) {
    // RFC 3339 UTC timestamps order as strings.
    std::string created = string_at(pod, {"metadata", "creationTimestamp"});
    if (newest == nullptr || created > newest_time) {
      newest = &pod;
      newest_time = std::move(created);
    }
  }
  if (newest == nullptr) return std::nullopt;
  return parse_pod_status(*newest);
}

std::vector<std::string> Kubectl::job_problems(std::string_view ns, std::string_view job) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  const auto add = [&](std::string message) {
    if (!message.empty() && seen.insert(message).second) out.push_back(std::move(message));
  };
  if (auto object = find("job", job, ns)) {
    const json::value* status = object->if_contains("status");
    const json::value* conditions = status != nullptr && status->is_object()
                                        ? status->get_object().if_contains("conditions")
                                        : nullptr;
    if (conditions != nullptr && conditions->is_array()) {
      for (const auto& c : conditions->get_array()) {
        if (!c.is_object() || string_at(c.get_object(), {"status"}) != "True") continue;
        const std::string type = string_at(c.get_object(), {"type"});
        if (type != "Failed" && type != "FailureTarget") continue;
        add("Job " + type + ": " + string_at(c.get_object(), {"reason"}) + ": " +
            string_at(c.get_object(), {"message"}));
      }
    }
  }
  require_access("list", "events");
  const json::value events = run_json({"get", "events", "-n", std::string(ns), "--field-selector",
                                       "involvedObject.name=" + std::string(job), "-o", "json"});
  if (const auto* o = events.if_object()) {
    if (const auto* items = o->if_contains("items"); items && items->is_array()) {
      for (const auto& e : items->get_array()) {
        if (!e.is_object()) continue;
        if (string_at(e.get_object(), {"type"}) != "Warning") continue;
        add(string_at(e.get_object(), {"reason"}) + ": " + string_at(e.get_object(), {"message"}));
      }
    }
  }
  return out;
}

}  // namespace devx::bridge::kube
