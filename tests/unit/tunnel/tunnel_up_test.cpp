// `tunnel up`: a project's tunnels on the project's own tunnel, with real traffic through the
// connector's edge, and the cleanup when the operation is cancelled.
#include <devx/config.hpp>
#include <devx/tunnel.hpp>

#include <gmock/gmock.h>

#include "tunnel_fixture.hpp"

namespace devx {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using test::wait_until;
using ::testing::HasSubstr;

class TunnelUp : public test::TunnelWorld {
 protected:
  Project load_from(const std::string& yaml) {
    auto loaded = load_project_from_string(yaml, dir_ / "devx.yaml");
    EXPECT_TRUE(loaded.ok()) << diagnostics_to_json(loaded.diagnostics);
    return *loaded.project;
  }
  // Collects exposed events until `count` arrived.
  std::vector<json::object> exposed(Operation& op, std::size_t count) {
    std::vector<json::object> out;
    while (out.size() < count) {
      const auto next = op.next_event(std::chrono::seconds(30));
      if (next.status != NextEvent::Status::event) break;
      if (next.event.type != EventType::state || next.event.data_json.empty()) continue;
      const auto data = json::parse(next.event.data_json).as_object();
      if (data.at("state") == "exposed") out.push_back(data.at("exposure").as_object());
    }
    return out;
  }
};

TEST_F(TunnelUp, TwoEntriesShareTheProjectTunnelAndGoAwayOnCancel) {
  auto ctx = context();
  const int web = start_origin("web origin");
  const int api = start_origin("api origin");
  const auto p = load_from(
      "name: shop\ndomain: example.com\ntunnels:\n  - name: web\n    port: " + std::to_string(web) +
      "\n  - name: api\n    port: " + std::to_string(api) + "\n");
  auto op = start_tunnel_up(*ctx, p);
  const auto exposures = exposed(op, 2);
  ASSERT_EQ(exposures.size(), 2u) << (op.done() ? "operation ended early" : "");
  EXPECT_EQ(exposures[0].at("hostname").as_string(), "web-shop.example.com");
  EXPECT_EQ(exposures[1].at("hostname").as_string(), "api-shop.example.com");
  // Ports are taken as they are (the apps are listening on them: that is the point).
  EXPECT_EQ(exposures[0].at("port").to_number<int>(), web);
  EXPECT_EQ(exposures[1].at("port").to_number<int>(), api);

  ASSERT_EQ(tunnels().size(), 1u);
  const std::string tunnel_id(tunnels()[0].at("id").as_string());
  EXPECT_THAT(std::string(tunnels()[0].at("name").as_string()), ::testing::EndsWith("-shop"));
  EXPECT_EQ(ingress_of(tunnel_id).size(), 3u);
  EXPECT_EQ(dns_records().size(), 2u);
  const std::string edge = edge_of(tunnel_id);
  EXPECT_THAT(through_edge(*ctx, edge, "web-shop.example.com").body, HasSubstr("web origin"));
  EXPECT_THAT(through_edge(*ctx, edge, "api-shop.example.com").body, HasSubstr("api origin"));
  const auto status = json::parse(tunnel_status(*ctx)).as_object();
  EXPECT_EQ(status.at("exposures").as_array().size(), 2u);
  EXPECT_EQ(status.at("tunnels").as_array()[0].at("scope").as_string(), "project");

  op.cancel();
  op.wait();
  EXPECT_EQ(ingress_of(tunnel_id).size(), 1u);
  EXPECT_TRUE(dns_records().empty());
  EXPECT_TRUE(json::parse(tunnel_status(*ctx)).at("exposures").as_array().empty());
  EXPECT_TRUE(wait_until([&] { return edge_of(tunnel_id).empty(); }));  // connector stopped

  // The next run reuses the project's tunnel.
  auto again = start_tunnel_up(*ctx, p);
  EXPECT_EQ(exposed(again, 2).size(), 2u);
  again.cancel();
  again.wait();
  EXPECT_EQ(requests("POST", "/cfd_tunnel").size(), 1u);
}

TEST_F(TunnelUp, DuplicateHostnamesAndBadPortsAreRejectedFirst) {
  auto ctx = context();
  // Built directly: the loader already refuses some of these; the library must not rely on it.
  Project p;
  p.name = "shop";
  p.domain = "example.com";
  p.tunnels = {Tunnel{"web", 8080, "", "", {}}, Tunnel{"web", 8081, "", "", {}}};
  EXPECT_THROW(start_tunnel_up(*ctx, p), Error);
  p.tunnels = {Tunnel{"web", 0, "", "", {}}};
  EXPECT_THROW(start_tunnel_up(*ctx, p), Error);
  p.tunnels = {Tunnel{"web", 8080, "", "warp", {}}};
  EXPECT_THROW(start_tunnel_up(*ctx, p), Error);
  EXPECT_TRUE(requests().empty());
}

TEST_F(TunnelUp, DryRunPlansBothRoutesAndCallsNothing) {
  auto ctx = context(true);
  const auto p = load_from(
      "name: shop\ndomain: example.com\ntunnels:\n  - name: web\n    port: 8080\n"
      "  - port: 9090\n");
  const auto plan = json::parse(start_tunnel_up(*ctx, p).result()).as_object();
  EXPECT_TRUE(plan.at("dry_run").as_bool());
  const auto& exposures = plan.at("exposures").as_array();
  ASSERT_EQ(exposures.size(), 2u);
  EXPECT_EQ(exposures[1].at("hostname").as_string(), "port-9090-shop.example.com");
  EXPECT_TRUE(requests().empty());
  EXPECT_FALSE(fs::exists(dir_ / "devx-home/tunnel/exposures"));
}

}  // namespace
}  // namespace devx
