#pragma once
// The project's `tunnels:` during `devx up` (docs/tunnels.md, "devx up"). An entry is routed on
// the project's tunnel once the node listening on its port is ready (healthy, or running when it
// has no health check); an entry whose port belongs to no node is routed when the session starts.
// When a node's port was shifted because the declared one was busy, the route follows the node.
// Routes are added on a worker thread (node_ready() never blocks, so the session may call it with
// its lock held); failures are reported as warnings. stop() removes the routes this session
// added, stops their proxies and stops the connector if this session started it.
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/events.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace devx::orchestrator {

class UpTunnels {
 public:
  virtual ~UpTunnels() = default;
  // A node became ready: `declared` is the port of devx.yaml, `actual` the one it listens on.
  virtual void node_ready(std::optional<int> declared, std::optional<int> actual) = 0;
  virtual void stop() = 0;
};

// nullptr when the project has no tunnels or the context is a dry run. `report` receives warning
// and state events (on the worker thread).
std::unique_ptr<UpTunnels> start_up_tunnels(Context& context, const Project& project,
                                            const std::vector<std::optional<int>>& node_ports,
                                            std::function<void(Event)> report);

}  // namespace devx::orchestrator
