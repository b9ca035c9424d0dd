#pragma once
#include <devx/export.hpp>

#include <chrono>
#include <memory>
#include <stop_token>

namespace devx {

// Time seam, so tests can control it.
class DEVX_API Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  // Sleeps for `duration` or until `stop` is requested; returns false if stopped early.
  virtual bool sleep_for(std::chrono::nanoseconds duration, std::stop_token stop) const = 0;
};

DEVX_API std::shared_ptr<Clock> make_system_clock();

}  // namespace devx
