#include "bridge/kube/api_access.hpp"

#include <devx/error.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <tuple>
#include <vector>

namespace devx::bridge::kube {
namespace {

constexpr std::string_view kApply = "kubectl apply (reads, then creates or patches)";
constexpr std::string_view kSweep = "bridge doctor finds and removes what a crash left";

// Keep in step with the Kubectl methods: require_access() rejects anything missing here.
constexpr std::array kAccesses{
    ApiAccess{"get", "", "services", "", "read the target Service"},
    ApiAccess{"list", "", "services", "", "bridge doctor finds swapped selectors"},
    ApiAccess{"patch", "", "services", "", "swap and restore the selector"},
    ApiAccess{"get", "", "pods", "", "agent status; kubectl port-forward"},
    ApiAccess{"list", "", "pods", "", "agent status; kubectl port-forward svc/…"},
    ApiAccess{"watch", "", "pods", "", "kubectl port-forward svc/… waits for a pod"},
    ApiAccess{"create", "", "pods", "portforward", "kubectl port-forward"},
    ApiAccess{"list", "", "events", "", "why the agent Job has no pod"},
    ApiAccess{"list", "discovery.k8s.io", "endpointslices", "", "agent is an endpoint"},
    ApiAccess{"get", "batch", "jobs", "", kApply},
    ApiAccess{"create", "batch", "jobs", "", kApply},
    ApiAccess{"patch", "batch", "jobs", "", "kubectl apply; start the suspended agent Job"},
    ApiAccess{"list", "batch", "jobs", "", kSweep},
    ApiAccess{"delete", "batch", "jobs", "", "remove the agent (owns the objects below)"},
    ApiAccess{"get", "", "serviceaccounts", "", kApply},
    ApiAccess{"create", "", "serviceaccounts", "", kApply},
    ApiAccess{"patch", "", "serviceaccounts", "", kApply},
    ApiAccess{"list", "", "serviceaccounts", "", kSweep},
    ApiAccess{"delete", "", "serviceaccounts", "", kSweep},
    ApiAccess{"get", "", "secrets", "", kApply},
    ApiAccess{"create", "", "secrets", "", kApply},
    ApiAccess{"patch", "", "secrets", "", kApply},
    ApiAccess{"list", "", "secrets", "", kSweep},
    ApiAccess{"delete", "", "secrets", "", kSweep},
    ApiAccess{"get", "rbac.authorization.k8s.io", "roles", "", kApply},
    ApiAccess{"create", "rbac.authorization.k8s.io", "roles", "", kApply},
    ApiAccess{"patch", "rbac.authorization.k8s.io", "roles", "", kApply},
    ApiAccess{"list", "rbac.authorization.k8s.io", "roles", "", kSweep},
    ApiAccess{"delete", "rbac.authorization.k8s.io", "roles", "", kSweep},
    ApiAccess{"get", "rbac.authorization.k8s.io", "rolebindings", "", kApply},
    ApiAccess{"create", "rbac.authorization.k8s.io", "rolebindings", "", kApply},
    ApiAccess{"patch", "rbac.authorization.k8s.io", "rolebindings", "", kApply},
    ApiAccess{"list", "rbac.authorization.k8s.io", "rolebindings", "", kSweep},
    ApiAccess{"delete", "rbac.authorization.k8s.io", "rolebindings", "", kSweep},
};

struct KindEntry {
  std::string_view alias;
  ApiResource resource;
};

constexpr std::array kKinds{
    KindEntry{"svc", {"", "services"}},
    KindEntry{"service", {"", "services"}},
    KindEntry{"services", {"", "services"}},
    KindEntry{"po", {"", "pods"}},
    KindEntry{"pod", {"", "pods"}},
    KindEntry{"pods", {"", "pods"}},
    KindEntry{"ev", {"", "events"}},
    KindEntry{"event", {"", "events"}},
    KindEntry{"events", {"", "events"}},
    KindEntry{"sa", {"", "serviceaccounts"}},
    KindEntry{"serviceaccount", {"", "serviceaccounts"}},
    KindEntry{"serviceaccounts", {"", "serviceaccounts"}},
    KindEntry{"secret", {"", "secrets"}},
    KindEntry{"secrets", {"", "secrets"}},
    KindEntry{"job", {"batch", "jobs"}},
    KindEntry{"jobs", {"batch", "jobs"}},
    KindEntry{"job.batch", {"batch", "jobs"}},
    KindEntry{"jobs.batch", {"batch", "jobs"}},
    KindEntry{"role", {"rbac.authorization.k8s.io", "roles"}},
    KindEntry{"roles", {"rbac.authorization.k8s.io", "roles"}},
    KindEntry{"rolebinding", {"rbac.authorization.k8s.io", "rolebindings"}},
    KindEntry{"rolebindings", {"rbac.authorization.k8s.io", "rolebindings"}},
    KindEntry{"endpointslice", {"discovery.k8s.io", "endpointslices"}},
    KindEntry{"endpointslices", {"discovery.k8s.io", "endpointslices"}},
    KindEntry{"endpointslices.discovery.k8s.io", {"discovery.k8s.io", "endpointslices"}},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::span<const ApiAccess> api_accesses() { return kAccesses; }

ApiResource api_resource(std::string_view kind) {
  const std::string k = lower(kind);
  for (const auto& entry : kKinds) {
    if (entry.alias == k) return entry.resource;
  }
  throw Error(ErrorCode::invalid_argument,
              "kind '" + std::string(kind) + "' is not one the bridge works with");
}

void require_access(std::string_view verb, std::string_view kind, std::string_view subresource) {
  const ApiResource r = api_resource(kind);
  for (const auto& a : kAccesses) {
    if (a.verb == verb && a.api_group == r.api_group && a.resource == r.resource &&
        a.subresource == subresource)
      return;
  }
  throw Error(ErrorCode::internal, "API access '" + std::string(verb) + " " +
                                       std::string(r.resource) +
                                       (subresource.empty() ? "" : "/" + std::string(subresource)) +
                                       "' is not declared in the bridge's access table");
}

std::string rbac_yaml(std::string_view ns) {
  const bool cluster = ns.empty();
  // One rule per (group, resource), verbs merged, in a stable order.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> rules;
  for (const auto& a : kAccesses) {
    std::string resource(a.resource);
    if (!a.subresource.empty()) resource += "/" + std::string(a.subresource);
    rules[{std::string(a.api_group), resource}].insert(std::string(a.verb));
  }

  const std::string name = "devx-bridge-user";
  YAML::Emitter out;
  out << YAML::Comment(
             "RBAC for devx bridge (connect, intercept, doctor), generated from the API calls "
             "devx makes.\nReplace the subject's name (REPLACE-WITH-YOUR-USER) with your user, "
             "group or ServiceAccount,\nthen: kubectl apply -f <this file>")
      << YAML::Newline;
  out << YAML::BeginDoc << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "rbac.authorization.k8s.io/v1";
  out << YAML::Key << "kind" << YAML::Value << (cluster ? "ClusterRole" : "Role");
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << name;
  if (!cluster) out << YAML::Key << "namespace" << YAML::Value << std::string(ns);
  out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key
      << "app.kubernetes.io/managed-by" << YAML::Value << "devx" << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
  for (const auto& [key, verbs] : rules) {
    out << YAML::BeginMap;
    out << YAML::Key << "apiGroups" << YAML::Value << YAML::Flow << YAML::BeginSeq
        << YAML::DoubleQuoted << key.first << YAML::EndSeq;
    out << YAML::Key << "resources" << YAML::Value << YAML::Flow << YAML::BeginSeq << key.second
        << YAML::EndSeq;
    out << YAML::Key << "verbs" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : verbs) out << v;
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;

  out << YAML::BeginDoc << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "rbac.authorization.k8s.io/v1";
  out << YAML::Key << "kind" << YAML::Value << (cluster ? "ClusterRoleBinding" : "RoleBinding");
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << name;
  if (!cluster) out << YAML::Key << "namespace" << YAML::Value << std::string(ns);
  out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key
      << "app.kubernetes.io/managed-by" << YAML::Value << "devx" << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "roleRef" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "apiGroup" << YAML::Value << "rbac.authorization.k8s.io";
  out << YAML::Key << "kind" << YAML::Value << (cluster ? "ClusterRole" : "Role");
  out << YAML::Key << "name" << YAML::Value << name;
  out << YAML::EndMap;
  out << YAML::Key << "subjects" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "apiGroup" << YAML::Value << "rbac.authorization.k8s.io";
  out << YAML::Key << "kind" << YAML::Value << "User";
  out << YAML::Key << "name" << YAML::Value << "REPLACE-WITH-YOUR-USER";
  out << YAML::Comment("edit: your user (or kind: Group / ServiceAccount)");
  out << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace devx::bridge::kube
