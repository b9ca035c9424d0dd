// devx.yaml's `bridge:` section → bridge options (one place for the CLI, the bindings and `up`).
#include <devx/bridge.hpp>

namespace devx {
namespace {

KubeSettings kube_of(const BridgeConfig& bridge) {
  KubeSettings kube;
  kube.kubeconfig = bridge.kubeconfig;
  kube.context = bridge.context;
  return kube;
}

}  // namespace

BridgeConnectOptions bridge_connect_options(const Project& project) {
  BridgeConnectOptions options;
  if (!project.bridge) return options;
  options.kube = kube_of(*project.bridge);
  options.namespace_ = project.bridge->namespace_;
  for (const auto& t : project.bridge->targets)
    options.targets.push_back(BridgeTargetSpec{t.service, t.namespace_, t.port, t.local_port});
  return options;
}

BridgeInterceptOptions bridge_intercept_options(const Project& project, std::string_view service) {
  BridgeInterceptOptions options;
  options.service = std::string(service);
  if (!project.bridge) return options;
  options.kube = kube_of(*project.bridge);
  options.namespace_ = project.bridge->namespace_;
  options.agent_image = project.bridge->agent_image;
  for (const auto& i : project.bridge->intercepts) {
    if (i.service != service) continue;
    if (!i.namespace_.empty()) options.namespace_ = i.namespace_;
    options.ports.push_back(BridgePortMapping{i.port, i.local_port > 0 ? i.local_port : i.port});
  }
  return options;
}

}  // namespace devx
