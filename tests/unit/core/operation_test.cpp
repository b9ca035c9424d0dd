// Operations started on a Context: results, errors, cancellation, the event stream.
#include <devx/context.hpp>
#include <devx/error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <latch>
#include <mutex>
#include <vector>

namespace devx {
namespace {

using std::chrono::milliseconds;

ContextOptions test_options() {
  ContextOptions options;
  options.devx_home = std::filesystem::temp_directory_path() / "devx-core-operation-test";
  options.env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}};
  return options;
}

TEST(core_operation, result_is_returned) {
  Context ctx(test_options());
  Operation op = ctx.start("answer", [](OperationScope&) { return std::string(R"({"x":42})"); });
  EXPECT_EQ(op.kind(), "answer");
  EXPECT_EQ(op.result(), R"({"x":42})");
  EXPECT_TRUE(op.done());
  EXPECT_TRUE(op.wait_for(milliseconds(0)));
}

TEST(core_operation, error_propagates_with_its_code) {
  Context ctx(test_options());
  Operation op = ctx.start("fail", [](OperationScope&) -> std::string {
    throw Error(ErrorCode::port_in_use, "busy", "hint");
  });
  try {
    op.result();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::port_in_use);
    EXPECT_EQ(e.hint(), "hint");
  }
}

TEST(core_operation, foreign_exceptions_become_internal_errors) {
  Context ctx(test_options());
  Operation op =
      ctx.start("boom", [](OperationScope&) -> std::string { throw std::runtime_error("kaput"); });
  try {
    op.result();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(e.message().find("kaput"), std::string::npos);
  }
}

TEST(core_operation, cancel_finishes_with_cancelled) {
  Context ctx(test_options());
  std::latch started(1);
  Operation op = ctx.start("wait", [&](OperationScope& scope) {
    started.count_down();
    ctx.clock().sleep_for(std::chrono::hours(1), scope.stop_token());
    EXPECT_TRUE(scope.cancelled());
    return std::string("{}");
  });
  started.wait();
  op.cancel();
  try {
    op.result();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::cancelled);
  }
}

TEST(core_operation, cancel_after_done_keeps_the_result) {
  Context ctx(test_options());
  Operation op = ctx.start("quick", [](OperationScope&) { return std::string("1"); });
  op.wait();
  op.cancel();
  EXPECT_EQ(op.result(), "1");
}

TEST(core_operation, next_event_returns_events_in_order_then_end) {
  Context ctx(test_options());
  Operation op = ctx.start("steps", [](OperationScope& scope) {
    for (int i = 0; i < 3; ++i) scope.progress("test", "step " + std::to_string(i));
    return std::string("{}");
  });
  op.wait();
  for (int i = 0; i < 3; ++i) {
    const NextEvent next = op.next_event(milliseconds(1000));
    ASSERT_EQ(next.status, NextEvent::Status::event);
    EXPECT_EQ(next.event.type, EventType::progress);
    EXPECT_EQ(next.event.source, "test");
    EXPECT_EQ(next.event.message, "step " + std::to_string(i));
    EXPECT_GT(next.event.time_ms, 0);
  }
  EXPECT_EQ(op.next_event(milliseconds(1000)).status, NextEvent::Status::end);
  EXPECT_EQ(op.next_event(milliseconds(0)).status, NextEvent::Status::end);
}

TEST(core_operation, next_event_times_out_while_running) {
  Context ctx(test_options());
  std::promise<void> release;
  auto released = release.get_future().share();
  Operation op = ctx.start("idle", [released](OperationScope&) {
    released.wait();
    return std::string("{}");
  });
  EXPECT_EQ(op.next_event(milliseconds(10)).status, NextEvent::Status::timeout);
  release.set_value();
  EXPECT_EQ(op.next_event(milliseconds(60000)).status, NextEvent::Status::end);
}

TEST(core_operation, on_event_gets_queued_events_first_then_live_ones_in_order) {
  Context ctx(test_options());
  std::promise<void> go;
  auto go_future = go.get_future().share();
  std::latch queued(1);
  Operation op = ctx.start("stream", [go_future, &queued](OperationScope& scope) {
    scope.progress("t", "0");
    scope.progress("t", "1");
    queued.count_down();
    go_future.wait();
    for (int i = 2; i < 50; ++i) scope.progress("t", std::to_string(i));
    return std::string("{}");
  });
  queued.wait();
  const NextEvent first = op.next_event(milliseconds(60000));
  ASSERT_EQ(first.status, NextEvent::Status::event);
  EXPECT_EQ(first.event.message, "0");

  std::mutex mutex;
  std::vector<std::string> seen;
  std::thread::id second_thread;
  op.on_event([&](const Event& event) {
    std::lock_guard lock(mutex);
    if (seen.empty()) second_thread = std::this_thread::get_id();
    seen.push_back(event.message);
  });
  go.set_value();
  op.wait();
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 49U);
  for (int i = 1; i < 50; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i - 1)], std::to_string(i));
  EXPECT_TRUE(second_thread == std::this_thread::get_id());  // queued event: on the caller
  EXPECT_EQ(op.next_event(milliseconds(0)).status, NextEvent::Status::end);
}

TEST(core_operation, clearing_the_callback_goes_back_to_queueing) {
  Context ctx(test_options());
  std::promise<void> step;
  auto step_future = step.get_future().share();
  std::atomic<int> called{0};
  std::latch first_emitted(1);
  Operation op = ctx.start("toggle", [&, step_future](OperationScope& scope) {
    scope.progress("t", "to-callback");
    first_emitted.count_down();
    step_future.wait();
    scope.progress("t", "to-queue");
    return std::string("{}");
  });
  op.on_event([&](const Event&) { ++called; });
  first_emitted.wait();
  op.on_event(nullptr);
  step.set_value();
  op.wait();
  EXPECT_EQ(called.load(), 1);
  const NextEvent next = op.next_event(milliseconds(0));
  ASSERT_EQ(next.status, NextEvent::Status::event);
  EXPECT_EQ(next.event.message, "to-queue");
}

TEST(core_operation, copies_share_the_operation) {
  Context ctx(test_options());
  Operation op = ctx.start("x", [](OperationScope&) { return std::string("7"); });
  Operation copy = op;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.result(), "7");
  EXPECT_TRUE(op.done());
}

TEST(core_operation, handle_outlives_the_context) {
  std::optional<Operation> op;
  {
    Context ctx(test_options());
    op = ctx.start("late", [](OperationScope& scope) {
      scope.progress("t", "hello");
      return std::string("{}");
    });
    op->wait();
  }
  EXPECT_EQ(op->next_event(milliseconds(0)).status, NextEvent::Status::event);
  EXPECT_EQ(op->result(), "{}");
}

}  // namespace
}  // namespace devx
