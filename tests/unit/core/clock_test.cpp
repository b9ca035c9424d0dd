#include <devx/clock.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace devx {
namespace {

TEST(core_clock, sleep_returns_true_when_not_stopped) {
  const auto clock = make_system_clock();
  std::stop_source stop;
  const auto before = clock->steady_now();
  EXPECT_TRUE(clock->sleep_for(std::chrono::milliseconds(5), stop.get_token()));
  EXPECT_GE(clock->steady_now() - before, std::chrono::milliseconds(5));
}

TEST(core_clock, sleep_is_interrupted_by_stop_from_another_thread) {
  const auto clock = make_system_clock();
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop.request_stop();
  });
  // An hour: the test only finishes because the stop request interrupts it.
  EXPECT_FALSE(clock->sleep_for(std::chrono::hours(1), stop.get_token()));
}

TEST(core_clock, already_stopped_returns_false_and_huge_durations_are_accepted) {
  const auto clock = make_system_clock();
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(clock->sleep_for(std::chrono::nanoseconds::max(), stop.get_token()));
  EXPECT_TRUE(clock->sleep_for(std::chrono::nanoseconds(-1), {}));
}

}  // namespace
}  // namespace devx
