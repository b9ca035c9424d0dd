#pragma once
// The Kubernetes bridge: reach remote Services from local code (connect) and route a remote
// Service's traffic to a local process (intercept). docs/bridge.md describes the behaviour,
// docs/bridge-protocol.md the wire format between devx and its in-cluster agent.
//
// Sessions are long operations: start_bridge_connect / start_bridge_intercept return an
// Operation that runs until it is cancelled (or `devx bridge disconnect` signals its process) and
// leaves nothing behind when it ends. Each live session is recorded in DEVX_HOME/bridge/<id>.json
// (atomic, locked, with the owner's pid) so status, disconnect and the environment of other
// commands see it.
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace devx {

// How kubectl reaches the cluster.
struct KubeSettings {
  // "" = kubectl's own resolution: $KUBECONFIG (a colon-separated list is honoured) or
  // ~/.kube/config. A path is passed as --kubeconfig (~ expanded).
  std::string kubeconfig;
  std::string context;              // "" = the current context
  std::string kubectl = "kubectl";  // the binary (looked up in PATH)
};

// One remote Service port made local.
struct BridgeTargetSpec {
  std::string service;
  std::string namespace_;  // "" = the options' namespace, else "default"
  int port = 0;            // the Service port
  int local_port = 0;      // 0 = chosen by kubectl (no port race)
};

struct BridgeConnectOptions {
  KubeSettings kube;
  std::string namespace_;  // default namespace of the targets ("" = "default")
  std::vector<BridgeTargetSpec> targets;
  std::string origin = "standalone";  // "standalone" | "up" (recorded in the session)
};

// A Service port routed to a local port. local = 0 refuses that port's connections.
struct BridgePortMapping {
  int remote = 0;
  int local = 0;
};

struct BridgeInterceptOptions {
  KubeSettings kube;
  std::string service;
  std::string namespace_;                   // "" = "default"
  std::vector<BridgePortMapping> ports;     // empty = every TCP Service port to the same local port
  std::string agent_image;                  // "" = the default agent image
  std::chrono::seconds ready_timeout{120};  // agent deployed → Running and Ready
  std::chrono::seconds grace{30};  // agent restores the Service this long after the tunnel is lost
  std::chrono::milliseconds keepalive_interval{5000};
  std::chrono::milliseconds keepalive_timeout{10000};
  std::string origin = "standalone";
};

// A project's `bridge:` section as options: kube settings, namespace, agent image and targets
// (targets empty when the project has no bridge section).
DEVX_API BridgeConnectOptions bridge_connect_options(const Project& project);
// Options to intercept `service`: the project's kube settings and, when bridge.intercepts names
// the Service, its namespace and port mapping.
DEVX_API BridgeInterceptOptions bridge_intercept_options(const Project& project,
                                                         std::string_view service);

// Starts `kubectl port-forward` for every target and keeps them up (capped exponential backoff
// with jitter) until cancelled. State events (source = "<namespace>/<service>:<port>") carry
// {"service","namespace","remote_port","local_port","state","attempt"}. With the context's dry_run
// the result is the plan and nothing starts. Result: {"v":1,"session":…} when it ends.
DEVX_API Operation start_bridge_connect(Context& context, BridgeConnectOptions options);

// Deploys the agent, waits for it, opens the authenticated tunnel, swaps the Service's selector
// (JSON patch guarded by a `test` of the current selector) and routes connections to local ports
// until cancelled; then restores the selector (only if the Service still names this session) and
// removes the agent. Progress events name each step; a state event "active" carries
// {"session","service","namespace","ports":[{"remote","local"}]}.
DEVX_API Operation start_bridge_intercept(Context& context, BridgeInterceptOptions options);

// Every recorded session with its liveness reconciled (dead owners are reported as "stale"):
// {"v":1,"active":bool,"sessions":[…]}.
DEVX_API std::string bridge_status(Context& context);

// Stops sessions: signals each live owner (SIGTERM; it restores and cleans up itself) and waits
// for it; for a dead owner whose intercept is still applied, restores the Service and removes the
// agent directly. `session_id` "" = all. Dry run: the plan only. Result: {"v":1,"sessions":[…]}.
DEVX_API std::string bridge_disconnect(Context& context, std::string_view session_id,
                                       std::chrono::milliseconds wait = std::chrono::seconds(30));

// BRIDGE_<SERVICE>[_<NAMESPACE>]_{URL,HOST,PORT} for every live forward of every session. The
// namespace part appears when the same Service name is forwarded from two namespaces.
DEVX_API std::map<std::string, std::string> bridge_environment(Context& context);

struct BridgeDoctorOptions {
  KubeSettings kube;
  std::string namespace_;  // "" = all namespaces
  bool repair = false;
};

// Finds what a crashed session can leave behind, from labels and annotations alone: Services
// whose selector is still swapped (annotation devx.dev/bridge-session without a live session),
// selectors polluted by the original Go tool, agents and RBAC objects without a live session.
// With repair, restores the Services and deletes the leftovers. Result: {"v":1,"findings":[…]}.
DEVX_API Operation start_bridge_doctor(Context& context, BridgeDoctorOptions options);

// Apply-able RBAC YAML (Role + RoleBinding in `namespace_`, or ClusterRole + ClusterRoleBinding
// when empty) granting exactly the API calls devx makes. The subject is a placeholder to edit.
DEVX_API std::string bridge_rbac_yaml(std::string_view namespace_);

// The one formula for environment variable prefixes: "BRIDGE_" + the Service name upper-cased
// with every character outside [A-Z0-9] replaced by '_' (+ "_" + namespace the same way, when
// `with_namespace`).
DEVX_API std::string bridge_env_prefix(std::string_view service, std::string_view namespace_,
                                       bool with_namespace);

}  // namespace devx
