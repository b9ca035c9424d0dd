#include <devx/error.hpp>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "orchestrator/plan.hpp"
#include "test_util.hpp"

namespace devx {
namespace {

// A port held busy by the test: a listening socket on 127.0.0.1.
class BusyPort {
 public:
  BusyPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::listen(fd_, 1);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
  }
  ~BusyPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(Plan, TopologicalOrderFollowsDependenciesAndDeclarationOrder) {
  test::Scratch scratch;
  auto context = scratch.context();
  const Project project = scratch.project(
      "name: shop\n"
      "services:\n"
      "  - name: web\n    command: [\"true\"]\n    depends_on: [api, assets]\n"
      "  - name: api\n    command: [\"true\"]\n    depends_on: [migrate]\n"
      "  - name: assets\n    command: [\"true\"]\n"
      "  - name: migrate\n    command: [\"true\"]\n"
      "  - name: unrelated\n    command: [\"true\"]\n");
  const UpPlan plan = plan_up(*context, project);
  std::vector<std::string> order;
  for (const auto& n : plan.nodes) order.push_back(n.name);
  // Among ready nodes, the one declared first goes first.
  EXPECT_EQ(order, (std::vector<std::string>{"assets", "migrate", "api", "web", "unrelated"}));
  EXPECT_EQ(plan.nodes[3].wave, 2);
  ASSERT_EQ(plan.nodes[3].wait_reasons.size(), 2U);
  EXPECT_EQ(plan.nodes[3].wait_reasons[0], "api service_started");

  UpOptions only;
  only.only = {"api"};
  const UpPlan subset = plan_up(*context, project, only);
  ASSERT_EQ(subset.nodes.size(), 2U);
  EXPECT_EQ(subset.nodes[0].name, "migrate");
  EXPECT_EQ(subset.nodes[1].name, "api");

  only.only = {"nope"};
  EXPECT_THROW(plan_up(*context, project, only), Error);
}

TEST(Plan, BusyPortIsShiftedAndPropagatedToHealthCheckAndDependents) {
  test::Scratch scratch;
  auto context = scratch.context();
  BusyPort busy;
  const std::string port = std::to_string(busy.port());
  const Project project = scratch.project(
      "name: shop\n"
      "services:\n"
      "  - name: api\n    command: [\"true\"]\n    port: " +
      port +
      "\n"
      "    healthcheck: {http: \"http://localhost:" +
      port +
      "/health\"}\n"
      "  - name: probe\n    command: [\"true\"]\n    port: " +
      port +
      "\n"
      "    healthcheck: {tcp: \"127.0.0.1:" +
      port +
      "\"}\n"
      "  - name: web\n    command: [\"true\"]\n    depends_on: [api]\n");
  const auto plan = orchestrator::build_plan(*context, project, {}, true);
  ASSERT_EQ(plan.nodes.size(), 3U);
  const auto& api = plan.nodes[0];
  ASSERT_TRUE(api.planned.port);
  const int shifted = *api.planned.port;
  EXPECT_NE(shifted, busy.port());
  EXPECT_EQ(*api.planned.requested_port, busy.port());
  EXPECT_EQ(api.health->http, "http://localhost:" + std::to_string(shifted) + "/health");
  EXPECT_EQ(api.env.at("PORT"), std::to_string(shifted));
  // The second service asking for the same busy port gets yet another one.
  const int probe_port = *plan.nodes[1].planned.port;
  EXPECT_NE(probe_port, shifted);
  EXPECT_EQ(plan.nodes[1].health->tcp, "127.0.0.1:" + std::to_string(probe_port));
  const auto& web = plan.nodes[2];
  EXPECT_EQ(web.env.at("API_PORT"), std::to_string(shifted));
  EXPECT_EQ(web.env.at("API_URL"), "http://127.0.0.1:" + std::to_string(shifted));
  EXPECT_EQ(web.planned.wait_reasons.at(0),
            "api service_healthy (http http://localhost:" + std::to_string(shifted) + "/health)");
  ASSERT_GE(plan.up.warnings.size(), 1U);
  EXPECT_NE(plan.up.warnings[0].find("moved to " + std::to_string(shifted)), std::string::npos);
  const std::string json = plan.up.to_json();
  EXPECT_NE(json.find("\"requested_port\":" + port), std::string::npos) << json;
  EXPECT_NE(json.find("\"env_names\":[\"API_HOST\",\"API_PORT\",\"API_URL\""), std::string::npos)
      << json;
}

TEST(Plan, TunnelRoutesAreListedWithTheirHostnamesLayersAndShiftedPorts) {
  test::Scratch scratch;
  // No token and no Cloudflare URL: planning never talks to the API.
  auto context = scratch.context({{"DEVX_TUNNEL_ZONE", ""},
                                  {"CLOUDFLARE_API_TOKEN", ""},
                                  {"CF_API_TOKEN", ""},
                                  {"DEVX_CLOUDFLARE_API_URL", "http://127.0.0.1:1/client/v4"}});
  BusyPort busy;
  const std::string port = std::to_string(busy.port());
  const Project project = scratch.project(
      "name: shop\n"
      "domain: example.com\n"
      "services:\n"
      "  - name: api\n    command: [\"true\"]\n    port: " +
      port +
      "\n"
      "tunnels:\n"
      "  - name: web\n    port: " +
      port +
      "\n    basic_auth: alice:s3cret\n    throttle: 3g\n"
      "  - port: 9999\n");
  const UpPlan plan = plan_up(*context, project);
  ASSERT_EQ(plan.tunnels.size(), 2U);
  const auto& web = plan.tunnels[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.hostname, "web-shop.example.com");
  EXPECT_EQ(web.service, "api");
  ASSERT_TRUE(plan.nodes[0].port);
  EXPECT_EQ(web.port, *plan.nodes[0].port);  // the route follows the shifted node
  EXPECT_NE(web.port, busy.port());
  EXPECT_EQ(web.layers, (std::vector<std::string>{"throttle", "basic_auth"}));
  const auto& other = plan.tunnels[1];
  EXPECT_EQ(other.name, "port-9999");
  EXPECT_EQ(other.hostname, "port-9999-shop.example.com");
  EXPECT_EQ(other.service, "");
  EXPECT_EQ(other.port, 9999);
  EXPECT_TRUE(other.layers.empty());

  const std::string json = plan.to_json();
  EXPECT_NE(json.find("\"tunnels\":[{\"name\":\"web\",\"service\":\"api\",\"hostname\":"
                      "\"web-shop.example.com\""),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"service\":null,\"hostname\":\"port-9999-shop.example.com\""),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("s3cret"), std::string::npos) << json;

  // DEVX_TUNNEL_ZONE wins over `domain:`, as at `up`.
  auto zoned = scratch.context({{"DEVX_TUNNEL_ZONE", "mycompany.co.uk"}});
  EXPECT_EQ(plan_up(*zoned, project).tunnels.at(1).hostname, "port-9999-shop.mycompany.co.uk");
}

TEST(Plan, TunnelsWithoutAZoneAreListedWithoutHostnamesAndWarned) {
  test::Scratch scratch;
  auto context = scratch.context({{"DEVX_TUNNEL_ZONE", ""}});
  Project project = scratch.project(
      "name: shop\n"
      "services:\n"
      "  - name: api\n    command: [\"true\"]\n"
      "tunnels:\n"
      "  - name: web\n    port: 8080\n");
  project.domain.clear();  // the loader defaults it; a Project built by hand may have none
  const UpPlan plan = plan_up(*context, project);
  ASSERT_EQ(plan.tunnels.size(), 1U);
  EXPECT_EQ(plan.tunnels[0].hostname, "");
  EXPECT_NE(plan.to_json().find("\"hostname\":null"), std::string::npos);
  ASSERT_FALSE(plan.warnings.empty());
  EXPECT_NE(plan.warnings.back().find("no zone"), std::string::npos) << plan.warnings.back();
}

TEST(Plan, AProjectWithoutTunnelsHasNoTunnelsKey) {
  test::Scratch scratch;
  auto context = scratch.context();
  const Project project =
      scratch.project("name: shop\nservices:\n  - name: api\n    command: [\"true\"]\n");
  const UpPlan plan = plan_up(*context, project);
  EXPECT_TRUE(plan.tunnels.empty());
  EXPECT_EQ(plan.to_json().find("\"tunnels\""), std::string::npos);
}

TEST(Plan, SubstitutePortOnlyTouchesLocalTargets) {
  using orchestrator::substitute_port;
  EXPECT_EQ(substitute_port("http://127.0.0.1:80/x", 80, 81), "http://127.0.0.1:81/x");
  EXPECT_EQ(substitute_port("http://localhost:8080/x", 80, 81), "http://localhost:8080/x");
  EXPECT_EQ(substitute_port("http://example.com:80/x", 80, 81), "http://example.com:80/x");
  EXPECT_EQ(substitute_port("localhost:80", 80, 81), "localhost:81");
  EXPECT_EQ(substitute_port("http://127.0.0.1:${PORT}/", 80, 81), "http://127.0.0.1:81/");
}

TEST(Plan, RunKeyIsStablePerRootFile) {
  Project a;
  a.name = "shop";
  a.root_file = "/src/shop/devx.yaml";
  Project b = a;
  b.root_file = "/src/other/devx.yaml";
  const auto key = orchestrator::run_key(a);
  EXPECT_EQ(key.size(), std::string("shop-").size() + 8);
  EXPECT_EQ(key, orchestrator::run_key(a));
  EXPECT_NE(key, orchestrator::run_key(b));
}

}  // namespace
}  // namespace devx
