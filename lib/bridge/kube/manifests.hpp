#pragma once
// What an intercept deploys and patches, built as Boost.JSON objects (never pasted YAML):
// the agent's Job (created suspended), the objects it owns (garbage-collected with it), the
// Service ports the agent must listen on, and the guarded selector swap / restore patches.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace devx::bridge::kube {

// Built from tools/devx-bridge-agent/Containerfile.
inline constexpr std::string_view kDefaultAgentImage =
    "ghcr.io/vitruviansoftware/devx-bridge-agent:0.1.0";

inline constexpr std::string_view kSessionLabel = "devx.dev/bridge-session";
inline constexpr std::string_view kRoleLabel = "devx.dev/bridge";  // value "agent"
inline constexpr std::string_view kTargetLabel = "devx.dev/bridge-target";
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kSessionAnnotation = "devx.dev/bridge-session";
inline constexpr std::string_view kOriginalSelectorAnnotation = "devx.dev/original-selector";

// One Service port as the agent serves it.
struct AgentPort {
  std::string name;  // the Service port's name ("" when unnamed)
  int service_port = 0;
  std::string target_port;          // as written in the Service: a number or a container port name
  std::string container_port_name;  // named targetPort: that name; else ""
  int listen_port = 0;              // where the agent listens inside its pod
};

struct AgentPorts {
  std::vector<AgentPort> ports;
  int control_port = 4200;
  int health_port = 4201;
  bool needs_net_bind_service = false;  // a listen port below 1024
  std::vector<std::string> warnings;
};

// The ports the agent needs so that the Service's Endpoints route to it exactly as they routed to
// the original pods: a numeric targetPort is listened on as is; a named one becomes a container
// port of that name with a number picked from 20000 up. Error(unsupported) for ExternalName or
// selector-less Services and for UDP/SCTP ports (the tunnel carries TCP).
AgentPorts resolve_agent_ports(const boost::json::object& service);

// Error(invalid_argument) unless `image` is a valid lower-case reference
// ([domain[:port]/]path[:tag][@algo:hex]) — kubelet would report InvalidImageName.
void validate_image_reference(std::string_view image);

struct AgentSpec {
  std::string session_id;  // 8+ lower-case hex digits
  std::string service;
  std::string namespace_;
  std::string image = std::string(kDefaultAgentImage);
  AgentPorts ports;
  std::string token;  // the session token; only in the Secret
  std::chrono::seconds active_deadline{std::chrono::hours(4)};
  std::chrono::seconds grace{30};
  std::chrono::seconds first_session_timeout{120};  // devx's ready timeout
  std::chrono::milliseconds keepalive_interval{5000};
  std::chrono::milliseconds keepalive_timeout{10000};
};

// devx-bridge-agent-<sid>: the Job, ServiceAccount, Role, RoleBinding and Secret.
std::string agent_name(std::string_view session_id);
// The label selector of the agent's pod ("devx.dev/bridge-session=<sid>").
std::string agent_pod_selector(std::string_view session_id);

// The agent Job with spec.suspend true: create it first, then owned_objects() with its uid, then
// unsuspend_patch(). Validates the spec (session id, image, ports) before building anything.
boost::json::object agent_job(const AgentSpec& spec);
// ServiceAccount, Role (get+patch on the target Service only), RoleBinding and Secret (key
// `token`), each owned by the Job so deleting the Job deletes them.
boost::json::array owned_objects(const AgentSpec& spec, std::string_view job_uid);
// Merge patch that lets the Job create its pod.
boost::json::object unsuspend_patch();

// "/" → "~1", "~" → "~0" (RFC 6901).
std::string json_pointer_escape(std::string_view key);

// A selector carrying devx's (or the original Go tool's devx-bridge*) keys: a crashed intercept
// left it behind and it must be repaired, not recorded as "original".
bool is_polluted(const boost::json::object& selector);

// JSON patch that points `service` at the agent of session `sid`: test the selector still equals
// the one read, replace it by {devx.dev/bridge-session: sid}, and record sid and the original
// selector in annotations. Error(conflict) for a polluted selector or a Service that another
// session already intercepts; Error(unsupported) for a Service without selector.
boost::json::array selector_swap_patch(const boost::json::object& service, std::string_view sid);

// JSON patch that restores `original` only while the Service still names session `sid` (a late
// restore never undoes someone else's newer intercept), and removes both annotations.
boost::json::array selector_restore_patch(std::string_view sid,
                                          const boost::json::object& original);

// The session named by the Service's annotation, if any.
std::optional<std::string> intercepting_session(const boost::json::object& service);
// The selector recorded by the swap, if the annotation is present and valid.
std::optional<boost::json::object> recorded_original_selector(const boost::json::object& service);

}  // namespace devx::bridge::kube
