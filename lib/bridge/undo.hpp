#pragma once
// Undoing an intercept, from what the cluster itself records (the Service's annotations and the
// agent objects' labels): used by the intercept's own teardown, by `disconnect` for a session
// whose process died, and by `doctor --repair`. Nothing here needs the local session file.
#include <string>
#include <string_view>

#include "bridge/kube/kubectl.hpp"

namespace devx::bridge {

enum class RestoreResult {
  restored,  // the selector is back to the recorded original
  not_ours,  // the Service names another session (or none): left alone
  gone,      // the Service no longer exists
};

// Restores `service` if its annotation still names `session`: a JSON patch that tests the
// annotation, puts back the original selector and removes the annotations.
RestoreResult restore_service(kube::Kubectl& kubectl, std::string_view ns, std::string_view service,
                              std::string_view session);

// Deletes the agent Job of `session` and the objects it owns (ServiceAccount, Role, RoleBinding,
// Secret). Deleted explicitly as well, so nothing waits for the garbage collector.
void remove_agent(kube::Kubectl& kubectl, std::string_view ns, std::string_view session);

}  // namespace devx::bridge
