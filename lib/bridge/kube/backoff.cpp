#include "bridge/kube/backoff.hpp"

#include <algorithm>
#include <random>

namespace devx::bridge::kube {

Backoff::Backoff(BackoffOptions options, std::function<double()> random01)
    : options_(options), random01_(std::move(random01)) {
  if (!random01_) {
    random01_ = [engine = std::mt19937_64(std::random_device{}())]() mutable {
      return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
  }
}

std::chrono::milliseconds Backoff::next(std::chrono::milliseconds worked_for) {
  if (worked_for >= options_.stable_after) failures_ = 0;
  // initial·2^n, computed without overflow once the cap is reached.
  std::chrono::milliseconds ceiling = options_.initial;
  for (int i = 0; i < failures_ && ceiling < options_.cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, options_.cap);
  ++failures_;
  const double r = std::clamp(random01_(), 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<std::chrono::milliseconds::rep>(r * static_cast<double>(ceiling.count())));
}

}  // namespace devx::bridge::kube
