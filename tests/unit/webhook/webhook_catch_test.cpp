// The webhook catcher with real HTTP traffic: what is recorded, listing, replay to a real server,
// the quick tunnel through a stand-in cloudflared that prints what the real one prints.
#include <devx/error.hpp>
#include <devx/webhook.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json/array.hpp>

#include <cerrno>
#include <fstream>
#include <thread>

#include "catch_test_util.hpp"
#include "core/json.hpp"
#include "vm/ignition/encoding.hpp"
#include "webhook/quick_tunnel.hpp"

namespace devx {
namespace {

namespace json = boost::json;
using test::Scratch;

struct Catcher {
  Operation op;
  json::object listening;
  std::string url() const { return core::string_field(listening, "url"); }
  std::string session() const { return core::string_field(listening, "session"); }
};

Catcher catcher(Context& context, WebhookCatchOptions options = {}) {
  options.port = 0;
  Operation op = start_webhook_catch(context, std::move(options));
  auto listening = test::wait_for_state(op, "listening");
  return {op, listening};
}

HttpResponse send(Context& context, std::string method, std::string url,
                  std::vector<std::pair<std::string, std::string>> headers = {},
                  std::string body = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.body = std::move(body);
  return context.http().send(request);
}

json::array requests_of(Context& context, const std::string& session) {
  const auto doc = core::parse_json_object_or_throw(webhook_list(context, session), "list");
  return doc.at("requests").as_array();
}

std::vector<std::pair<std::string, std::string>> headers_of(const json::value& record) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& h : record.at("headers").as_array())
    out.emplace_back(h.as_array()[0].as_string(), h.as_array()[1].as_string());
  return out;
}

std::size_t count_header(const json::value& record, std::string_view name) {
  std::size_t n = 0;
  for (const auto& [k, v] : headers_of(record)) n += k == name;
  return n;
}

TEST(WebhookCatch, RecordsMethodsTargetsHeadersAndBodiesExactly) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.body_limit = 4096;
  auto c = catcher(*context, options);

  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  const std::string large(10000, 'x');

  auto r = send(*context, "POST", c.url() + "/hooks/stripe?event=charge&x=1",
                {{"Content-Type", "application/json"},
                 {"X-Dup", "first"},
                 {"X-Dup", "second"},
                 {"Stripe-Signature", "t=1,v1=abc"}},
                R"({"id":"evt_1","amount":42})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"captured"})");
  EXPECT_EQ(r.header("content-type"), "application/json");
  send(*context, "PUT", c.url() + "/bin", {{"Content-Type", "application/octet-stream"}}, binary);
  send(*context, "PATCH", c.url() + "/large", {}, large);
  send(*context, "DELETE", c.url() + "/thing/7");
  send(*context, "GET", c.url() + "/");
  test::stop(c.op);

  const auto records = requests_of(*context, c.session());
  ASSERT_EQ(records.size(), 5u);
  const auto& post = records[0].as_object();
  EXPECT_EQ(core::string_field(post, "id"), c.session() + ".1");
  EXPECT_EQ(core::string_field(post, "method"), "POST");
  EXPECT_EQ(core::string_field(post, "target"), "/hooks/stripe?event=charge&x=1");
  EXPECT_EQ(core::string_field(post, "path"), "/hooks/stripe");
  EXPECT_EQ(core::string_field(post, "query"), "event=charge&x=1");
  EXPECT_EQ(core::string_field(post, "body"), R"({"id":"evt_1","amount":42})");
  EXPECT_EQ(core::string_field(post, "body_encoding"), "utf8");
  EXPECT_FALSE(post.at("truncated").as_bool());
  // Repeats kept, in the order sent, with their spelling.
  std::vector<std::string> dups;
  for (const auto& [k, v] : headers_of(post))
    if (k == "X-Dup") dups.push_back(v);
  EXPECT_EQ(dups, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(count_header(post, "Stripe-Signature"), 1u);
  const auto time = core::string_field(post, "time");
  EXPECT_EQ(time.size(), 24u) << time;  // 2026-11-28T22:40:12.345Z
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_TRUE(post.at("duration_ms").is_number());

  const auto& put = records[1].as_object();
  EXPECT_EQ(core::string_field(put, "body_encoding"), "base64");
  EXPECT_EQ(ignition::base64_decode(core::string_field(put, "body")), binary);
  EXPECT_EQ(core::int_field(put, "body_size"), 256);

  const auto& patch = records[2].as_object();
  EXPECT_TRUE(patch.at("truncated").as_bool());
  EXPECT_EQ(core::int_field(patch, "body_size"), 10000);
  EXPECT_EQ(core::string_field(patch, "body"), std::string(4096, 'x'));

  EXPECT_EQ(core::string_field(records[3].as_object(), "method"), "DELETE");
  EXPECT_EQ(core::string_field(records[4].as_object(), "target"), "/");

  // Bodies can hold secrets: the session file is private.
  struct stat st {};
  const auto file = context->home() / "webhooks" / (c.session() + ".jsonl");
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(WebhookCatch, EachRequestIsAnEventAndTheStatusIsConfigurable) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.reply_status = 202;
  options.reply_body = R"({"ok":true})";
  auto c = catcher(*context, options);
  const auto r = send(*context, "POST", c.url() + "/e", {}, "hello");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, R"({"ok":true})");
  bool seen = false;
  for (int i = 0; i < 10 && !seen; ++i) {
    auto next = c.op.next_event(std::chrono::seconds(10));
    if (next.status != NextEvent::Status::event) break;
    if (next.event.type == EventType::progress && next.event.message == "POST /e") {
      const auto data = core::parse_json_object_or_throw(next.event.data_json, "event");
      EXPECT_EQ(core::string_field(data, "body"), "hello");
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  test::stop(c.op);
}

TEST(WebhookCatch, BadOptionsAreRefusedBeforeAnythingStarts) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.reply_status = 99;
  try {
    start_webhook_catch(*context, options);
    FAIL() << "status 99 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  }
  options = {};
  options.session = "../escape";
  EXPECT_THROW(start_webhook_catch(*context, options), Error);
  options = {};
  options.bind = "not-an-ip";
  options.port = 0;
  auto op = start_webhook_catch(*context, options);
  try {
    op.result();
    FAIL() << "a bad bind address was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.to_json();
  }
}

// The first non-loopback IPv4 address of this machine, or "".
std::string external_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (auto* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    const auto* in = reinterpret_cast<const sockaddr_in*>(static_cast<const void*>(a->ifa_addr));
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    if (std::string_view(text).starts_with("127.")) continue;
    found = text;
  }
  ::freeifaddrs(list);
  return found;
}

bool can_connect(const std::string& ip, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  const bool ok =
      ::connect(fd, reinterpret_cast<const sockaddr*>(static_cast<const void*>(&address)),
                sizeof address) == 0;
  ::close(fd);
  return ok;
}

TEST(WebhookCatch, ListensOnLoopbackOnlyByDefault) {
  Scratch s;
  auto context = s.context();
  auto c = catcher(*context);
  EXPECT_EQ(core::string_field(c.listening, "bind"), "127.0.0.1");
  const int port = static_cast<int>(core::int_field(c.listening, "port"));
  EXPECT_TRUE(can_connect("127.0.0.1", port));
  if (const auto ip = external_ipv4(); !ip.empty()) {
    EXPECT_FALSE(can_connect(ip, port)) << ip;
  }
  test::stop(c.op);
}

TEST(WebhookCatch, ATakenPortIsReportedAsSuch) {
  Scratch s;
  auto context = s.context();
  auto first = catcher(*context);
  WebhookCatchOptions options;
  options.port = static_cast<int>(core::int_field(first.listening, "port"));
  auto second = start_webhook_catch(*context, options);
  try {
    second.result();
    FAIL() << "two catchers on one port";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::port_in_use) << e.to_json();
  }
  test::stop(first.op);
}

TEST(WebhookCatch, ASessionIsRecordedByOneCatcherAtATimeAndNumberingContinues) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.session = "stripe";
  auto first = catcher(*context, options);
  send(*context, "POST", first.url() + "/1", {}, "one");
  options.port = 0;
  auto rival = start_webhook_catch(*context, options);
  try {
    rival.result();
    FAIL() << "two catchers recorded one session";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::already_exists) << e.to_json();
  }
  test::stop(first.op);

  auto again = catcher(*context, options);
  send(*context, "POST", again.url() + "/2", {}, "two");
  test::stop(again.op);
  const auto records = requests_of(*context, "stripe");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(core::string_field(records[1].as_object(), "id"), "stripe.2");
}

TEST(WebhookCatch, DryRunReturnsThePlanAndListensNowhere) {
  Scratch s;
  auto context = s.context(true);
  WebhookCatchOptions options;
  options.expose = true;
  auto op = start_webhook_catch(*context, options);
  const auto plan = core::parse_json_object_or_throw(op.result(), "plan");
  EXPECT_TRUE(plan.at("dry_run").as_bool());
  const auto& actions = plan.at("actions").as_array();
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(core::string_field(actions[2].as_object(), "kind"), "command");
  EXPECT_FALSE(std::filesystem::exists(context->home() / "webhooks"));
}

TEST(WebhookList, SessionsWithTheirCountsAndUnknownSessions) {
  Scratch s;
  auto context = s.context();
  auto c = catcher(*context);
  send(*context, "POST", c.url() + "/a", {}, "1");
  send(*context, "POST", c.url() + "/b", {}, "2");
  test::stop(c.op);
  const auto doc = core::parse_json_object_or_throw(webhook_list(*context), "list");
  const auto& sessions = doc.at("sessions").as_array();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(core::string_field(sessions[0].as_object(), "session"), c.session());
  EXPECT_EQ(core::int_field(sessions[0].as_object(), "requests"), 2);
  try {
    webhook_list(*context, "nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST(WebhookReplay, ResendsMethodHeadersAndBodyToAnotherServer) {
  Scratch s;
  auto context = s.context();
  auto source = catcher(*context);
  std::string binary("\x00\x01\xfe\xff payload", 12);
  send(*context, "PUT", source.url() + "/hooks/gh?delivery=9",
       {{"X-GitHub-Event", "push"}, {"X-Dup", "a"}, {"X-Dup", "b"}, {"Connection", "keep-alive"}},
       binary);
  test::stop(source.op);

  WebhookCatchOptions target_options;
  target_options.reply_status = 201;
  auto target = catcher(*context, target_options);
  const auto result = core::parse_json_object_or_throw(
      webhook_replay(*context, source.session() + ".1", target.url() + "/"), "replay");
  EXPECT_EQ(result.at("response").at("status").as_int64(), 201);
  EXPECT_EQ(core::string_field(result.at("request").as_object(), "url"),
            target.url() + "/hooks/gh?delivery=9");
  test::stop(target.op);

  const auto replayed = requests_of(*context, target.session());
  ASSERT_EQ(replayed.size(), 1u);
  const auto& r = replayed[0].as_object();
  EXPECT_EQ(core::string_field(r, "method"), "PUT");
  EXPECT_EQ(core::string_field(r, "target"), "/hooks/gh?delivery=9");
  EXPECT_EQ(ignition::base64_decode(core::string_field(r, "body")), binary);
  EXPECT_EQ(count_header(r, "X-GitHub-Event"), 1u);
  EXPECT_EQ(count_header(r, "X-Dup"), 2u);
  // The hop-by-hop header of the original connection is not replayed as such.
  for (const auto& [k, v] : headers_of(r)) EXPECT_NE(k, "Connection") << v;
}

TEST(WebhookReplay, BadIdsTruncatedBodiesAndDryRun) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.body_limit = 10;
  auto c = catcher(*context, options);
  send(*context, "POST", c.url() + "/big", {}, std::string(100, 'z'));
  send(*context, "POST", c.url() + "/small", {}, "ok");
  test::stop(c.op);

  auto code_of = [&](std::string_view id, std::string_view to) {
    try {
      webhook_replay(*context, id, to);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::ok;
  };
  EXPECT_EQ(code_of(c.session() + ".1", "http://127.0.0.1:9"), ErrorCode::unsupported);
  EXPECT_EQ(code_of(c.session() + ".9", "http://127.0.0.1:9"), ErrorCode::not_found);
  EXPECT_EQ(code_of("x.y", "http://127.0.0.1:9"), ErrorCode::invalid_argument);
  EXPECT_EQ(code_of("2", "ftp://example"), ErrorCode::invalid_argument);

  auto dry = s.context(true);
  // "<n>" names a request of the newest session; nothing is sent in a dry run (port 9 is closed).
  const auto plan =
      core::parse_json_object_or_throw(webhook_replay(*dry, "2", "http://127.0.0.1:9"), "plan");
  EXPECT_TRUE(plan.at("dry_run").as_bool());
  EXPECT_EQ(core::string_field(plan.at("actions").as_array()[0].as_object(), "url"),
            "http://127.0.0.1:9/small");
}

// Lines as the real cloudflared (2024.x) prints them for a quick tunnel, on stderr.
constexpr std::string_view kTermsLine =
    "2026-11-28T22:40:12Z INF Thank you for trying Cloudflare Tunnel. Doing so, without a "
    "Cloudflare account, is a quick way to experiment and try it out. However, be aware that "
    "these account-less Tunnels have no uptime guarantee, are subject to the Cloudflare Online "
    "Services Terms of Use (https://www.cloudflare.com/website-terms/), and Cloudflare reserves "
    "the right to investigate your use of Tunnels for violations of such terms. If you intend to "
    "use Tunnels in production you should use a pre-created named tunnel by following: "
    "https://developers.cloudflare.com/cloudflare-one/connections/connect-apps";
constexpr std::string_view kUrlLine =
    "2026-11-28T22:40:13Z INF |  https://seasonal-deck-organisms-sf.trycloudflare.com           "
    "                           |";

TEST(QuickTunnelUrl, OnlyATryCloudflareHostIsTheTunnelUrl) {
  EXPECT_EQ(webhook::quick_tunnel_url(kTermsLine), std::nullopt);
  EXPECT_EQ(webhook::quick_tunnel_url(
                "2026-11-28T22:40:12Z INF Requesting new quick Tunnel on trycloudflare.com..."),
            std::nullopt);
  EXPECT_EQ(webhook::quick_tunnel_url(kUrlLine),
            "https://seasonal-deck-organisms-sf.trycloudflare.com");
  EXPECT_EQ(webhook::quick_tunnel_url("https://a.trycloudflare.com.evil.example/"), std::nullopt);
  EXPECT_EQ(webhook::quick_tunnel_url("see https://www.cloudflare.com/ and https://cloudflare.com"),
            std::nullopt);
}

// The std::regex matcher recursed once per label character: one long line of cloudflared output
// ("https://" and ~30 000 label characters under ASan) overflowed the stack.
TEST(QuickTunnelUrl, ALongLineIsScannedWithoutRecursion) {
  const std::string label(1'000'000, 'a');
  EXPECT_EQ(webhook::quick_tunnel_url("https://" + label), std::nullopt);
  EXPECT_EQ(webhook::quick_tunnel_url("x https://" + label + ".trycloudflare.com |"),
            "https://" + label + ".trycloudflare.com");
  // The first candidate that is not a tunnel URL does not hide a later one.
  EXPECT_EQ(webhook::quick_tunnel_url("https://https://b-2.trycloudflare.com"),
            "https://b-2.trycloudflare.com");
  EXPECT_EQ(webhook::quick_tunnel_url("https://.trycloudflare.com"), std::nullopt);
  EXPECT_EQ(webhook::quick_tunnel_url("https://A.trycloudflare.com"), std::nullopt);
}

// A stand-in cloudflared: records its pid and argv, prints the real quick-tunnel lines (the terms
// line first) unless told not to, then runs until terminated.
std::filesystem::path fake_cloudflared(const Scratch& s, bool print_url, bool exit_early) {
  const auto path = s.path() / "cloudflared";
  std::ofstream out(path);
  out << "#!/bin/sh\n"
      << "echo $$ > '" << (s.path() / "cloudflared.pid").string() << "'\n"
      << "printf '%s\\n' \"$@\" > '" << (s.path() / "cloudflared.argv").string() << "'\n"
      << "cat >&2 <<'EOF'\n"
      << kTermsLine << "\n"
      << "2026-11-28T22:40:12Z INF Requesting new quick Tunnel on trycloudflare.com...\n";
  if (print_url)
    out << "2026-11-28T22:40:13Z INF +-------------------------------------------------+\n"
        << "2026-11-28T22:40:13Z INF |  Your quick Tunnel has been created! Visit it at  |\n"
        << kUrlLine << "\n";
  out << "EOF\n";
  if (exit_early)
    out << "echo 'failed to request quick Tunnel: 429 Too Many Requests' >&2\nexit 1\n";
  out << "exec sleep 300\n";
  out.close();
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

int recorded_pid(const Scratch& s) {
  std::ifstream in(s.path() / "cloudflared.pid");
  int pid = -1;
  in >> pid;
  return pid;
}

TEST(WebhookExpose, ThePublicUrlIsTheTrycloudflareOneAndTheChildEndsWithTheCatcher) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.port = 0;
  options.expose = true;
  options.cloudflared = fake_cloudflared(s, true, false).string();
  auto op = start_webhook_catch(*context, options);
  const auto listening = test::wait_for_state(op, "listening");
  const auto exposed = test::wait_for_state(op, "exposed");
  EXPECT_EQ(core::string_field(exposed, "public_url"),
            "https://seasonal-deck-organisms-sf.trycloudflare.com");
  std::ifstream argv_file(s.path() / "cloudflared.argv");
  std::string argv((std::istreambuf_iterator<char>(argv_file)), {});
  EXPECT_EQ(argv, "tunnel\n--url\n" + core::string_field(listening, "url") + "\n--no-autoupdate\n");
  const int pid = recorded_pid(s);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0);
  test::stop(op);
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

// The faithful fake of tests/fakes: real cloudflared stderr and an "edge" that forwards public
// traffic to the catcher.
TEST(WebhookExpose, TrafficThroughTheTunnelEdgeIsCaught) {
  Scratch s;
  auto context = s.context(false, {{"FAKE_CLOUDFLARED_STATE", (s.path() / "cf").string()},
                                   {"FAKE_LOG", (s.path() / "fake.log").string()}});
  WebhookCatchOptions options;
  options.port = 0;
  options.expose = true;
  options.cloudflared = DEVX_SOURCE_DIR "/tests/fakes/cloudflared";
  auto op = start_webhook_catch(*context, options);
  const auto listening = test::wait_for_state(op, "listening");
  const auto exposed = test::wait_for_state(op, "exposed");
  const auto public_url = core::string_field(exposed, "public_url");
  EXPECT_TRUE(public_url.starts_with("https://") && public_url.ends_with(".trycloudflare.com"))
      << public_url;

  // The fake records its edge just after printing the URL, as the real one connects after it.
  std::string line;
  for (int i = 0; i < 200 && line.empty(); ++i) {
    std::ifstream quick(s.path() / "cf" / "quick.jsonl");
    if (!std::getline(quick, line) || quick.eof()) line.clear();
    if (line.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(line.empty()) << "the fake cloudflared recorded no edge";
  const auto tunnel = core::parse_json_object_or_throw(line, "quick.jsonl");
  EXPECT_EQ(core::string_field(tunnel, "url"), public_url);
  EXPECT_EQ(core::string_field(tunnel, "target"), core::string_field(listening, "url"));
  const auto reply =
      send(*context, "POST", "http://" + core::string_field(tunnel, "edge") + "/from/outside?a=b",
           {{"Host", public_url.substr(8)}, {"X-Hook", "1"}}, "payload");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"({"status":"captured"})");

  const int pid = static_cast<int>(core::int_field(tunnel, "pid"));
  test::stop(op);
  EXPECT_EQ(::kill(pid, 0), -1);
  const auto records = requests_of(*context, core::string_field(listening, "session"));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(core::string_field(records[0].as_object(), "target"), "/from/outside?a=b");
  EXPECT_EQ(core::string_field(records[0].as_object(), "body"), "payload");
  EXPECT_EQ(count_header(records[0], "X-Hook"), 1u);
}

TEST(WebhookExpose, CloudflaredExitingOrStayingSilentIsAnErrorAndLeavesNoChild) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.port = 0;
  options.expose = true;
  options.cloudflared = fake_cloudflared(s, false, true).string();
  auto op = start_webhook_catch(*context, options);
  try {
    op.result();
    FAIL() << "no URL yet the tunnel was reported up";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_failed) << e.to_json();
    EXPECT_NE(e.details_json().find("429 Too Many Requests"), std::string::npos);
  }

  options.cloudflared = fake_cloudflared(s, false, false).string();
  options.expose_timeout = std::chrono::milliseconds(500);
  auto silent = start_webhook_catch(*context, options);
  try {
    silent.result();
    FAIL() << "no URL yet the tunnel was reported up";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::timeout) << e.to_json();
  }
  const int pid = recorded_pid(s);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST(WebhookExpose, AMissingCloudflaredIsNamed) {
  Scratch s;
  auto context = s.context();
  WebhookCatchOptions options;
  options.port = 0;
  options.expose = true;
  options.cloudflared = (s.path() / "no-such-cloudflared").string();
  auto op = start_webhook_catch(*context, options);
  try {
    op.result();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::command_not_found) << e.to_json();
  }
}

}  // namespace
}  // namespace devx
