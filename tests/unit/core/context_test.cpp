#include <devx/context.hpp>
#include <devx/error.hpp>

#include <poll.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>

#include "test_dir.hpp"

namespace devx {
namespace {

using std::chrono::milliseconds;

ContextOptions options_in(const std::filesystem::path& home) {
  ContextOptions options;
  options.devx_home = home;
  options.env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}};
  return options;
}

struct Collected {
  std::mutex mutex;
  std::vector<Event> events;
  void add(const Event& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
  }
  std::vector<Event> take() {
    std::lock_guard lock(mutex);
    return events;
  }
};

class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1234));
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  bool sleep_for(std::chrono::nanoseconds, std::stop_token stop) const override {
    return !stop.stop_requested();
  }
};

TEST(core_context, home_comes_from_options_then_env_then_passwd) {
  test::TempDir dir;
  {
    Context ctx(options_in(dir.path() / "a"));
    EXPECT_EQ(ctx.home(), dir.path() / "a");
    EXPECT_EQ(ctx.state().root(), dir.path() / "a");
  }
  {
    ContextOptions options;
    options.env = std::map<std::string, std::string>{{"DEVX_HOME", (dir.path() / "b").string()},
                                                     {"HOME", "/nonexistent"}};
    Context ctx(options);
    EXPECT_EQ(ctx.home(), dir.path() / "b");
    EXPECT_EQ(ctx.env().at("HOME"), "/nonexistent");
  }
  {
    ContextOptions options;
    options.env = std::map<std::string, std::string>{{"HOME", "/nonexistent"}};
    Context ctx(options);
    // From the passwd entry, not $HOME.
    EXPECT_EQ(ctx.home().filename(), ".devx");
    EXPECT_NE(ctx.home(), std::filesystem::path("/nonexistent/.devx"));
  }
}

TEST(core_context, without_env_option_the_process_environment_is_snapshotted) {
  ::setenv("DEVX_CORE_CONTEXT_TEST", "yes", 1);
  test::TempDir dir;
  ContextOptions options;
  options.devx_home = dir.path();
  Context ctx(options);
  ::unsetenv("DEVX_CORE_CONTEXT_TEST");
  EXPECT_EQ(ctx.env().at("DEVX_CORE_CONTEXT_TEST"), "yes");
  // Children see the snapshot too, not later changes of the process environment.
  CommandSpec spec;
  spec.argv = {"sh", "-c", "echo \"$DEVX_CORE_CONTEXT_TEST\""};
  EXPECT_EQ(ctx.commands().run(spec).out, "yes\n");
}

TEST(core_context, context_env_is_what_children_inherit) {
  test::TempDir dir;
  ContextOptions options = options_in(dir.path());
  (*options.env)["DEVX_ONLY_IN_CONTEXT"] = "ctx";
  Context ctx(options);
  CommandSpec spec;
  spec.argv = {"sh", "-c", "echo \"$DEVX_ONLY_IN_CONTEXT\""};
  EXPECT_EQ(ctx.commands().run(spec).out, "ctx\n");
}

TEST(core_context, two_contexts_are_independent) {
  test::TempDir dir;
  Context a(options_in(dir.path() / "a"));
  Context b(options_in(dir.path() / "b"));
  a.state().write("k", "from a");
  EXPECT_FALSE(b.state().read("k").has_value());
  EXPECT_NE(a.event_fd(), b.event_fd());

  Collected got_a;
  Collected got_b;
  a.subscribe([&](const Event& e) { got_a.add(e); });
  b.subscribe([&](const Event& e) { got_b.add(e); });
  a.log(LogLevel::info, "api", "only a");
  EXPECT_EQ(got_a.take().size(), 1U);
  EXPECT_TRUE(got_b.take().empty());
}

TEST(core_context, log_events_reach_subscribers_and_respect_the_level) {
  test::TempDir dir;
  ContextOptions options = options_in(dir.path());
  options.log_level = LogLevel::info;
  Context ctx(options);
  ctx.set_clock(std::make_shared<FixedClock>());
  Collected got;
  const int id = ctx.subscribe([&](const Event& e) { got.add(e); });
  ctx.log(LogLevel::debug, "config", "hidden");
  ctx.log(LogLevel::warn, "config", "careful {} not a format");
  ctx.log(LogLevel::error, "api", "broken");
  const auto events = got.take();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].type, EventType::log);
  EXPECT_EQ(events[0].level, LogLevel::warn);
  EXPECT_EQ(events[0].source, "config");
  EXPECT_EQ(events[0].message, "careful {} not a format");
  EXPECT_EQ(events[0].time_ms, 1234);
  EXPECT_EQ(events[1].source, "api");
  EXPECT_EQ(events[1].level, LogLevel::error);
  ctx.unsubscribe(id);
  ctx.log(LogLevel::error, "api", "after");
  EXPECT_EQ(got.take().size(), 2U);
}

TEST(core_context, listeners_may_log_and_unsubscribe_from_the_callback) {
  test::TempDir dir;
  Context ctx(options_in(dir.path()));
  Collected got;
  int id = 0;
  id = ctx.subscribe([&](const Event& e) {
    got.add(e);
    if (e.message == "first") {
      ctx.unsubscribe(id);
      ctx.log(LogLevel::info, "t", "second");
    }
  });
  ctx.log(LogLevel::info, "t", "first");
  ctx.log(LogLevel::info, "t", "third");
  ASSERT_EQ(got.take().size(), 1U);
}

TEST(core_context, a_throwing_listener_does_not_break_others) {
  test::TempDir dir;
  Context ctx(options_in(dir.path()));
  Collected got;
  ctx.subscribe([](const Event&) { throw std::runtime_error("bad listener"); });
  ctx.subscribe([&](const Event& e) { got.add(e); });
  ctx.log(LogLevel::info, "t", "x");
  EXPECT_EQ(got.take().size(), 1U);
}

TEST(core_context, operation_events_reach_subscribers_and_the_event_fd) {
  test::TempDir dir;
  Context ctx(options_in(dir.path()));
  Collected got;
  ctx.subscribe([&](const Event& e) { got.add(e); });
  pollfd pfd{ctx.event_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);
  Operation op = ctx.start("op", [](OperationScope& scope) {
    scope.progress("svc", "working");
    return std::string("{}");
  });
  op.wait();
  // One signal for the event and one for the finish, which is signalled just after done() turns
  // true (so a loop woken by the fd always sees the new state).
  std::uint64_t total = 0;
  while (total < 2) {
    ASSERT_EQ(::poll(&pfd, 1, 60000), 1);
    std::uint64_t count = 0;
    ASSERT_EQ(::read(ctx.event_fd(), &count, sizeof count), static_cast<ssize_t>(sizeof count));
    total += count;
  }
  EXPECT_EQ(total, 2U);
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);
  const auto events = got.take();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].message, "working");
  // The operation's own queue got it too.
  EXPECT_EQ(op.next_event(milliseconds(0)).event.message, "working");
}

TEST(core_context, destructor_cancels_and_joins_running_operations) {
  test::TempDir dir;
  std::atomic<int> finished{0};
  std::optional<Operation> op;
  {
    Context ctx(options_in(dir.path()));
    std::latch running(3);
    for (int i = 0; i < 3; ++i) {
      op = ctx.start("long", [&](OperationScope& scope) {
        running.count_down();
        ctx.clock().sleep_for(std::chrono::hours(1), scope.stop_token());
        ++finished;
        return std::string("{}");
      });
    }
    running.wait();
  }
  EXPECT_EQ(finished.load(), 3);
  ASSERT_TRUE(op->done());
  try {
    op->result();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::cancelled);
  }
}

TEST(core_context, many_short_operations_do_not_accumulate) {
  test::TempDir dir;
  Context ctx(options_in(dir.path()));
  for (int i = 0; i < 200; ++i) {
    Operation op = ctx.start("n", [i](OperationScope&) { return std::to_string(i); });
    EXPECT_EQ(op.result(), std::to_string(i));
  }
}

TEST(core_context, seams_can_be_replaced_and_null_is_rejected) {
  test::TempDir dir;
  Context ctx(options_in(dir.path()));
  const Clock& before = ctx.clock();
  ctx.set_clock(std::make_shared<FixedClock>());
  EXPECT_EQ(ctx.clock().now().time_since_epoch(), milliseconds(1234));
  // A reference taken before the replacement stays valid.
  EXPECT_GT(before.now().time_since_epoch(), milliseconds(1234));
  EXPECT_THROW(ctx.set_clock(nullptr), Error);
  EXPECT_THROW(ctx.set_state_store(nullptr), Error);
  ctx.set_state_store(make_file_state_store(dir.path() / "other"));
  EXPECT_EQ(ctx.state().root(), dir.path() / "other");
  EXPECT_THROW(ctx.start("x", nullptr), Error);
}

TEST(core_context, dry_run_and_options_are_exposed) {
  test::TempDir dir;
  ContextOptions options = options_in(dir.path());
  options.dry_run = true;
  Context ctx(options);
  EXPECT_TRUE(ctx.dry_run());
  EXPECT_TRUE(ctx.options().dry_run);
}

}  // namespace
}  // namespace devx
