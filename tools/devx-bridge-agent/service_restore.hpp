#pragma once
// Puts the intercepted Service back the way it was, through the Kubernetes REST API with the
// pod's own service account (the image has no kubectl). The restore is conditional: it only
// happens while the Service's devx.dev/bridge-session annotation still names this session, so a
// late restore cannot undo someone else's newer intercept.

#include <chrono>
#include <functional>
#include <string>

namespace devx::bridge_agent {

struct ApiConfig {
  std::string base_url;  // https://host:port, no trailing slash
  std::string token;     // service account bearer token
  std::string ca_file;   // empty: system CAs (plain http in tests)
  std::string service_account_namespace;
};

// In-cluster configuration: /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,
// namespace} (DEVX_AGENT_SA_DIR overrides the directory) and KUBERNETES_SERVICE_HOST/PORT
// (DEVX_AGENT_API_URL overrides the base URL). Throws std::runtime_error.
ApiConfig load_in_cluster_config();

enum class RestoreOutcome {
  restored,
  not_ours,  // the annotation is absent or names another session: nothing to do
  conflict,  // the Service changed between our GET and PATCH (test op failed)
  failed,    // gave up: permanent error or retries exhausted
};

struct RestoreRequest {
  std::string namespace_name;
  std::string service;
  std::string session_id;
  int attempts = 5;
  std::chrono::milliseconds first_backoff{250};  // doubles after each transient failure
};

RestoreOutcome restore_service(const ApiConfig& api, const RestoreRequest& request,
                               const std::function<void(const std::string&)>& log);

}  // namespace devx::bridge_agent
