#include <gtest/gtest.h>

#include "bridge/kube/backoff.hpp"

namespace devx::bridge::kube {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheCapWithFullJitter) {
  double r = 0.999;
  Backoff backoff({milliseconds(500), milliseconds(30000), milliseconds(30000)}, [&] { return r; });
  // Upper bounds: 500, 1000, 2000, … capped at 30000 forever (no retry limit).
  const std::vector<int> ceilings{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  for (int ceiling : ceilings) {
    const auto d = backoff.next(milliseconds(0));
    EXPECT_LE(d.count(), ceiling);
    EXPECT_GE(d.count(), ceiling * 99 / 100);
  }
  for (int i = 0; i < 100; ++i) EXPECT_LE(backoff.next(milliseconds(0)).count(), 30000);
  r = 0.0;
  EXPECT_EQ(backoff.next(milliseconds(0)).count(), 0);  // full jitter reaches the bottom
}

TEST(Backoff, JitterStaysWithinTheBounds) {
  Backoff backoff({milliseconds(100), milliseconds(1000), milliseconds(5000)});
  for (int i = 0; i < 200; ++i) {
    const auto d = backoff.next(milliseconds(0));
    EXPECT_GE(d.count(), 0);
    EXPECT_LE(d.count(), 1000);
  }
}

TEST(Backoff, AStableRunStartsTheSequenceAgain) {
  Backoff backoff({milliseconds(500), milliseconds(30000), milliseconds(30000)},
                  [] { return 0.999; });
  for (int i = 0; i < 10; ++i) backoff.next(milliseconds(1000));  // short runs: keep growing
  EXPECT_EQ(backoff.failures(), 10);
  EXPECT_GT(backoff.next(milliseconds(29999)).count(), 20000);
  const auto after_stable = backoff.next(milliseconds(30000));
  EXPECT_LE(after_stable.count(), 500);
  EXPECT_EQ(backoff.failures(), 1);
}

}  // namespace
}  // namespace devx::bridge::kube
