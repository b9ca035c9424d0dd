#pragma once
// The one adapter around the kubectl binary: builds argv, runs it through the context's
// CommandRunner, parses JSON output and turns stderr into typed errors. Manifests travel on stdin,
// never in argv. kubeconfig "" leaves $KUBECONFIG to kubectl (a colon-separated list keeps its
// merge semantics); a path becomes --kubeconfig <absolute path>.
#include <devx/bridge.hpp>
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace devx::bridge::kube {

// `kubectl [--kubeconfig ABS] [--context C]`: the prefix of every invocation. `home` expands
// a leading "~/" in the kubeconfig path ("" = the user's home directory).
std::vector<std::string> kubectl_prefix(const KubeSettings& settings, std::string_view home);

// The typed error for a failed kubectl run (stderr decides: NotFound → not_found, Forbidden →
// permission_denied, connection refused / Unable to connect / timeouts → unreachable, a failed
// JSON-patch test → conflict; anything else → command_failed with argv and the stderr tail).
Error kubectl_error(const std::vector<std::string>& argv, const CommandResult& result);

struct PodStatus {
  std::string name;
  std::string phase;  // Pending | Running | Succeeded | Failed | Unknown
  bool ready = false;
  std::string waiting_reason;  // first container's state.waiting.reason, or terminated reason
  std::string message;
  int restarts = 0;

  // The error that makes waiting pointless (InvalidImageName, ErrImagePull, ImagePullBackOff,
  // CreateContainerConfigError, CrashLoopBackOff, a Failed/Succeeded pod), or nullopt.
  std::optional<Error> failure() const;
};

PodStatus parse_pod_status(const boost::json::object& pod);

class Kubectl {
 public:
  // `stop` cancels a running kubectl (Error(cancelled)).
  Kubectl(Context& context, KubeSettings settings, std::stop_token stop = {});

  const KubeSettings& settings() const noexcept { return settings_; }

  // `kubectl version --client -o json` → gitVersion. Error(command_not_found) names the fix.
  std::string client_version();
  // Reaches the API server (`kubectl version -o json`: /version needs no RBAC) → server
  // gitVersion. Error(unreachable) / Error(permission_denied) / Error(not_found) for a context.
  std::string check_cluster();

  boost::json::object get(std::string_view kind, std::string_view name, std::string_view ns);
  // nullopt when the object does not exist.
  std::optional<boost::json::object> find(std::string_view kind, std::string_view name,
                                          std::string_view ns);
  // ns "" = all namespaces; label_selector "" = everything.
  std::vector<boost::json::object> list(std::string_view kind, std::string_view ns,
                                        std::string_view label_selector = {});
  // One `kubectl apply -f - -o json` with a v1 List on stdin; the applied objects (with uids),
  // in input order.
  boost::json::array apply(const boost::json::array& objects);
  // RFC 6902 patch; a failed `test` op → Error(conflict). Returns the patched object.
  boost::json::object patch_json(std::string_view kind, std::string_view name, std::string_view ns,
                                 const boost::json::array& ops);
  // RFC 7386 merge patch. Returns the patched object.
  boost::json::object patch_merge(std::string_view kind, std::string_view name, std::string_view ns,
                                  const boost::json::object& patch);
  // Deletes without waiting (owned objects are garbage-collected); absent is fine.
  void remove(std::string_view kind, std::string_view name, std::string_view ns);

  // The newest pod matching the selector, or nullopt while there is none.
  std::optional<PodStatus> pod_status(std::string_view ns, std::string_view label_selector);
  // Why a Job has no (running) pod: its failure conditions and FailedCreate events (e.g.
  // PodSecurity or quota rejections), one message each. Empty when nothing is known.
  std::vector<std::string> job_problems(std::string_view ns, std::string_view job);

 private:
  CommandResult run(std::vector<std::string> args, std::optional<std::string> stdin_data = {});
  boost::json::value run_json(std::vector<std::string> args,
                              std::optional<std::string> stdin_data = {});

  Context& context_;
  KubeSettings settings_;
  std::stop_token stop_;
};

}  // namespace devx::bridge::kube
