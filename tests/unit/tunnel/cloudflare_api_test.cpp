// The Cloudflare API client against the fake API over loopback HTTP: envelopes, error codes,
// pagination and URL-encoding.
#include <devx/tunnel.hpp>

#include <gmock/gmock.h>

#include "tunnel/cloudflare_api.hpp"
#include "tunnel_fixture.hpp"

namespace devx {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using ::testing::HasSubstr;
using tunnel::CloudflareApi;

class NoWaitClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  bool sleep_for(std::chrono::nanoseconds, std::stop_token) const override { return true; }
};

class Api : public test::TunnelWorld {
 protected:
  CloudflareApi api(Context& ctx, CloudflareSettings settings = {}) {
    return CloudflareApi(ctx, tunnel::resolve_cloudflare(ctx, settings));
  }
  std::string zone_id(std::string_view name) {
    const auto state = api_state();
    for (const auto& z : state.at("zones").as_array())
      if (z.at("name").as_string() == name) return std::string(z.at("id").as_string());
    return {};
  }
};

TEST_F(Api, AnInvalidTokenIsPermissionDeniedWithTheCloudflareCode) {
  auto ctx = context(false, {{"CLOUDFLARE_API_TOKEN", "wrong"}});
  auto client = api(*ctx);
  try {
    client.list_zones();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::permission_denied);
    EXPECT_THAT(e.message(), HasSubstr("10000"));
    const auto details = json::parse(e.details_json()).as_object();
    EXPECT_EQ(details.at("status").to_number<int>(), 403);
    EXPECT_EQ(details.at("cloudflare_errors").as_array()[0].at("code").to_number<int>(), 10000);
    EXPECT_THAT(e.details_json(), ::testing::Not(HasSubstr("wrong")));
  }
  // The request carried the token as a Bearer header, never in the URL.
  EXPECT_THAT(requests()[0].at("raw_query").as_string(), ::testing::Not(HasSubstr("wrong")));
}

TEST_F(Api, ARecordThatExistsIsAConflictWithCode81053) {
  auto ctx = context();
  auto client = api(*ctx);
  const auto zone = zone_id("example.com");
  tunnel::DnsRecord record{"", "CNAME", "api.example.com", "x.cfargotunnel.com", true, 1, ""};
  client.create_dns_record(zone, record);
  try {
    client.create_dns_record(zone, record);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_THAT(e.details_json(), HasSubstr("81053"));
  }
}

TEST_F(Api, UpsertUpdatesTheExistingRecordOfTheSameType) {
  auto ctx = context();
  auto client = api(*ctx);
  const auto zone = zone_id("example.com");
  tunnel::DnsRecord record{"", "CNAME", "docs.example.com", "old.github.io", false, 1, ""};
  const auto first = client.upsert_dns_record(zone, record);
  record.content = "new.github.io";
  const auto second = client.upsert_dns_record(zone, record);
  EXPECT_EQ(first.id, second.id);
  const auto records = client.list_dns_records(zone, "CNAME", "docs.example.com");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].content, "new.github.io");
  client.delete_dns_record(zone, second.id);
  EXPECT_TRUE(client.list_dns_records(zone).empty());
}

TEST_F(Api, ANonJsonServerErrorIsAnHttpErrorWithItsStatus) {
  edit_api_state([](json::object& state) {
    state["fail"] = json::array{
        json::object{{"method", "GET"},
                     {"path", "^/zones$"},
                     {"status", 502},
                     {"times", 4},
                     {"raw", "<html><head><title>502 Bad Gateway</title></head></html>"}}};
  });
  auto ctx = context();
  ctx->set_clock(std::make_shared<NoWaitClock>());  // a GET's 502 is retried 3 times
  auto client = api(*ctx);
  try {
    client.list_zones();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::http);
    EXPECT_EQ(json::parse(e.details_json()).at("attempts").to_number<int>(), 4);
    EXPECT_THAT(e.message(), HasSubstr("502"));
    EXPECT_THAT(e.message(), HasSubstr("not JSON"));
    EXPECT_THAT(e.details_json(), HasSubstr("502 Bad Gateway"));
  }
  EXPECT_EQ(client.list_zones().size(), 2u);  // the failure was injected 4 times
}

TEST_F(Api, UnknownObjectsAreNotFound) {
  auto ctx = context();
  auto client = api(*ctx);
  try {
    client.list_dns_records("ffffffffffffffffffffffffffffffff");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_THAT(e.details_json(), HasSubstr("7003"));
  }
  EXPECT_FALSE(client.get_tunnel("6ff42ae2-765d-4adf-8112-31c55c1551ef").has_value());
}

TEST_F(Api, ListsFollowEveryPage) {
  edit_api_state([](json::object& state) {
    state["max_per_page"] = 2;
    auto& zones = state["zones"].as_array();
    const auto account = zones[0].at("account");
    for (int i = 0; i < 5; ++i) {
      zones.push_back(json::object{{"id", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + std::to_string(i)},
                                   {"name", "z" + std::to_string(i) + ".dev"},
                                   {"status", "active"},
                                   {"account", account}});
    }
  });
  auto ctx = context();
  auto client = api(*ctx);
  EXPECT_EQ(client.list_zones().size(), 7u);
  EXPECT_EQ(requests("GET", "/zones").size(), 4u);  // 2 + 2 + 2 + 1

  const auto zone = zone_id("example.com");
  for (int i = 0; i < 5; ++i) {
    client.create_dns_record(
        zone, {"", "TXT", "t" + std::to_string(i) + ".example.com", "v", false, 1, ""});
  }
  EXPECT_EQ(client.list_dns_records(zone, "TXT").size(), 5u);
  EXPECT_EQ(requests("GET", "/dns_records").size(), 3u);
}

TEST_F(Api, QueryValuesAreUrlEncoded) {
  auto ctx = context();
  auto client = api(*ctx);
  EXPECT_TRUE(client.list_zones("a+b c&d=e.example.com").empty());
  const auto sent = requests("GET", "/zones").back();
  EXPECT_EQ(sent.at("query").at("name").as_string(), "a+b c&d=e.example.com");
  EXPECT_THAT(sent.at("raw_query").as_string(), HasSubstr("name=a%2Bb%20c%26d%3De.example.com"));
  EXPECT_EQ(tunnel::url_encode("a+b c/é"), "a%2Bb%20c%2F%C3%A9");
}

TEST_F(Api, TheSingleAccountIsFoundAndSeveralNeedAnId) {
  auto ctx = context();
  auto client = api(*ctx);
  const std::string expected(api_state().at("accounts").as_array()[0].at("id").as_string());
  EXPECT_EQ(client.account_id(), expected);
  edit_api_state([](json::object& state) {
    state["accounts"].as_array().push_back(
        json::object{{"id", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}, {"name", "Other"}});
  });
  auto fresh = api(*ctx);
  try {
    fresh.account_id();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_THAT(e.hint(), HasSubstr("CLOUDFLARE_ACCOUNT_ID"));
  }
}

TEST_F(Api, TheTokenComesFromAnEnvSourceWhenTheEnvironmentHasNone) {
  const auto dotenv = dir_ / "project.env";
  std::ofstream(dotenv) << "CLOUDFLARE_API_TOKEN=" << token << "\n";
  auto ctx = context(false, {{"CLOUDFLARE_API_TOKEN", ""}});
  CloudflareSettings settings;
  settings.env_sources = {dotenv.string()};
  auto resolved = tunnel::resolve_cloudflare(*ctx, settings);
  EXPECT_EQ(resolved.api_token, token);
  EXPECT_EQ(CloudflareApi(*ctx, resolved).list_zones().size(), 2u);
}

TEST_F(Api, RemoteIngressRoundTripsWithTheCatchAllLast) {
  auto ctx = context();
  auto client = api(*ctx);
  const auto tunnel = client.create_tunnel("devx-test");
  EXPECT_TRUE(client.get_ingress(tunnel.id).empty());
  client.put_ingress(tunnel.id, {{"a.example.com", "http://127.0.0.1:1234"}});
  const auto rules = client.get_ingress(tunnel.id);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[1].service, "http_status:404");
  EXPECT_TRUE(rules[1].hostname.empty());
  EXPECT_FALSE(client.tunnel_token(tunnel.id).empty());
  try {
    client.create_tunnel("devx-test");
    FAIL() << "a duplicate tunnel name was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
}

}  // namespace
}  // namespace devx
