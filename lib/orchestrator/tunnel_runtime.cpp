#include "orchestrator/tunnel_runtime.hpp"

#include <devx/edge.hpp>
#include <devx/error.hpp>
#include <devx/tunnel.hpp>

#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#include "core/json.hpp"
#include "tunnel/connector.hpp"
#include "tunnel/project_routes.hpp"
#include "tunnel/routes.hpp"

namespace devx::orchestrator {
namespace {

namespace json = boost::json;

class ProjectTunnels final : public UpTunnels {
 public:
  ProjectTunnels(Context& context, const Project& project,
                 const std::vector<std::optional<int>>& node_ports,
                 std::function<void(Event)> report)
      : context_(context), project_(project.name), report_(std::move(report)) {
    zone_ = tunnel::project_zone(context, project);
    CloudflareSettings settings;
    settings.env_sources = project.env;
    settings_ = tunnel::resolve_cloudflare(context, settings);
    for (const auto& t : project.tunnels) {
      const bool waits = std::any_of(node_ports.begin(), node_ports.end(),
                                     [&](const auto& p) { return p && *p == t.port; });
      entries_.push_back({t, waits});
      if (!waits) pending_.push_back({t.port, t.port});
    }
    worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }

  ~ProjectTunnels() override { stop(); }

  void node_ready(std::optional<int> declared, std::optional<int> actual) override {
    if (!declared || !actual) return;
    std::lock_guard lock(mutex_);
    pending_.push_back({*declared, *actual});
    wake_.notify_all();
  }

  void stop() override {
    if (!worker_.joinable()) return;
    worker_.request_stop();
    {
      std::lock_guard lock(mutex_);
      wake_.notify_all();
    }
    worker_.join();
  }

 private:
  struct Entry {
    Tunnel config;
    bool waits_for_node;
    bool routed = false;
  };
  struct Ready {
    int declared;
    int actual;
  };

  void warn(const std::string& message) {
    report_(Event{EventType::warning, 0, "tunnel", message, LogLevel::warn, {}});
  }

  void route(tunnel::CloudflareApi& api, tunnel::TunnelPlan& plan, Entry& entry, int port) {
    const std::string name = tunnel::project_route_name(entry.config);
    if (!record_) {
      scope_ = tunnel::project_scope(context_, project_);
      record_ = tunnel::ensure_tunnel(context_, plan, api, *scope_);
      zone_info_ = api.zone_by_name(zone_);
    }
    std::string service = "http://127.0.0.1:" + std::to_string(port);
    std::vector<tunnel::ProxyRecord> layers;
    if (!entry.config.basic_auth.empty() || !entry.config.throttle.empty()) {
      EdgeProxyOptions edge;
      edge.target_port = port;
      if (!entry.config.basic_auth.empty())
        edge.basic_auth = parse_basic_auth(entry.config.basic_auth);
      edge.throttle = entry.config.throttle;
      if (!edge.throttle.empty()) layers.push_back({"throttle", edge.throttle});
      if (edge.basic_auth) layers.push_back({"basic_auth", ""});
      proxies_.push_back(start_edge_proxy(context_, edge));
      service = proxies_.back().url();
    }
    const std::string host = tunnel::project_route_hostname(project_, name, zone_);
    tunnel::RouteRequest request{name,   host, *zone_info_, port, service,
                                 layers, "up", project_,    true};
    added_.push_back(tunnel::add_route(context_, plan, api, *scope_, *record_, request));
    entry.routed = true;
    started_connector_ =
        tunnel::ensure_connector(context_, plan, api, settings_, *scope_, *record_) ||
        started_connector_;
    report_(
        Event{EventType::state, 0, "tunnel",
              "exposed https://" + host + " → 127.0.0.1:" + std::to_string(port), LogLevel::info,
              core::to_json_string(json::object{
                  {"state", "exposed"}, {"exposure", tunnel::exposure_to_json(added_.back())}})});
  }

  void run(std::stop_token stop) {
    tunnel::CloudflareApi api(context_, settings_);
    tunnel::TunnelPlan plan(context_, "up.tunnels");
    plan.attach(api);
    api.set_stop_token(stop);  // `down` does not wait out a Cloudflare retry while routing
    while (true) {
      std::vector<Ready> ready;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, stop, [&] { return !pending_.empty(); });
        if (stop.stop_requested()) break;
        ready.assign(pending_.begin(), pending_.end());
        pending_.clear();
      }
      for (const auto& r : ready) {
        for (auto& entry : entries_) {
          if (entry.routed || entry.config.port != r.declared) continue;
          try {
            route(api, plan, entry, r.actual);
          } catch (const Error& e) {
            warn("tunnel '" + entry.config.name + "' is not routed: " + e.message() +
                 (e.hint().empty() ? "" : " (" + e.hint() + ")"));
            entry.routed = true;  // reported once; the rest of the session goes on
          }
        }
      }
    }
    api.set_stop_token({});  // removing the routes is worth its retries
    for (const auto& e : added_) {
      try {
        tunnel::remove_route(context_, plan, api, e);
      } catch (const Error& error) {
        warn("could not remove the route of " + e.hostname + ": " + error.message());
      }
    }
    for (auto& p : proxies_) p.stop();
    if (started_connector_ && scope_) {
      try {
        tunnel::stop_idle_connector(context_, plan, scope_->key);
      } catch (const Error& error) {
        warn("could not stop the tunnel connector: " + error.message());
      }
    }
  }

  Context& context_;
  std::string project_;
  std::string zone_;
  std::function<void(Event)> report_;
  tunnel::ResolvedCloudflare settings_;
  std::vector<Entry> entries_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<Ready> pending_;
  // Worker-thread state.
  std::optional<tunnel::TunnelScope> scope_;
  std::optional<tunnel::TunnelRecord> record_;
  std::optional<tunnel::Zone> zone_info_;
  std::list<EdgeProxy> proxies_;
  std::vector<tunnel::ExposureRecord> added_;
  bool started_connector_ = false;
  std::jthread worker_;  // last: it starts after every other member exists
};

}  // namespace

std::unique_ptr<UpTunnels> start_up_tunnels(Context& context, const Project& project,
                                            const std::vector<std::optional<int>>& node_ports,
                                            std::function<void(Event)> report) {
  if (project.tunnels.empty() || context.dry_run()) return nullptr;
  try {
    return std::make_unique<ProjectTunnels>(context, project, node_ports, report);
  } catch (const Error& e) {
    // The services matter more than their public routes: `up` goes on without them.
    report(Event{EventType::warning,
                 0,
                 "tunnel",
                 "the project's tunnels are not routed: " + e.message(),
                 LogLevel::warn,
                 {}});
    return nullptr;
  }
}

}  // namespace devx::orchestrator
