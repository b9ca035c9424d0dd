// The inspector: streaming any size, WebSockets, captures on disk, listing and replay; and chains
// of proxies.
#include <devx/edge.hpp>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "edge/edge_internal.hpp"
#include "edge_test_util.hpp"
#include "http_fixture.hpp"

namespace devx::edge_test {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 0777U;
}

// An exchange is recorded once its response has been relayed, so a client can see the answer a
// moment before the record exists: wait (bounded) until `count` are there.
void wait_for_captures(Context& context, const std::string& session, std::size_t count) {
  for (int i = 0; i < 1000; ++i) {
    try {
      if (parse(list_captures(context, session)).at("exchanges").as_array().size() >= count) return;
    } catch (const Error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "fewer than " << count << " exchanges recorded in " << session;
}

// Sends `bytes` as they are (the test client would re-frame a body) and returns everything the
// server answers until it closes the connection.
std::string raw_exchange(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char chunk[4096];
    for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) {
      answer.append(chunk, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

std::size_t occurrences(std::string_view text, std::string_view part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

class Inspector : public ::testing::Test {
 protected:
  EdgeProxy start(InspectOptions inspect = {.session = "s1"}) {
    return start_edge_proxy(
        *context, {.target_port = upstream.port(), .inspect = true, .inspect_options = inspect});
  }
  boost::json::array exchanges(const std::string& session = "s1", std::size_t expected = 1) {
    wait_for_captures(*context, session, expected);
    return parse(list_captures(*context, session)).at("exchanges").as_array();
  }

  Scratch scratch;
  std::unique_ptr<Context> context = scratch.context();
  Upstream upstream;
};

TEST_F(Inspector, FiftyMegabytesPassIntactBothWaysAndAreRecordedTruncated) {
  auto proxy = start();
  constexpr std::size_t size = 50 * 1024 * 1024;
  const std::string body = pattern_bytes(size);
  const std::string digest = sha256_hex(body);
  Client client(proxy.port());
  EXPECT_EQ(client.request("POST", "/upload", {}, body).body, std::to_string(size) + " " + digest);
  const auto downloaded = client.request("GET", "/download?bytes=" + std::to_string(size));
  EXPECT_EQ(downloaded.body.size(), size);
  EXPECT_EQ(sha256_hex(downloaded.body), digest);

  const auto listed = exchanges("s1", 2);
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].at("request_bytes"), size);
  EXPECT_EQ(listed[1].at("response_bytes"), size);
  const auto upload = parse(get_capture(*context, "s1", listed[0].at("id").as_string().c_str()));
  EXPECT_EQ(upload.at("request").at("body_truncated"), true);
  EXPECT_EQ(upload.at("request").at("body_bytes"), size);
  const fs::path dir = scratch.home() / "inspect" / "s1";
  EXPECT_EQ(fs::file_size(dir / "bodies" / "1.request"), InspectOptions{}.body_limit);
  EXPECT_EQ(fs::file_size(dir / "bodies" / "2.response"), InspectOptions{}.body_limit);
  // Captures can hold secrets: private files in a private directory.
  EXPECT_EQ(mode_of(dir), 0700U);
  EXPECT_EQ(mode_of(dir / "exchanges.jsonl"), 0600U);
  EXPECT_EQ(mode_of(dir / "bodies" / "1.request"), 0600U);
  EXPECT_EQ(mode_of(dir / "session.json"), 0600U);
}

TEST_F(Inspector, PassesWebSocketsThroughAndRecordsTheUpgrade) {
  auto proxy = start();
  const std::vector<std::string> messages{"ping", std::string(300000, 'z'), "pong"};
  EXPECT_EQ(websocket_echo(proxy.port(), messages), messages);
  const auto listed = exchanges();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].at("status"), 101);
  EXPECT_EQ(listed[0].at("websocket"), true);
  EXPECT_EQ(listed[0].at("url"), "/ws");
}

TEST_F(Inspector, RecordsExchangesAndReplaysOne) {
  auto proxy = start();
  Client client(proxy.port());
  const auto answer =
      client.request("POST", "/upload?kind=text", {{"X-Test", "1"}}, "hello inspector");
  ASSERT_EQ(answer.status, 200);
  client.request("PUT", "/upload", {}, std::string("\xff\xfe\x00\x01", 4));

  const auto listed = exchanges("s1", 2);
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].at("method"), "POST");
  EXPECT_EQ(listed[0].at("url"), "/upload?kind=text");
  EXPECT_EQ(listed[0].at("status"), 200);
  EXPECT_EQ(listed[0].at("host"), "edge.test");

  const auto first = parse(get_capture(*context, "s1", "1"));
  EXPECT_EQ(first.at("request").at("body"), "hello inspector");
  EXPECT_EQ(first.at("request").at("body_encoding"), "utf-8");
  EXPECT_EQ(first.at("response").at("body").as_string(), answer.body);
  EXPECT_EQ(first.at("response").at("status"), 200);
  bool has_test_header = false;
  for (const auto& pair : first.at("request").at("headers").as_array()) {
    has_test_header =
        has_test_header || (pair.as_array()[0] == "X-Test" && pair.as_array()[1] == "1");
  }
  EXPECT_TRUE(has_test_header);
  const auto binary = parse(get_capture(*context, "s1", "2"));
  EXPECT_EQ(binary.at("request").at("body_encoding"), "base64");
  EXPECT_EQ(binary.at("request").at("body"), "//4AAQ==");

  const auto replayed = parse(replay_capture(*context, "s1", "1"));
  EXPECT_EQ(replayed.at("response").at("status"), 200);
  EXPECT_EQ(replayed.at("response").at("body").as_string(), answer.body);
  const auto seen = upstream.requests();
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(seen[2].method, "POST");
  EXPECT_EQ(seen[2].target, "/upload?kind=text");
  EXPECT_EQ(seen[2].body_sha256, seen[0].body_sha256);
  EXPECT_EQ(header_value(seen[2].headers, "X-Test"), "1");

  // The operation reported each exchange as it was recorded.
  int exchange_events = 0;
  for (;;) {
    auto next = proxy.operation().next_event(std::chrono::milliseconds(0));
    if (next.status != NextEvent::Status::event) break;
    if (next.event.source == "inspect") ++exchange_events;
  }
  EXPECT_EQ(exchange_events, 2);
}

TEST_F(Inspector, ReplayIsPlannedInADryRun) {
  auto proxy = start();
  Client client(proxy.port());
  client.request("DELETE", "/items/7");
  wait_for_captures(*context, "s1", 1);
  auto dry = scratch.context(/*dry_run=*/true);
  const auto plan = parse(replay_capture(*dry, "s1", "1"));
  EXPECT_EQ(plan.at("dry_run"), true);
  EXPECT_EQ(plan.at("actions").as_array()[0].at("method"), "DELETE");
  EXPECT_EQ(plan.at("actions").as_array()[0].at("url").as_string(),
            "http://127.0.0.1:" + std::to_string(upstream.port()) + "/items/7");
  EXPECT_EQ(upstream.requests().size(), 1U);
}

TEST_F(Inspector, ARequestRecordedTruncatedIsNotReplayed) {
  auto proxy = start({.session = "s1", .body_limit = 16});
  Client client(proxy.port());
  client.request("POST", "/upload", {}, std::string(100, 'x'));
  wait_for_captures(*context, "s1", 1);
  EXPECT_EQ(error_code_of([&] { replay_capture(*context, "s1", "1"); }), ErrorCode::unsupported);
}

TEST_F(Inspector, UnknownSessionsAndExchangesAreNotFound) {
  EXPECT_EQ(error_code_of([&] { list_captures(*context, ""); }), ErrorCode::not_found);
  auto proxy = start();
  Client client(proxy.port());
  client.request("GET", "/");
  wait_for_captures(*context, "s1", 1);
  EXPECT_EQ(error_code_of([&] { list_captures(*context, "other"); }), ErrorCode::not_found);
  EXPECT_EQ(error_code_of([&] { get_capture(*context, "s1", "99"); }), ErrorCode::not_found);
  EXPECT_EQ(error_code_of([&] { list_captures(*context, "../s1"); }), ErrorCode::invalid_argument);
  // "" is the newest session.
  EXPECT_EQ(parse(list_captures(*context, "")).at("session"), "s1");
}

TEST_F(Inspector, SessionsAreListedAndRemoved) {
  {
    auto proxy = start({.session = "older"});
    Client client(proxy.port());
    client.request("GET", "/a");
    wait_for_captures(*context, "older", 1);
  }
  {
    auto proxy = start({.session = "newer"});
    Client client(proxy.port());
    client.request("GET", "/b");
    client.request("GET", "/c");
    wait_for_captures(*context, "newer", 2);
  }
  const auto sessions = parse(list_inspect_sessions(*context)).at("sessions").as_array();
  ASSERT_EQ(sessions.size(), 2U);
  EXPECT_EQ(sessions[1].at("session"), "older");
  EXPECT_EQ(sessions[1].at("exchanges"), 1);
  EXPECT_EQ(sessions[0].at("target_port"), upstream.port());

  auto dry = scratch.context(/*dry_run=*/true);
  EXPECT_EQ(parse(remove_inspect_session(*dry, "older")).at("removed"), false);
  EXPECT_TRUE(fs::exists(scratch.home() / "inspect" / "older"));
  EXPECT_EQ(parse(remove_inspect_session(*context, "older")).at("removed"), true);
  EXPECT_FALSE(fs::exists(scratch.home() / "inspect" / "older"));
  EXPECT_EQ(error_code_of([&] { remove_inspect_session(*context, "older"); }),
            ErrorCode::not_found);
}

TEST_F(Inspector, RelaysChunkedBodiesWithOneLastChunk) {
  auto proxy = start();
  const std::string upload =
      raw_exchange(proxy.port(),
                   "POST /upload HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n"
                   "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_TRUE(upload.starts_with("HTTP/1.1 200")) << upload;
  EXPECT_TRUE(upload.ends_with("\r\n\r\n11 " + sha256_hex("hello world"))) << upload;
  const auto received = upstream.requests();
  ASSERT_EQ(received.size(), 1U);
  EXPECT_EQ(received[0].body_bytes, 11U);

  // A response body that ends with the target's connection is re-framed as chunked.
  const std::string download =
      raw_exchange(proxy.port(),
                   "GET /until-close?bytes=1000 HTTP/1.1\r\nHost: edge.test\r\n"
                   "Connection: close\r\n\r\n");
  EXPECT_TRUE(download.ends_with("\r\n0\r\n\r\n")) << download;
  EXPECT_EQ(occurrences(download, "\r\n0\r\n\r\n"), 1U) << download;

  const auto listed = exchanges("s1", 2);
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].at("request_bytes"), 11);
  EXPECT_EQ(listed[1].at("response_bytes"), 1000);
}

TEST_F(Inspector, AReusedSessionContinuesItsNumbering) {
  for (int run = 0; run < 2; ++run) {
    auto proxy = start();
    Client client(proxy.port());
    client.request("GET", "/run" + std::to_string(run));
    wait_for_captures(*context, "s1", static_cast<std::size_t>(run) + 1);
  }
  const auto listed = exchanges("s1", 2);
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].at("id"), "1");
  EXPECT_EQ(listed[1].at("id"), "2");
  EXPECT_EQ(listed[1].at("url"), "/run1");
}

TEST(Chain, ThrottleThenAuthThenInspectorAsSeparateProxies) {
  Scratch scratch;
  auto context = scratch.context();
  Upstream upstream;
  auto inspector = start_edge_proxy(
      *context,
      {.target_port = upstream.port(), .inspect = true, .inspect_options = {.session = "chain"}});
  auto auth = start_edge_proxy(
      *context, {.target_port = inspector.port(), .basic_auth = BasicAuthCredentials{"u", "p"}});
  auto throttle = start_edge_proxy(*context, {.target_port = auth.port(), .throttle = "3g"});

  Client client(throttle.port());
  EXPECT_EQ(client.request("GET", "/secret").status, 401);
  const std::string body = pattern_bytes(200 * 1024);
  const auto response =
      client.request("POST", "/upload", {{"Authorization", basic_authorization("u", "p")}}, body);
  EXPECT_EQ(response.body, std::to_string(body.size()) + " " + sha256_hex(body));

  wait_for_captures(*context, "chain", 1);
  const auto listed = parse(list_captures(*context, "chain")).at("exchanges").as_array();
  ASSERT_EQ(listed.size(), 1U) << "only the authenticated request reaches the inspector";
  const auto capture = parse(get_capture(*context, "chain", "1"));
  for (const auto& pair : capture.at("request").at("headers").as_array()) {
    EXPECT_NE(pair.as_array()[0], "Authorization");
  }
  ASSERT_EQ(upstream.requests().size(), 1U);
  EXPECT_FALSE(has_header(upstream.requests()[0].headers, "Authorization"));
}

TEST(Chain, OneProxyWithEveryLayer) {
  Scratch scratch;
  auto context = scratch.context();
  Upstream upstream;
  auto proxy = start_edge_proxy(*context, {.target_port = upstream.port(),
                                           .basic_auth = BasicAuthCredentials{"u", "p"},
                                           .throttle = "3g",
                                           .inspect = true,
                                           .inspect_options = {.session = "all"}});
  const auto status = parse(proxy.status());
  const auto& layers = status.at("layers").as_array();
  ASSERT_EQ(layers.size(), 2U);
  EXPECT_EQ(layers[0].at("kind"), "throttle");
  EXPECT_EQ(layers[0].at("port"), proxy.port());
  EXPECT_EQ(layers[1].at("kind"), "http");
  EXPECT_EQ(layers[1].at("basic_auth"), true);
  EXPECT_EQ(layers[1].at("inspect"), true);
  EXPECT_EQ(status.at("session"), "all");
  EXPECT_EQ(proxy.session(), "all");
  EXPECT_EQ(proxy.url(), "http://127.0.0.1:" + std::to_string(proxy.port()));

  Client client(proxy.port());
  EXPECT_EQ(client.request("GET", "/x").status, 401);
  EXPECT_EQ(client.request("GET", "/x", {{"Authorization", basic_authorization("u", "p")}}).body,
            "ok GET /x");
  wait_for_captures(*context, "all", 1);
  const auto capture = parse(get_capture(*context, "all", "1"));
  for (const auto& pair : capture.at("request").at("headers").as_array()) {
    EXPECT_NE(pair.as_array()[0], "Authorization");
  }
}

// Peers may send any octets in header values, reason phrases and request targets (obs-text). The
// record was written with them as they were: its line was not valid UTF-8 JSON, did not read back,
// and the exchange was silently missing from the session.
TEST(CaptureWriter, BytesThatAreNotUtf8DoNotLoseTheExchange) {
  Scratch scratch;
  auto context = scratch.context();
  {
    edge::CaptureWriter writer(context->home() / "inspect" / "raw", "raw", 8080, 1024);
    edge::Exchange exchange;
    exchange.id = writer.next_id();
    exchange.method = "GET";
    exchange.url = "/caf\xe9?q=\xff";
    exchange.host = "h\xc3";
    exchange.http_version = "1.1";
    exchange.status = 200;
    exchange.reason = "OK \xe9";
    exchange.request.headers = {{"X-Name", "caf\xe9"}};
    exchange.response.headers = {{"Server", "\x80 v1"}};
    exchange.response.body = "ok";
    exchange.response.body_bytes = 2;
    writer.record(exchange);
  }
  const auto listed = parse(list_captures(*context, "raw")).at("exchanges").as_array();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].at("url"), "/caf\uFFFD?q=\uFFFD");
  const auto capture = parse(get_capture(*context, "raw", "1"));
  EXPECT_EQ(capture.at("request").at("headers").at(0).at(1), "caf\uFFFD");
  EXPECT_EQ(capture.at("response").at("reason"), "OK \uFFFD");
  EXPECT_EQ(capture.at("response").at("body"), "ok");
}

}  // namespace
}  // namespace devx::edge_test
