#include <devx/clock.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace devx {
namespace {

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  bool sleep_for(std::chrono::nanoseconds duration, std::stop_token stop) const override {
    if (stop.stop_requested()) return false;
    if (duration <= std::chrono::nanoseconds::zero()) return true;
    // Long enough to be "forever" without overflowing steady_clock arithmetic.
    constexpr auto kMax = std::chrono::nanoseconds(std::chrono::hours(24 * 365 * 100));
    const auto deadline = std::chrono::steady_clock::now() + std::min(duration, kMax);
    // A private mutex/cv per call: the stop_token's callback wakes exactly this sleeper.
    std::mutex mutex;
    std::condition_variable_any cv;
    std::unique_lock lock(mutex);
    cv.wait_until(lock, stop, deadline, [] { return false; });
    return !stop.stop_requested();
  }
};

}  // namespace

std::shared_ptr<Clock> make_system_clock() { return std::make_shared<SystemClock>(); }

}  // namespace devx
