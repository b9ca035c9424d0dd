#include "bridge/undo.hpp"

#include <devx/error.hpp>

#include "bridge/kube/manifests.hpp"

namespace devx::bridge {

RestoreResult restore_service(kube::Kubectl& kubectl, std::string_view ns, std::string_view service,
                              std::string_view session) {
  const auto current = kubectl.find("service", service, ns);
  if (!current) return RestoreResult::gone;
  if (kube::intercepting_session(*current).value_or("") != session) return RestoreResult::not_ours;
  const auto original = kube::recorded_original_selector(*current);
  if (!original) {
    throw Error(ErrorCode::conflict,
                "Service " + std::string(service) + " names session " + std::string(session) +
                    " but its original selector annotation is missing or invalid",
                "restore the selector by hand (kubectl edit service " + std::string(service) + ")");
  }
  try {
    kubectl.patch_json("service", service, ns, kube::selector_restore_patch(session, *original));
  } catch (const Error& e) {
    // The `test` of our annotation failed: someone took the Service over in between.
    if (e.code() == ErrorCode::conflict) return RestoreResult::not_ours;
    throw;
  }
  return RestoreResult::restored;
}

void remove_agent(kube::Kubectl& kubectl, std::string_view ns, std::string_view session) {
  const std::string name = kube::agent_name(session);
  // The Job owns the rest; deleting each explicitly does not wait for the garbage collector.
  for (const char* kind : {"job", "secret", "rolebinding", "role", "serviceaccount"})
    kubectl.remove(kind, name, ns);
}

}  // namespace devx::bridge
