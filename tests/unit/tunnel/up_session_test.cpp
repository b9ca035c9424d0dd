// `devx up` with `tunnels:`: a route appears once its service is healthy and goes away with the
// session. A real host service behind the fake cloudflared's edge.
#include <devx/config.hpp>
#include <devx/orchestrator.hpp>
#include <devx/tunnel.hpp>

#include <gmock/gmock.h>

#include "tunnel_fixture.hpp"

namespace devx {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using test::wait_until;
using ::testing::HasSubstr;

class UpSession : public test::TunnelWorld {};

int free_port() {
  auto ctx = std::make_unique<Context>();
  auto reservation = ctx->ports().reserve(0);
  return reservation.port();
}

TEST_F(UpSession, ATunnelIsRoutedOnceItsServiceIsHealthyAndRemovedAtDown) {
  const int port = free_port();
  const std::string yaml =
      "name: shop\ndomain: example.com\nservices:\n  - name: web\n    command: [python3, -m, "
      "http.server, '" +
      std::to_string(port) + "', --bind, 127.0.0.1]\n    port: " + std::to_string(port) +
      "\n    healthcheck:\n      http: http://127.0.0.1:" + std::to_string(port) +
      "/\n      interval: 200ms\n"
      "tunnels:\n  - name: web\n    port: " +
      std::to_string(port) + "\n";
  fs::create_directories(dir_ / "project");
  std::ofstream(dir_ / "project/devx.yaml") << yaml;
  std::ofstream(dir_ / "project/index.html") << "served by web";
  auto loaded = load_project_from_string(yaml, dir_ / "project/devx.yaml");
  ASSERT_TRUE(loaded.ok()) << diagnostics_to_json(loaded.diagnostics);
  auto ctx = context();
  auto session = Session::create(*ctx, *loaded.project);
  session->up().result();

  // The route follows the healthy service (added from a worker thread).
  ASSERT_TRUE(wait_until([&] {
    return !dns_records().empty() && !tunnels().empty() &&
           !edge_of(std::string(tunnels()[0].at("id").as_string())).empty();
  }));
  const std::string tunnel_id(tunnels()[0].at("id").as_string());
  EXPECT_THAT(std::string(tunnels()[0].at("name").as_string()), ::testing::EndsWith("-shop"));
  EXPECT_EQ(dns_records()[0].at("name").as_string(), "web-shop.example.com");
  const auto response = through_edge(*ctx, edge_of(tunnel_id), "web-shop.example.com");
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.body, HasSubstr("served by web"));

  session->down().result();
  EXPECT_TRUE(dns_records().empty());
  EXPECT_EQ(ingress_of(tunnel_id).size(), 1u);
  EXPECT_TRUE(json::parse(tunnel_status(*ctx)).at("exposures").as_array().empty());
  EXPECT_TRUE(wait_until([&] { return edge_of(tunnel_id).empty(); }));
}

}  // namespace
}  // namespace devx
