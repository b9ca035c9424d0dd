#pragma once
// Every Kubernetes API access the bridge makes, in one table. The kubectl adapter refuses an
// access that is not declared here, so the RBAC that `devx bridge rbac` prints (generated from
// the same table) is exactly what devx needs: no more, and nothing missing.
#include <span>
#include <string>
#include <string_view>

namespace devx::bridge::kube {

struct ApiAccess {
  std::string_view verb;         // get | list | create | patch | delete
  std::string_view api_group;    // "" = core
  std::string_view resource;     // plural resource name
  std::string_view subresource;  // "" or e.g. "portforward"
  std::string_view why;          // which devx step needs it
};

std::span<const ApiAccess> api_accesses();

// The API group and plural resource of a kubectl kind ("svc", "service", "jobs", "Job" …).
// Throws Error(invalid_argument) for a kind the bridge does not use.
struct ApiResource {
  std::string_view api_group;
  std::string_view resource;
};
ApiResource api_resource(std::string_view kind);

// Throws Error(internal) when (verb, kind[/subresource]) is not in the table.
void require_access(std::string_view verb, std::string_view kind,
                    std::string_view subresource = {});

// Apply-able YAML: a Role + RoleBinding in `ns`, or a ClusterRole + ClusterRoleBinding when `ns`
// is empty, named devx-bridge-user, granting the table's rules. The subject is a placeholder
// User the reader replaces (a comment says so).
std::string rbac_yaml(std::string_view ns);

}  // namespace devx::bridge::kube
