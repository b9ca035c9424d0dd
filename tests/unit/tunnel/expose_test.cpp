// Exposures end to end: the library against the fake Cloudflare API over real loopback HTTP and
// the fake cloudflared as a detached connector, with traffic through the connector's edge.
#include <devx/tunnel.hpp>

#include <gmock/gmock.h>
#include <sys/stat.h>

#include "tunnel/records.hpp"
#include "tunnel_fixture.hpp"

namespace devx {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using test::slurp;
using test::wait_until;
using ::testing::HasSubstr;

class Expose : public test::TunnelWorld {
 protected:
  json::object expose(Context& ctx, TunnelExposeOptions options) {
    if (options.zone.empty() && options.domain.empty()) options.zone = "example.com";
    return json::parse(start_tunnel_expose(ctx, options).result()).as_object();
  }
  int connector_pid() const {
    const auto doc = json::parse(slurp(dir_ / "devx-home/tunnel/machine.json")).as_object();
    const auto& connector = doc.at("tunnel").at("connector");
    return connector.is_object() ? connector.at("pid").to_number<int>() : 0;
  }
  std::vector<std::string> cmdline(int pid) const {
    const std::string raw = slurp("/proc/" + std::to_string(pid) + "/cmdline");
    std::vector<std::string> words;
    std::string word;
    for (char c : raw) {
      if (c == '\0') {
        words.push_back(word);
        word.clear();
      } else {
        word.push_back(c);
      }
    }
    return words;
  }
};

TEST_F(Expose, ExposeListUnexposeLeavesNoRouteRecordOrDnsBehind) {
  auto ctx = context();
  const int port = start_origin("hello from origin");
  TunnelExposeOptions options;
  options.port = port;
  options.name = "api";
  const auto result = expose(*ctx, options);
  const auto& exposure = result.at("exposure").as_object();
  EXPECT_EQ(exposure.at("hostname").as_string(), "api.example.com");
  EXPECT_EQ(exposure.at("port").to_number<int>(), port);

  // Cloudflare: one tunnel, its ingress routes the hostname, a proxied CNAME to the tunnel.
  ASSERT_EQ(tunnels().size(), 1u);
  const std::string tunnel_id(tunnels()[0].at("id").as_string());
  EXPECT_THAT(std::string(tunnels()[0].at("name").as_string()),
              ::testing::StartsWith("devx-" + tunnel_machine_id(*ctx)));
  const auto rules = ingress_of(tunnel_id);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].at("hostname").as_string(), "api.example.com");
  EXPECT_EQ(rules[0].at("service").as_string(), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(rules[1].at("service").as_string(), "http_status:404");
  const auto records = dns_records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].at("type").as_string(), "CNAME");
  EXPECT_EQ(records[0].at("content").as_string(), tunnel_id + ".cfargotunnel.com");
  EXPECT_TRUE(records[0].at("proxied").as_bool());
  EXPECT_EQ(exposure.at("dns_record_id").as_string(), records[0].at("id").as_string());

  // Real traffic: edge → connector → remote ingress → origin.
  const std::string edge = edge_of(tunnel_id);
  ASSERT_FALSE(edge.empty());
  const auto response = through_edge(*ctx, edge, "api.example.com");
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.body, HasSubstr("hello from origin"));

  // list/status come from the records, with the connector's liveness.
  const auto status = json::parse(tunnel_status(*ctx)).as_object();
  ASSERT_EQ(status.at("exposures").as_array().size(), 1u);
  const auto& listed = status.at("exposures").as_array()[0].as_object();
  EXPECT_EQ(listed.at("url").as_string(), "https://api.example.com");
  EXPECT_EQ(listed.at("connector").as_string(), "running");
  EXPECT_EQ(listed.at("owner").at("machine_id").as_string(), tunnel_machine_id(*ctx));

  const int pid = connector_pid();
  ASSERT_GT(pid, 0);
  TunnelUnexposeOptions unexpose;
  unexpose.target = "api.example.com";
  const auto removed = json::parse(tunnel_unexpose(*ctx, unexpose)).as_object();
  EXPECT_EQ(removed.at("removed").as_array().size(), 1u);
  EXPECT_EQ(ingress_of(tunnel_id).size(), 1u);  // only the catch-all
  EXPECT_TRUE(dns_records().empty());
  EXPECT_TRUE(json::parse(tunnel_status(*ctx)).at("exposures").as_array().empty());
  EXPECT_FALSE(fs::exists(dir_ / "devx-home/tunnel/exposures/api.example.com.json"));
  // No route left: the connector is stopped, the tunnel kept for the next time.
  EXPECT_TRUE(wait_until([&] { return !core::process_alive(pid, 0); }));
  EXPECT_EQ(tunnels().size(), 1u);
}

TEST_F(Expose, RerunsReuseTheMachineTunnel) {
  auto ctx = context();
  const int port = start_origin("x");
  for (const char* name : {"one", "two"}) {
    TunnelExposeOptions options;
    options.port = port;
    options.name = name;
    expose(*ctx, options);
  }
  const int pid = connector_pid();
  TunnelUnexposeOptions all;
  all.all = true;
  tunnel_unexpose(*ctx, all);
  EXPECT_TRUE(wait_until([&] { return !core::process_alive(pid, 0); }));
  // A new context (a new devx process) after everything was unexposed.
  auto again = context();
  TunnelExposeOptions options;
  options.port = port;
  options.name = "three";
  expose(*again, options);
  EXPECT_EQ(requests("POST", "/cfd_tunnel").size(), 1u);
  EXPECT_EQ(tunnels().size(), 1u);
  EXPECT_EQ(ingress_of(std::string(tunnels()[0].at("id").as_string())).size(), 2u);
}

TEST_F(Expose, ExposingTheSameHostnameAgainUpdatesTheRoute) {
  auto ctx = context();
  TunnelExposeOptions options;
  options.port = start_origin("first");
  options.name = "api";
  expose(*ctx, options);
  options.port = start_origin("second");
  expose(*ctx, options);
  const std::string tunnel_id(tunnels()[0].at("id").as_string());
  const auto rules = ingress_of(tunnel_id);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].at("service").as_string(), "http://127.0.0.1:" + std::to_string(options.port));
  EXPECT_EQ(dns_records().size(), 1u);
  EXPECT_THAT(through_edge(*ctx, edge_of(tunnel_id), "api.example.com").body, HasSubstr("second"));
}

TEST_F(Expose, ConnectorGetsTheTokenThroughTheEnvironmentOnly) {
  auto ctx = context();
  TunnelExposeOptions options;
  options.port = start_origin("x");
  options.name = "api";
  expose(*ctx, options);
  const int pid = connector_pid();
  ASSERT_GT(pid, 0);
  // The connector token (base64 JSON with the tunnel secret) is in the connector's environment.
  const std::string environment = slurp("/proc/" + std::to_string(pid) + "/environ");
  const auto token_at = environment.find("TUNNEL_TOKEN=");
  ASSERT_NE(token_at, std::string::npos);
  const std::string tunnel_token =
      environment.substr(token_at + 13, environment.find('\0', token_at) - token_at - 13);
  ASSERT_FALSE(tunnel_token.empty());
  for (const auto& word : cmdline(pid)) {
    EXPECT_THAT(word, ::testing::Not(HasSubstr(tunnel_token)));
    EXPECT_THAT(word, ::testing::Not(HasSubstr(token)));
  }
  EXPECT_THAT(slurp(dir_ / "fake.log"), ::testing::Not(HasSubstr(tunnel_token)));
  // No file under DEVX_HOME that others may read holds either secret.
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "devx-home")) {
    if (!entry.is_regular_file()) continue;
    const std::string text = slurp(entry.path());
    if (text.find(tunnel_token) == std::string::npos && text.find(token) == std::string::npos)
      continue;
    struct stat st {};
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << entry.path() << " holds a secret";
  }
}

TEST_F(Expose, BadInputIsRejectedBeforeAnythingIsCreated) {
  auto ctx = context();
  const auto rejects = [&](TunnelExposeOptions options) {
    if (options.zone.empty() && options.domain.empty()) options.zone = "example.com";
    try {
      start_tunnel_expose(*ctx, options).result();
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.message();
    }
  };
  TunnelExposeOptions base;
  base.port = 8080;
  auto o = base;
  o.port = 0;
  rejects(o);
  o.port = 70000;
  rejects(o);
  o = base;
  o.throttle = "4g";
  rejects(o);
  o = base;
  o.basic_auth = "no-colon";
  rejects(o);
  o = base;
  o.zone = "mycompany.co.uk";
  o.domain = "api.othercompany.co.uk";
  rejects(o);
  o = base;
  o.name = "!!!";
  rejects(o);
  o = base;
  o.zone = "";
  o.domain = "";
  try {
    TunnelExposeOptions no_zone = base;
    start_tunnel_expose(*ctx, no_zone).result();
    ADD_FAILURE() << "accepted without a zone";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  }
  EXPECT_TRUE(requests().empty());
  EXPECT_FALSE(fs::exists(dir_ / "devx-home/tunnel/exposures"));
}

TEST_F(Expose, HostnamesStayInsideTheGivenZone) {
  auto ctx = context();
  TunnelExposeOptions options;
  options.port = start_origin("x");
  options.name = "API";
  options.zone = "mycompany.co.uk";
  const auto result = expose(*ctx, options);
  EXPECT_EQ(result.at("exposure").at("hostname").as_string(), "api.mycompany.co.uk");
  EXPECT_EQ(dns_records()[0].at("name").as_string(), "api.mycompany.co.uk");

  TunnelExposeOptions by_domain;
  by_domain.port = options.port;
  by_domain.domain = "Shop.Staging.MyCompany.co.uk";
  const auto second = expose(*ctx, by_domain);
  EXPECT_EQ(second.at("exposure").at("hostname").as_string(), "shop.staging.mycompany.co.uk");
  EXPECT_EQ(second.at("exposure").at("zone").as_string(), "mycompany.co.uk");
}

TEST_F(Expose, ForeignDnsRecordsAreAConflictAndNothingIsLeftBehind) {
  auto ctx = context();
  TunnelExposeOptions options;
  options.port = start_origin("x");
  options.name = "www";
  expose(*ctx, options);  // the tunnel exists from here on
  const std::string tunnel_id(tunnels()[0].at("id").as_string());
  // Someone's A record on the name we want next.
  edit_api_state([](json::object& state) {
    const std::string zone_id(state.at("zones").as_array()[0].at("id").as_string());
    state["dns_records"].as_object()[zone_id].as_array().push_back(
        json::object{{"id", "0123456789abcdef0123456789abcdef"},
                     {"type", "A"},
                     {"name", "api.example.com"},
                     {"content", "192.0.2.10"},
                     {"ttl", 1},
                     {"proxied", false}});
  });
  options.name = "api";
  try {
    expose(*ctx, options);
    FAIL() << "a foreign record was overwritten";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_THAT(e.details_json(), HasSubstr("192.0.2.10"));
  }
  EXPECT_EQ(ingress_of(tunnel_id).size(), 2u);  // www + catch-all: the api rule was rolled back
  EXPECT_FALSE(fs::exists(dir_ / "devx-home/tunnel/exposures/api.example.com.json"));
  EXPECT_EQ(dns_records().size(), 2u);
}

TEST_F(Expose, DryRunCallsNothingAndReturnsThePlan) {
  auto ctx = context(/*dry_run=*/true);
  TunnelExposeOptions options;
  options.port = 8080;
  options.name = "api";
  const auto plan = expose(*ctx, options);
  EXPECT_TRUE(plan.at("dry_run").as_bool());
  std::vector<std::string> calls;
  for (const auto& a : plan.at("actions").as_array()) {
    const auto& action = a.as_object();
    if (action.at("kind") == "http")
      calls.push_back(std::string(action.at("method").as_string()) + " " +
                      std::string(action.at("url").as_string()));
    if (action.at("kind") == "command") {
      EXPECT_THAT(json::serialize(action.at("argv")), HasSubstr("cloudflared"));
    }
  }
  EXPECT_THAT(calls, ::testing::Contains(HasSubstr("POST " + api_url_ + "/accounts/")));
  EXPECT_THAT(calls, ::testing::Contains(HasSubstr("PUT ")));
  EXPECT_THAT(calls, ::testing::Contains(HasSubstr("/dns_records")));
  EXPECT_THAT(json::serialize(plan), ::testing::Not(HasSubstr(token)));
  EXPECT_TRUE(requests().empty());
  EXPECT_FALSE(fs::exists(dir_ / "fake.log"));  // cloudflared never ran
  EXPECT_FALSE(fs::exists(dir_ / "devx-home/tunnel/exposures"));
}

TEST_F(Expose, UnexposeOfAnUnknownNameIsNotFound) {
  auto ctx = context();
  TunnelUnexposeOptions options;
  options.target = "nope.example.com";
  try {
    tunnel_unexpose(*ctx, options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST_F(Expose, RouteTableChangesWithoutRestartingTheConnector) {
  auto ctx = context();
  TunnelExposeOptions options;
  options.port = start_origin("a");
  options.name = "a";
  expose(*ctx, options);
  const int pid = connector_pid();
  options.port = start_origin("b");
  options.name = "b";
  expose(*ctx, options);
  EXPECT_EQ(connector_pid(), pid);
  TunnelUnexposeOptions unexpose;
  unexpose.target = "a.example.com";
  tunnel_unexpose(*ctx, unexpose);
  EXPECT_EQ(connector_pid(), pid);
  EXPECT_TRUE(core::process_alive(pid, 0));
  const std::string tunnel_id(tunnels()[0].at("id").as_string());
  EXPECT_EQ(through_edge(*ctx, edge_of(tunnel_id), "a.example.com").status, 404);
  EXPECT_THAT(through_edge(*ctx, edge_of(tunnel_id), "b.example.com").body, HasSubstr("b|"));
}

TEST_F(Expose, AuthAndThrottleProxiesBothSitInFrontOfTheRoute) {
  auto ctx = context();
  TunnelExposeOptions options;
  options.port = start_origin("guarded");
  options.name = "secure";
  options.zone = "example.com";
  options.basic_auth = "alice:s3cret:pw";
  options.throttle = "3g";
  auto op = start_tunnel_expose(*ctx, options);
  json::object exposure;
  while (exposure.empty()) {
    const auto next = op.next_event(std::chrono::seconds(30));
    ASSERT_EQ(next.status, NextEvent::Status::event) << "no exposed event";
    if (next.event.type == EventType::state && !next.event.data_json.empty())
      exposure = json::parse(next.event.data_json).at("exposure").as_object();
  }
  const auto& proxies = exposure.at("proxies").as_array();
  ASSERT_EQ(proxies.size(), 2u);
  EXPECT_EQ(proxies[0].at("kind").as_string(), "throttle");
  EXPECT_EQ(proxies[1].at("kind").as_string(), "basic_auth");
  EXPECT_NE(exposure.at("service").as_string(), "http://127.0.0.1:" + std::to_string(options.port));
  EXPECT_THAT(json::serialize(exposure), ::testing::Not(HasSubstr("s3cret")));

  const std::string tunnel_id(tunnels()[0].at("id").as_string());
  const std::string edge = edge_of(tunnel_id);
  EXPECT_EQ(through_edge(*ctx, edge, "secure.example.com").status, 401);
  // base64("alice:s3cret:pw")
  const auto ok = through_edge(*ctx, edge, "secure.example.com",
                               {{"Authorization", "Basic YWxpY2U6czNjcmV0OnB3"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(ok.body, HasSubstr("guarded|auth=None"));  // the credentials stop at the proxy

  op.cancel();
  op.wait();
  EXPECT_EQ(ingress_of(tunnel_id).size(), 1u);
  EXPECT_TRUE(dns_records().empty());
  EXPECT_TRUE(json::parse(tunnel_status(*ctx)).at("exposures").as_array().empty());
}

TEST_F(Expose, ADeadConnectorIsRestartedByTheNextExpose) {
  auto ctx = context();
  TunnelExposeOptions options;
  options.port = start_origin("x");
  options.name = "a";
  expose(*ctx, options);
  const int first = connector_pid();
  ASSERT_GT(first, 0);
  ::kill(first, SIGKILL);
  ASSERT_TRUE(wait_until([&] { return !core::process_alive(first, 0); }));
  EXPECT_EQ(json::parse(tunnel_status(*ctx)).at("exposures").as_array()[0].at("connector"),
            "stopped");
  options.name = "b";
  expose(*ctx, options);
  const int second = connector_pid();
  EXPECT_NE(second, first);
  EXPECT_TRUE(core::process_alive(second, 0));
  EXPECT_EQ(requests("POST", "/cfd_tunnel").size(), 1u);
}

TEST_F(Expose, AMissingCloudflaredIsReportedAndTheRouteIsNotLeftBehind) {
  auto ctx = context(false, {{"PATH", "/usr/bin:/bin"}});
  TunnelExposeOptions options;
  options.port = 8080;
  options.name = "api";
  options.cloudflare.cloudflared = "cloudflared-not-installed";
  try {
    expose(*ctx, options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_not_found);
  }
  EXPECT_TRUE(dns_records().empty());
  EXPECT_EQ(ingress_of(std::string(tunnels()[0].at("id").as_string())).size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "devx-home/tunnel/exposures/api.example.com.json"));
}

TEST(TunnelNames, LabelsAreSanitised) {
  EXPECT_EQ(tunnel_dns_label("My_App.v2"), "my-app-v2");
  EXPECT_EQ(tunnel_dns_label("  api  "), "api");
  EXPECT_EQ(tunnel_dns_label("a+b c"), "a-b-c");
  EXPECT_EQ(tunnel_dns_label(std::string(80, 'x')).size(), 63u);
  EXPECT_THROW(tunnel_dns_label("___"), Error);
}

}  // namespace
}  // namespace devx
