// Retries of the Cloudflare API client against the fake API's injected failures: 429 for every
// method (Retry-After honoured), 502/503/504 and transport failures for idempotent methods only,
// at most 3 retries. A recording clock stands in for the waits, so nothing sleeps.
#include <devx/tunnel.hpp>

#include <gmock/gmock.h>

#include <condition_variable>
#include <mutex>

#include "tunnel/cloudflare_api.hpp"
#include "tunnel_fixture.hpp"

namespace devx {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using tunnel::CloudflareApi;

// Returns at once (or, with `block`, when the stop token fires) and remembers every wait.
class RecordingClock : public Clock {
 public:
  explicit RecordingClock(bool block = false) : block_(block) {}
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  bool sleep_for(std::chrono::nanoseconds duration, std::stop_token stop) const override {
    std::unique_lock lock(mutex_);
    waits_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(duration));
    if (!block_) return true;
    std::condition_variable_any cv;
    cv.wait(lock, stop, [] { return false; });
    return false;
  }
  std::vector<std::chrono::milliseconds> waits() const {
    std::lock_guard lock(mutex_);
    return waits_;
  }

 private:
  bool block_;
  mutable std::mutex mutex_;
  mutable std::vector<std::chrono::milliseconds> waits_;
};

class Retry : public test::TunnelWorld {
 protected:
  std::unique_ptr<Context> instant_context(bool block = false) {
    auto ctx = context();
    clock_ = std::make_shared<RecordingClock>(block);
    ctx->set_clock(clock_);
    return ctx;
  }
  CloudflareApi api(Context& ctx, CloudflareSettings settings = {}) {
    return CloudflareApi(ctx, tunnel::resolve_cloudflare(ctx, settings));
  }
  void inject(json::object rule) {
    edit_api_state([&](json::object& state) { state["fail"].as_array().push_back(rule); });
  }
  std::string zone_id(std::string_view name) {
    const auto state = api_state();
    for (const auto& z : state.at("zones").as_array())
      if (z.at("name").as_string() == name) return std::string(z.at("id").as_string());
    return {};
  }
  std::shared_ptr<RecordingClock> clock_;
};

TEST_F(Retry, ARateLimitedReadIsSentAgainAfterRetryAfter) {
  inject({{"method", "GET"}, {"path", "^/zones$"}, {"status", 429}, {"retry_after", 7}});
  auto ctx = instant_context();
  auto client = api(*ctx);
  EXPECT_EQ(client.list_zones().size(), 2u);
  EXPECT_EQ(requests("GET", "/zones").size(), 2u);
  EXPECT_THAT(clock_->waits(), ElementsAre(7000ms));
}

TEST_F(Retry, ARateLimitedCreateIsSentAgainBecauseCloudflareDidNotProcessIt) {
  auto ctx = instant_context();
  auto client = api(*ctx);
  const auto zone = zone_id("example.com");
  inject({{"method", "POST"}, {"path", "/dns_records$"}, {"status", 429}, {"retry_after", 2}});
  const auto record =
      client.create_dns_record(zone, {"", "TXT", "rl.example.com", "v", false, 1, ""});
  EXPECT_FALSE(record.id.empty());
  EXPECT_EQ(requests("POST", "/dns_records").size(), 2u);
  EXPECT_EQ(dns_records().size(), 1u);
  EXPECT_THAT(clock_->waits(), ElementsAre(2000ms));
}

TEST_F(Retry, RetryAfterIsCappedAtThirtySeconds) {
  inject({{"method", "GET"}, {"path", "^/zones$"}, {"status", 429}, {"retry_after", 600}});
  auto ctx = instant_context();
  auto client = api(*ctx);
  EXPECT_EQ(client.list_zones().size(), 2u);
  EXPECT_THAT(clock_->waits(), ElementsAre(30000ms));
}

TEST_F(Retry, AnUnavailableReadBacksOffExponentially) {
  inject(
      {{"method", "GET"},
       {"path", "^/zones$"},
       {"status", 503},
       {"times", 2},
       {"errors", json::array{json::object{{"code", 10013}, {"message", "Service unavailable"}}}}});
  auto ctx = instant_context();
  auto client = api(*ctx);
  EXPECT_EQ(client.list_zones().size(), 2u);
  EXPECT_EQ(requests("GET", "/zones").size(), 3u);
  const auto waits = clock_->waits();
  ASSERT_EQ(waits.size(), 2u);
  // 1 s then 2 s, each plus at most a quarter of jitter.
  EXPECT_GE(waits[0], 1000ms);
  EXPECT_LE(waits[0], 1250ms);
  EXPECT_GE(waits[1], 2000ms);
  EXPECT_LE(waits[1], 2500ms);
}

TEST_F(Retry, AnUnavailableCreateIsNotSentTwice) {
  auto ctx = instant_context();
  auto client = api(*ctx);
  inject(
      {{"method", "POST"},
       {"path", "/cfd_tunnel$"},
       {"status", 503},
       {"errors", json::array{json::object{{"code", 10013}, {"message", "Service unavailable"}}}}});
  try {
    client.create_tunnel("devx-once");
    FAIL() << "a 503 on POST succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::http);
    EXPECT_THAT(e.message(), HasSubstr("503"));
    EXPECT_THAT(e.message(), HasSubstr("10013"));
    const auto details = json::parse(e.details_json()).as_object();
    EXPECT_EQ(details.at("status").to_number<int>(), 503);
    EXPECT_EQ(details.at("attempts").to_number<int>(), 1);
    EXPECT_EQ(details.at("cloudflare_errors").as_array()[0].at("code").to_number<int>(), 10013);
  }
  EXPECT_EQ(requests("POST", "/cfd_tunnel").size(), 1u);
  EXPECT_TRUE(clock_->waits().empty());
  EXPECT_TRUE(tunnels().empty());
}

TEST_F(Retry, ExhaustedRetriesSurfaceTheLastErrorWithTheAttemptCount) {
  inject({{"method", "GET"}, {"path", "^/zones$"}, {"status", 429}, {"times", 10}});
  auto ctx = instant_context();
  auto client = api(*ctx);
  try {
    client.list_zones();
    FAIL() << "the rate limit never lifted, yet the call succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::http);
    EXPECT_THAT(e.message(), HasSubstr("429"));
    EXPECT_THAT(e.message(), HasSubstr("971"));
    EXPECT_THAT(e.hint(), HasSubstr("1200"));
    const auto details = json::parse(e.details_json()).as_object();
    EXPECT_EQ(details.at("attempts").to_number<int>(), 4);
    EXPECT_EQ(details.at("status").to_number<int>(), 429);
  }
  EXPECT_EQ(requests("GET", "/zones").size(), 4u);
  EXPECT_EQ(clock_->waits().size(), 3u);
}

TEST_F(Retry, TransportFailuresAreRetriedForReadsOnly) {
  auto ctx = instant_context();
  CloudflareSettings settings;
  settings.api_url = "http://127.0.0.1:1/client/v4";         // nothing listens on port 1
  settings.account_id = "0123456789abcdef0123456789abcdef";  // no account lookup before the POST
  auto client = api(*ctx, settings);
  try {
    client.list_zones();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::http);
    EXPECT_EQ(json::parse(e.details_json()).at("attempts").to_number<int>(), 4);
  }
  EXPECT_EQ(clock_->waits().size(), 3u);
  try {
    client.create_tunnel("devx-unreachable");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::http);
  }
  EXPECT_EQ(clock_->waits().size(), 3u);  // the POST was not retried
}

TEST_F(Retry, AWaitEndsWhenTheOperationIsCancelledAndRetriesAreAnnounced) {
  inject({{"method", "GET"}, {"path", "^/zones$"}, {"status", 429}, {"retry_after", 20}});
  auto ctx = instant_context(/*block=*/true);
  Operation op = ctx->start("retry", [&](OperationScope& scope) -> std::string {
    auto client = api(*ctx);
    client.set_operation(scope);
    client.list_zones();
    return "{}";
  });
  ASSERT_TRUE(test::wait_until([&] { return !clock_->waits().empty(); }));
  op.cancel();
  try {
    op.result();
    FAIL() << "the cancelled retry wait went on";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::cancelled);
  }
  EXPECT_EQ(requests("GET", "/zones").size(), 1u);
  bool announced = false;
  for (;;) {
    const auto next = op.next_event(0ms);
    if (next.status != NextEvent::Status::event) break;
    if (next.event.type == EventType::warning && next.event.source == "cloudflare") {
      announced = true;
      EXPECT_THAT(next.event.message, HasSubstr("429"));
      EXPECT_THAT(next.event.data_json, HasSubstr("\"delay_ms\":20000"));
    }
  }
  EXPECT_TRUE(announced);
}

TEST(RetryDelay, RetryAfterWinsOverBackoffAndJitterStaysWithinAQuarter) {
  EXPECT_EQ(tunnel::cloudflare_retry_delay(1, "3", 0.9), 3000ms);
  EXPECT_EQ(tunnel::cloudflare_retry_delay(1, "0", 0.9), 0ms);
  EXPECT_EQ(tunnel::cloudflare_retry_delay(2, "99999999999", 0), 30000ms);
  EXPECT_EQ(tunnel::cloudflare_retry_delay(1, "", 0), 1000ms);
  EXPECT_EQ(tunnel::cloudflare_retry_delay(2, "", 0), 2000ms);
  EXPECT_EQ(tunnel::cloudflare_retry_delay(3, "", 1), 5000ms);
  // An HTTP-date Retry-After is not seconds: the backoff applies.
  EXPECT_EQ(tunnel::cloudflare_retry_delay(1, "Wed, 21 Oct 2015 07:28:00 GMT", 0), 1000ms);
}

}  // namespace
}  // namespace devx
