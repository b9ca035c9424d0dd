// Options, credentials and the basic-auth proxy in front of a real upstream.
#include <devx/edge.hpp>

#include <gtest/gtest.h>

#include <set>

#include "edge/edge_internal.hpp"
#include "edge_test_util.hpp"
#include "http_fixture.hpp"

namespace devx::edge_test {
namespace {

TEST(BasicAuthCredentials, SplitAtTheFirstColon) {
  const auto credentials = parse_basic_auth("alice:pa:ss:word");
  EXPECT_EQ(credentials.user, "alice");
  EXPECT_EQ(credentials.password, "pa:ss:word");
  EXPECT_EQ(parse_basic_auth("bob:").password, "");
}

TEST(BasicAuthCredentials, MalformedAreInvalidArguments) {
  for (const char* text : {"alice", ":secret", ""}) {
    try {
      parse_basic_auth(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::invalid_argument);
      EXPECT_FALSE(error.hint().empty());
      if (std::string(text).size() > 1) {
        EXPECT_EQ(error.message().find(std::string(text).substr(1)), std::string::npos)
            << "the credentials must not be echoed";
      }
    }
  }
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(edge::constant_time_equal("secret", "secret"));
  EXPECT_TRUE(edge::constant_time_equal("", ""));
  EXPECT_FALSE(edge::constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(edge::constant_time_equal("secret", "secret2"));  // a longer guess
  EXPECT_FALSE(edge::constant_time_equal("secret", "secre"));    // a prefix
  EXPECT_FALSE(edge::constant_time_equal("", "x"));
  // Same bytes where the shorter one wraps into zeros: lengths still differ.
  EXPECT_FALSE(edge::constant_time_equal(std::string_view("a\0", 2), "a"));
}

TEST(BasicAuthMatches, OnlyTheExactCredentialsPass) {
  const BasicAuthCredentials expected{"alice", "s3:cret"};
  EXPECT_TRUE(edge::basic_auth_matches(expected, basic_authorization("alice", "s3:cret")));
  std::string lower_scheme = basic_authorization("alice", "s3:cret");
  lower_scheme.replace(0, 5, "basic");
  EXPECT_TRUE(edge::basic_auth_matches(expected, lower_scheme));
  EXPECT_FALSE(edge::basic_auth_matches(expected, basic_authorization("alice", "s3:creT")));
  EXPECT_FALSE(edge::basic_auth_matches(expected, basic_authorization("alicE", "s3:cret")));
  EXPECT_FALSE(edge::basic_auth_matches(expected, basic_authorization("alic", "s3:cret")));
  EXPECT_FALSE(edge::basic_auth_matches(expected, basic_authorization("alice", "s3:cret!")));
  EXPECT_FALSE(edge::basic_auth_matches(expected, ""));
  EXPECT_FALSE(edge::basic_auth_matches(expected, "Basic"));
  EXPECT_FALSE(edge::basic_auth_matches(expected, "Basic !!!not-base64"));
  EXPECT_FALSE(edge::basic_auth_matches(expected, "Bearer YWxpY2U6czM6Y3JldA=="));
  EXPECT_FALSE(edge::basic_auth_matches(expected, "Basic YWxpY2U="));  // "alice", no ':'
}

TEST(ThrottleProfiles, MatchTheDocumentedLinks) {
  using namespace std::chrono_literals;
  const auto g3 = throttle_profile("3g");
  EXPECT_EQ(g3.latency, 200ms);
  EXPECT_EQ(g3.jitter, 50ms);
  EXPECT_EQ(g3.bytes_per_second, 250 * 1024);
  EXPECT_EQ(throttle_profile("edge").bytes_per_second, 50 * 1024);
  EXPECT_EQ(throttle_profile("edge").latency, 400ms);
  EXPECT_EQ(throttle_profile("slow").jitter, 200ms);
  EXPECT_EQ(throttle_profile("slow").bytes_per_second, 10 * 1024);
  EXPECT_EQ(throttle_profile_names(), (std::vector<std::string>{"3g", "edge", "slow"}));
  try {
    throttle_profile("4g");
    ADD_FAILURE();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid_argument);
    EXPECT_NE(error.details_json().find("\"supported\""), std::string::npos);
  }
}

TEST(EdgeProxyOptions, InvalidOptionsFailBeforeAnythingListens) {
  Scratch scratch;
  auto context = scratch.context();
  auto expect_invalid = [&](EdgeProxyOptions options) {
    EXPECT_EQ(error_code_of([&] { start_edge_proxy(*context, options); }),
              ErrorCode::invalid_argument);
  };
  expect_invalid(EdgeProxyOptions{});  // no target
  expect_invalid(EdgeProxyOptions{.target_port = 70000});
  expect_invalid(EdgeProxyOptions{.target_port = 8080, .listen_port = -1});
  expect_invalid(EdgeProxyOptions{.target_port = 8080, .bind = "localhost"});
  expect_invalid(EdgeProxyOptions{.target_port = 8080, .throttle = "4g"});
  expect_invalid(EdgeProxyOptions{.target_port = 8080, .basic_auth = BasicAuthCredentials{}});
  expect_invalid(EdgeProxyOptions{
      .target_port = 8080, .inspect = true, .inspect_options = {.session = "../escape"}});
  EXPECT_FALSE(std::filesystem::exists(scratch.home() / "inspect"));
}

TEST(EdgeProxyOptions, ATakenListenPortIsPortInUse) {
  Scratch scratch;
  auto context = scratch.context();
  Upstream upstream;
  auto first = start_edge_proxy(*context, {.target_port = upstream.port()});
  EXPECT_EQ(error_code_of([&] {
              start_edge_proxy(*context,
                               {.target_port = upstream.port(), .listen_port = first.port()});
            }),
            ErrorCode::port_in_use);
  // Nothing is left behind by a chain that could not listen.
  EXPECT_EQ(error_code_of([&] {
              start_edge_proxy(*context, {.target_port = upstream.port(),
                                          .listen_port = first.port(),
                                          .inspect = true,
                                          .inspect_options = {.session = "never"}});
            }),
            ErrorCode::port_in_use);
  EXPECT_FALSE(std::filesystem::exists(scratch.home() / "inspect" / "never"));
}

TEST(EdgeProxyOptions, DryRunListensNowhereAndReturnsThePlan) {
  Scratch scratch;
  auto context = scratch.context(/*dry_run=*/true);
  auto proxy = start_edge_proxy(*context, {.target_port = 8080,
                                           .basic_auth = BasicAuthCredentials{"a", "b"},
                                           .throttle = "3g",
                                           .inspect = true,
                                           .inspect_options = {.session = "plan"}});
  EXPECT_EQ(proxy.port(), 0);
  const auto plan = parse(proxy.operation().result());
  EXPECT_EQ(plan.at("dry_run"), true);
  const auto& actions = plan.at("actions").as_array();
  ASSERT_EQ(actions.size(), 2U);
  EXPECT_EQ(actions[0].at("layer"), "throttle");
  EXPECT_EQ(actions[1].at("layer"), "http");
  EXPECT_EQ(actions[1].at("target_port"), 8080);
  EXPECT_EQ(plan.at("session"), "plan");
  EXPECT_FALSE(std::filesystem::exists(scratch.home() / "inspect"));
  const std::string text = edge_proxy_plan(
      *context, {.target_port = 8080, .basic_auth = BasicAuthCredentials{"a", "b"}});
  EXPECT_EQ(text.find("\"b\""), std::string::npos) << "no password in a plan";
}

class AuthProxy : public ::testing::Test {
 protected:
  Scratch scratch;
  std::unique_ptr<Context> context = scratch.context();
  Upstream upstream;
  EdgeProxy proxy = start_edge_proxy(
      *context,
      {.target_port = upstream.port(), .basic_auth = BasicAuthCredentials{"alice", "s3:cret"}});
};

TEST_F(AuthProxy, RejectsMissingAndWrongCredentialsWithAChallenge) {
  Client client(proxy.port());
  for (const Headers& headers :
       {Headers{}, Headers{{"Authorization", basic_authorization("alice", "wrong")}},
        Headers{{"Authorization", basic_authorization("mallory", "s3:cret")}},
        Headers{{"Authorization", "Basic %%%"}}}) {
    const auto response = client.request("GET", "/private", headers);
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(header_value(response.headers, "WWW-Authenticate"),
              "Basic realm=\"devx\", charset=\"UTF-8\"");
    EXPECT_EQ(response.body, "Unauthorized\n");
    EXPECT_EQ(header_value(response.headers, "Content-Type"), "text/plain; charset=utf-8");
  }
  EXPECT_FALSE(client.closed_by_server()) << "a rejected request keeps the connection";
  EXPECT_TRUE(upstream.requests().empty());
  const auto status = parse(proxy.status());
  EXPECT_EQ(status.at("stats").at("rejected"), 4);
}

TEST_F(AuthProxy, PassesAuthenticatedRequestsWithoutTheAuthorizationHeader) {
  Client client(proxy.port());
  const Headers headers{{"Authorization", basic_authorization("alice", "s3:cret")},
                        {"X-Trace", "t-1"}};
  const auto response = client.request("GET", "/hello?x=1", headers);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok GET /hello?x=1");
  const auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_FALSE(has_header(seen[0].headers, "Authorization"));
  EXPECT_EQ(header_value(seen[0].headers, "X-Trace"), "t-1");
  EXPECT_EQ(header_value(seen[0].headers, "Host"), "edge.test");
  EXPECT_EQ(header_value(seen[0].headers, "X-Forwarded-For"), "127.0.0.1");
}

TEST_F(AuthProxy, KeepsConnectionsAliveBothWays) {
  Client client(proxy.port());
  const Headers headers{{"Authorization", basic_authorization("alice", "s3:cret")}};
  for (int i = 0; i < 20; ++i) {
    const auto response = client.request("POST", "/upload", headers, std::string(1000 + i, 'x'));
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(response.body,
              std::to_string(1000 + i) + " " + sha256_hex(std::string(1000 + i, 'x')));
  }
  EXPECT_FALSE(client.closed_by_server());
  EXPECT_EQ(upstream.connections(), 1) << "one upstream connection for the client's requests";
  EXPECT_EQ(parse(proxy.status()).at("stats").at("connections"), 1);
}

TEST_F(AuthProxy, StreamsLargeBodiesBothWays) {
  Client client(proxy.port());
  const Headers headers{{"Authorization", basic_authorization("alice", "s3:cret")}};
  const std::string body = pattern_bytes(8 * 1024 * 1024);
  const auto uploaded = client.request("PUT", "/upload", headers, body);
  EXPECT_EQ(uploaded.body, std::to_string(body.size()) + " " + sha256_hex(body));
  const auto downloaded = client.request("GET", "/download?bytes=8388608", headers);
  EXPECT_EQ(sha256_hex(downloaded.body), sha256_hex(body));
}

TEST_F(AuthProxy, ReframesABodyThatEndsWithTheConnection) {
  Client client(proxy.port());
  const Headers headers{{"Authorization", basic_authorization("alice", "s3:cret")}};
  const auto response = client.request("GET", "/until-close?bytes=100000", headers);
  EXPECT_EQ(response.body, pattern_bytes(100000));
  EXPECT_EQ(header_value(response.headers, "Transfer-Encoding"), "chunked");
  // The client's connection survives the upstream one.
  EXPECT_EQ(client.request("GET", "/after", headers).body, "ok GET /after");
}

TEST_F(AuthProxy, PassesWebSocketUpgradesOnlyAfterAuthentication) {
  EXPECT_THROW(websocket_echo(proxy.port(), {"hi"}), std::runtime_error);
  const auto echoes = websocket_echo(proxy.port(), {"hello", std::string(100000, 'w')},
                                     {{"Authorization", basic_authorization("alice", "s3:cret")}});
  ASSERT_EQ(echoes.size(), 2U);
  EXPECT_EQ(echoes[0], "hello");
  EXPECT_EQ(echoes[1], std::string(100000, 'w'));
}

TEST(EdgeProxyTarget, AnUnreachableTargetIsBadGateway) {
  Scratch scratch;
  auto context = scratch.context();
  int free_port = 0;
  {
    Upstream temporary;  // a port that was just free and is free again
    free_port = temporary.port();
  }
  auto proxy = start_edge_proxy(
      *context, {.target_port = free_port, .basic_auth = BasicAuthCredentials{"a", "b"}});
  Client client(proxy.port());
  const auto response =
      client.request("GET", "/", {{"Authorization", basic_authorization("a", "b")}});
  EXPECT_EQ(response.status, 502);
  EXPECT_NE(response.body.find("127.0.0.1:" + std::to_string(free_port)), std::string::npos);
  EXPECT_EQ(parse(proxy.status()).at("stats").at("upstream_errors"), 1);
}

TEST_F(AuthProxy, StopIsPromptAndIdempotent) {
  Client client(proxy.port());
  ASSERT_EQ(client.request("GET", "/", {{"Authorization", basic_authorization("alice", "s3:cret")}})
                .status,
            200);
  proxy.stop();
  proxy.stop();
  EXPECT_TRUE(proxy.operation().done());
  EXPECT_EQ(error_code_of([&] { proxy.operation().result(); }), ErrorCode::cancelled);
  EXPECT_TRUE(client.closed_by_server());
}

// Found by fuzz/fuzz_net_text.cpp: names and profiles that are not UTF-8 were echoed into error
// messages and JSON details as they were, which made the details invalid JSON.
TEST(EdgeProxyOptions, ErrorsQuoteBadBytesAsReplacementCharacters) {
  try {
    edge::validate_session_name("20261\xb2");
    ADD_FAILURE();
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("20261\uFFFD"), std::string::npos) << error.message();
  }
  try {
    throttle_profile("3g\xff");
    ADD_FAILURE();
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("3g\uFFFD"), std::string::npos) << error.message();
    EXPECT_EQ(boost::json::parse(error.details_json()).at("profile"), "3g\uFFFD");
  }
}

}  // namespace
}  // namespace devx::edge_test
