#pragma once
// Capped exponential backoff with full jitter: the n-th consecutive failure waits a uniformly
// random time in [0, min(cap, initial·2^n)). A run that worked for `stable_after` or longer
// starts the sequence again, so occasional drops over a long day never add up to a long wait.
#include <chrono>
#include <functional>

namespace devx::bridge::kube {

struct BackoffOptions {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds cap{30000};
  std::chrono::milliseconds stable_after{30000};
};

class Backoff {
 public:
  // `random01` returns uniform values in [0, 1); empty = a generator seeded from random_device.
  explicit Backoff(BackoffOptions options = {}, std::function<double()> random01 = {});

  // The pause before the next attempt, given how long the previous one worked.
  std::chrono::milliseconds next(std::chrono::milliseconds worked_for);
  // Consecutive failures counted so far.
  int failures() const noexcept { return failures_; }

 private:
  BackoffOptions options_;
  std::function<double()> random01_;
  int failures_ = 0;
};

}  // namespace devx::bridge::kube
