#include "bridge/kube/manifests.hpp"

#include <devx/error.hpp>

#include <algorithm>
#include <regex>
#include <set>

#include "core/json.hpp"

namespace devx::bridge::kube {
namespace {

namespace json = boost::json;

constexpr int kFirstPickedPort = 20000;
constexpr std::string_view kControlPortName = "devx-control";
constexpr std::string_view kHealthPortName = "devx-health";

const json::object* object_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

std::string service_label(const json::object& service) {
  const json::object* meta = object_at(service, "metadata");
  return meta == nullptr ? std::string("Service")
                         : "Service " + core::string_field(*meta, "namespace") + "/" +
                               core::string_field(*meta, "name");
}

void validate_session_id(std::string_view sid) {
  const bool hex = std::all_of(sid.begin(), sid.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (sid.size() < 8 || sid.size() > 32 || !hex)
    throw Error(ErrorCode::invalid_argument,
                "session id '" + std::string(sid) + "' must be 8-32 lower-case hex digits");
}

std::string duration_arg(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s"
                               : std::to_string(d.count()) + "ms";
}

json::object labels(const AgentSpec& spec) {
  return json::object{{kRoleLabel, "agent"},
                      {kSessionLabel, spec.session_id},
                      {kTargetLabel, spec.service},
                      {kManagedByLabel, "devx"}};
}

json::object metadata(const AgentSpec& spec) {
  return json::object{{"name", agent_name(spec.session_id)},
                      {"namespace", spec.namespace_},
                      {"labels", labels(spec)}};
}

json::object container(const AgentSpec& spec) {
  const AgentPorts& p = spec.ports;
  json::array args;
  json::array ports;
  for (const auto& port : p.ports) {
    args.emplace_back("--port=" + std::to_string(port.service_port) + ":" +
                      std::to_string(port.listen_port));
    json::object cp{{"containerPort", port.listen_port}, {"protocol", "TCP"}};
    if (!port.container_port_name.empty()) cp["name"] = port.container_port_name;
    ports.push_back(std::move(cp));
  }
  args.emplace_back("--control-port=" + std::to_string(p.control_port));
  args.emplace_back("--health-port=" + std::to_string(p.health_port));
  args.emplace_back("--grace=" + std::to_string(spec.grace.count()) + "s");
  args.emplace_back("--keepalive-interval=" + duration_arg(spec.keepalive_interval));
  args.emplace_back("--keepalive-timeout=" + duration_arg(spec.keepalive_timeout));
  args.emplace_back(
      "--first-session-timeout=" + std::to_string(spec.first_session_timeout.count()) + "s");
  ports.push_back(json::object{
      {"containerPort", p.control_port}, {"name", kControlPortName}, {"protocol", "TCP"}});
  ports.push_back(json::object{
      {"containerPort", p.health_port}, {"name", kHealthPortName}, {"protocol", "TCP"}});

  json::array add;
  if (p.needs_net_bind_service) add.emplace_back("NET_BIND_SERVICE");
  json::object capabilities{{"drop", json::array{"ALL"}}};
  if (!add.empty()) capabilities["add"] = std::move(add);

  const std::string name = agent_name(spec.session_id);
  return json::object{
      {"name", "agent"},
      {"image", spec.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", std::move(args)},
      {"env",
       json::array{
           json::object{
               {"name", "DEVX_BRIDGE_TOKEN"},
               {"valueFrom",
                json::object{{"secretKeyRef", json::object{{"name", name}, {"key", "token"}}}}}},
           json::object{{"name", "DEVX_BRIDGE_SESSION"}, {"value", spec.session_id}},
           json::object{{"name", "DEVX_TARGET_SERVICE"}, {"value", spec.service}},
           json::object{{"name", "DEVX_TARGET_NAMESPACE"}, {"value", spec.namespace_}},
       }},
      {"ports", std::move(ports)},
      // Ready only while a devx client is attached: Endpoints drop the agent otherwise.
      {"readinessProbe",
       json::object{{"httpGet", json::object{{"path", "/readyz"}, {"port", kHealthPortName}}},
                    {"periodSeconds", 1},
                    {"timeoutSeconds", 1},
                    {"failureThreshold", 1}}},
      {"livenessProbe",
       json::object{{"httpGet", json::object{{"path", "/livez"}, {"port", kHealthPortName}}},
                    {"periodSeconds", 10},
                    {"failureThreshold", 3}}},
      {"resources", json::object{{"requests", json::object{{"cpu", "10m"}, {"memory", "16Mi"}}},
                                 {"limits", json::object{{"cpu", "500m"}, {"memory", "64Mi"}}}}},
      // PodSecurity "restricted" compliant.
      {"securityContext", json::object{{"allowPrivilegeEscalation", false},
                                       {"readOnlyRootFilesystem", true},
                                       {"runAsNonRoot", true},
                                       {"capabilities", std::move(capabilities)}}},
  };
}

// IANA service name, as Kubernetes requires for container port names.
bool valid_port_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name.front() == '-' || name.back() == '-') return false;
  bool letter = false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c >= 'a' && c <= 'z') {
      letter = true;
    } else if (!((c >= '0' && c <= '9') || c == '-') || (c == '-' && i > 0 && name[i - 1] == '-')) {
      return false;
    }
  }
  return letter;
}

}  // namespace

AgentPorts resolve_agent_ports(const json::object& service) {
  const std::string what = service_label(service);
  const json::object* spec = object_at(service, "spec");
  if (spec == nullptr) throw Error(ErrorCode::invalid_argument, what + " has no spec");
  if (core::string_field(*spec, "type") == "ExternalName")
    throw Error(
        ErrorCode::unsupported,
        what + " is of type ExternalName: it has no pods whose traffic could be taken over");
  const json::object* selector = object_at(*spec, "selector");
  if (selector == nullptr || selector->empty())
    throw Error(ErrorCode::unsupported,
                what + " has no selector: its endpoints are managed by hand and cannot be swapped");
  const json::value* ports_value = spec->if_contains("ports");
  if (ports_value == nullptr || !ports_value->is_array() || ports_value->get_array().empty())
    throw Error(ErrorCode::invalid_argument, what + " has no ports");

  AgentPorts out;
  std::set<int> numeric;  // listen ports fixed by numeric targetPorts
  std::vector<AgentPort> ports;
  for (const auto& v : ports_value->get_array()) {
    if (!v.is_object()) continue;
    const json::object& p = v.get_object();
    AgentPort port;
    port.name = core::string_field(p, "name");
    if (const auto* n = p.if_contains("port"); n && n->is_int64())
      port.service_port = static_cast<int>(n->get_int64());
    const std::string protocol = p.contains("protocol") ? core::string_field(p, "protocol") : "TCP";
    if (protocol != "TCP")
      throw Error(ErrorCode::unsupported,
                  what + " port " + std::to_string(port.service_port) + " is " + protocol +
                      ": intercept carries TCP only",
                  "intercept a Service that has only TCP ports");
    const json::value* target = p.if_contains("targetPort");
    if (target == nullptr || (target->is_int64() && target->get_int64() == 0)) {
      port.listen_port = port.service_port;
    } else if (target->is_int64()) {
      port.listen_port = static_cast<int>(target->get_int64());
    } else if (target->is_string()) {
      port.container_port_name = std::string(target->get_string());
      if (!valid_port_name(port.container_port_name))
        throw Error(ErrorCode::invalid_argument, what + " targetPort '" + port.container_port_name +
                                                     "' is not a valid container port name");
      if (port.container_port_name == kControlPortName ||
          port.container_port_name == kHealthPortName)
        throw Error(ErrorCode::unsupported, what + " targetPort '" + port.container_port_name +
                                                "' collides with the agent's own port names");
    }
    port.target_port = port.container_port_name.empty() ? std::to_string(port.listen_port)
                                                        : port.container_port_name;
    if (port.listen_port != 0) numeric.insert(port.listen_port);
    ports.push_back(std::move(port));
  }

  // Control and health ports must not collide with ports the Service routes to.
  int next = out.control_port;
  const auto pick_free = [&](int from) {
    while (numeric.count(from) > 0) ++from;
    numeric.insert(from);
    return from;
  };
  out.control_port = pick_free(next);
  out.health_port = pick_free(out.control_port + 1);
  next = kFirstPickedPort;

  std::set<std::string> seen;
  for (auto& port : ports) {
    if (!seen.insert(port.target_port).second) {
      out.warnings.push_back("Service port " + std::to_string(port.service_port) +
                             " routes to targetPort " + port.target_port +
                             " like an earlier port: the agent serves it once");
      continue;
    }
    if (port.listen_port == 0) port.listen_port = next = pick_free(next);
    if (port.listen_port < 1024) {
      out.needs_net_bind_service = true;
      out.warnings.push_back("targetPort " + std::to_string(port.listen_port) +
                             " is below 1024: the non-root agent gets the NET_BIND_SERVICE "
                             "capability to bind it");
    }
    out.ports.push_back(std::move(port));
  }
  return out;
}

void validate_image_reference(std::string_view image) {
  // The distribution reference grammar, with the first component a registry only when it looks
  // like one (has '.' or ':' or is localhost), as the container runtimes decide.
  static const std::regex reference(
      R"(^(?:(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)(?::[0-9]+)?/|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?:[0-9]+/)?)"
      R"([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
      R"((?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?)"
      R"((?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$)");
  const std::string text(image);
  const std::string name = text.substr(0, std::min(text.find('@'), text.size()));
  if (image.empty() || name.size() > 255 || !std::regex_match(text, reference)) {
    const bool upper =
        std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    throw Error(
        ErrorCode::invalid_argument,
        "invalid agent image reference '" + text + "'" +
            (upper ? ": repository names must be lower case" : ""),
        "use registry/repository[:tag][@sha256:digest], e.g. " + std::string(kDefaultAgentImage));
  }
}

std::string agent_name(std::string_view session_id) {
  return "devx-bridge-agent-" + std::string(session_id);
}

std::string agent_pod_selector(std::string_view session_id) {
  return std::string(kSessionLabel) + "=" + std::string(session_id);
}

json::object agent_job(const AgentSpec& spec) {
  validate_session_id(spec.session_id);
  validate_image_reference(spec.image);
  if (spec.ports.ports.empty())
    throw Error(ErrorCode::invalid_argument, "the agent needs at least one port");
  if (spec.token.empty()) throw Error(ErrorCode::invalid_argument, "the agent needs a token");

  json::object pod_spec{
      {"serviceAccountName", agent_name(spec.session_id)},
      // The agent restores the Service itself through the API with this account's token.
      {"automountServiceAccountToken", true},
      {"restartPolicy", "Never"},
      {"terminationGracePeriodSeconds", 30},
      {"securityContext",
       json::object{{"runAsNonRoot", true},
                    {"runAsUser", 65532},
                    {"runAsGroup", 65532},
                    {"seccompProfile", json::object{{"type", "RuntimeDefault"}}}}},
      {"containers", json::array{container(spec)}},
  };
  return json::object{
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata", metadata(spec)},
      {"spec",
       json::object{
           // Created suspended: the objects it owns need its uid before the pod may start.
           {"suspend", true},
           {"backoffLimit", 0},
           {"ttlSecondsAfterFinished", 60},
           {"activeDeadlineSeconds", spec.active_deadline.count()},
           // A mesh sidecar in the agent's pod would capture the ports the agent must own and
           // the loopback control port: opt out of Istio and Linkerd injection.
           {"template",
            json::object{
                {"metadata",
                 json::object{{"labels", labels(spec)},
                              {"annotations", json::object{{"sidecar.istio.io/inject", "false"},
                                                           {"linkerd.io/inject", "disabled"}}}}},
                {"spec", std::move(pod_spec)}}},
       }},
  };
}

json::array owned_objects(const AgentSpec& spec, std::string_view job_uid) {
  validate_session_id(spec.session_id);
  if (job_uid.empty())
    throw Error(ErrorCode::invalid_argument, "owned_objects needs the Job's uid");
  const std::string name = agent_name(spec.session_id);
  // No blockOwnerDeletion: setting it needs update on jobs/finalizers, which devx does not ask for.
  const json::array owners{
      json::object{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"name", name}, {"uid", job_uid}}};
  const auto meta = [&] {
    json::object m = metadata(spec);
    m["ownerReferences"] = owners;
    return m;
  };
  return json::array{
      json::object{{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", meta()}},
      json::object{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                   {"kind", "Role"},
                   {"metadata", meta()},
                   {"rules", json::array{json::object{{"apiGroups", json::array{""}},
                                                      {"resources", json::array{"services"}},
                                                      {"resourceNames", json::array{spec.service}},
                                                      {"verbs", json::array{"get", "patch"}}}}}},
      json::object{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                   {"kind", "RoleBinding"},
                   {"metadata", meta()},
                   {"roleRef", json::object{{"apiGroup", "rbac.authorization.k8s.io"},
                                            {"kind", "Role"},
                                            {"name", name}}},
                   {"subjects", json::array{json::object{{"kind", "ServiceAccount"},
                                                         {"name", name},
                                                         {"namespace", spec.namespace_}}}}},
      json::object{{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", meta()},
                   {"type", "Opaque"},
                   {"stringData", json::object{{"token", spec.token}}}},
  };
}

json::object unsuspend_patch() { return json::object{{"spec", json::object{{"suspend", false}}}}; }

std::string json_pointer_escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

bool is_polluted(const json::object& selector) {
  return std::any_of(selector.begin(), selector.end(), [](const auto& kv) {
    const std::string_view key = kv.key();
    return key.starts_with("devx.dev/bridge") || key.starts_with("devx-bridge");
  });
}

json::array selector_swap_patch(const json::object& service, std::string_view sid) {
  validate_session_id(sid);
  const std::string what = service_label(service);
  const json::object* spec = object_at(service, "spec");
  const json::object* selector = spec != nullptr ? object_at(*spec, "selector") : nullptr;
  if (selector == nullptr || selector->empty())
    throw Error(ErrorCode::unsupported, what + " has no selector to swap");
  if (is_polluted(*selector))
    throw Error(ErrorCode::conflict,
                what + " has a selector left behind by an earlier intercept: " +
                    core::to_json_string(*selector),
                "run `devx bridge doctor --repair` to restore it");
  if (auto other = intercepting_session(service))
    throw Error(ErrorCode::conflict, what + " is already intercepted by session " + *other,
                "stop that session (`devx bridge disconnect " + *other +
                    "`) or run `devx bridge doctor --repair` if it crashed");

  const std::string session_path =
      "/metadata/annotations/" + json_pointer_escape(kSessionAnnotation);
  const std::string original_path =
      "/metadata/annotations/" + json_pointer_escape(kOriginalSelectorAnnotation);
  json::array ops{
      json::object{{"op", "test"}, {"path", "/spec/selector"}, {"value", *selector}},
      json::object{{"op", "replace"},
                   {"path", "/spec/selector"},
                   {"value", json::object{{kSessionLabel, sid}}}},
  };
  const json::object* meta = object_at(service, "metadata");
  if (meta != nullptr && object_at(*meta, "annotations") != nullptr) {
    ops.push_back(json::object{{"op", "add"}, {"path", session_path}, {"value", sid}});
    ops.push_back(json::object{
        {"op", "add"}, {"path", original_path}, {"value", core::to_json_string(*selector)}});
  } else {
    // Adding the whole map would replace annotations someone added since the read: guard with
    // the resourceVersion.
    if (meta != nullptr) {
      if (const std::string rv = core::string_field(*meta, "resourceVersion"); !rv.empty())
        ops.push_back(
            json::object{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", rv}});
    }
    ops.push_back(json::object{
        {"op", "add"},
        {"path", "/metadata/annotations"},
        {"value", json::object{{kSessionAnnotation, sid},
                               {kOriginalSelectorAnnotation, core::to_json_string(*selector)}}}});
  }
  return ops;
}

json::array selector_restore_patch(std::string_view sid, const json::object& original) {
  validate_session_id(sid);
  if (original.empty() || is_polluted(original))
    throw Error(ErrorCode::invalid_argument,
                "refusing to restore selector " + core::to_json_string(original));
  const std::string session_path =
      "/metadata/annotations/" + json_pointer_escape(kSessionAnnotation);
  return json::array{
      json::object{{"op", "test"}, {"path", session_path}, {"value", sid}},
      json::object{{"op", "replace"}, {"path", "/spec/selector"}, {"value", original}},
      json::object{{"op", "remove"}, {"path", session_path}},
      json::object{
          {"op", "remove"},
          {"path", "/metadata/annotations/" + json_pointer_escape(kOriginalSelectorAnnotation)}},
  };
}

std::optional<std::string> intercepting_session(const json::object& service) {
  const json::object* meta = object_at(service, "metadata");
  const json::object* annotations = meta != nullptr ? object_at(*meta, "annotations") : nullptr;
  if (annotations == nullptr) return std::nullopt;
  std::string sid = core::string_field(*annotations, kSessionAnnotation);
  if (sid.empty()) return std::nullopt;
  return sid;
}

std::optional<json::object> recorded_original_selector(const json::object& service) {
  const json::object* meta = object_at(service, "metadata");
  const json::object* annotations = meta != nullptr ? object_at(*meta, "annotations") : nullptr;
  if (annotations == nullptr) return std::nullopt;
  json::value v =
      core::parse_json_or_null(core::string_field(*annotations, kOriginalSelectorAnnotation));
  if (!v.is_object() || v.get_object().empty()) return std::nullopt;
  for (const auto& kv : v.get_object())
    if (!kv.value().is_string()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace devx::bridge::kube
