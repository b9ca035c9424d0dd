#pragma once
// The shared state behind Operation (caller side) and OperationScope (worker side).
//
// Invariants:
//  * Events are delivered in emission order, either to the queue or to the callback, never both.
//  * `done` becomes true exactly once, after the last event of the work was emitted; next_event
//    reports `end` only when done and the queue is empty.
//  * Listeners outside the operation (the context's subscribers and event fd) are reached through
//    `sink`, which never blocks on this state's locks.
#include <devx/error.hpp>
#include <devx/events.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

namespace devx {

class OperationState {
 public:
  // Forwards an event (or, with nullptr, a "finished" notification) to the owning context.
  using Sink = std::function<void(const Event* event)>;
  using NowMs = std::function<std::int64_t()>;

  OperationState(std::string kind, Sink sink = {}, NowMs now_ms = {});

  const std::string& kind() const noexcept { return kind_; }

  // Worker side.
  void emit(Event event);
  void finish_with_result(std::string result_json);
  // Records the failure of the work; `error` may hold any exception. A cancelled operation
  // finishes with ErrorCode::cancelled (the original failure, if any, becomes its cause).
  void finish_with_exception(std::exception_ptr error);
  std::stop_token stop_token() const noexcept { return stop_.get_token(); }
  bool stop_requested() const noexcept { return stop_.stop_requested(); }

  // Caller side.
  void cancel() noexcept { stop_.request_stop(); }
  bool done() const;
  bool wait_for(std::chrono::milliseconds timeout) const;
  void wait() const;
  NextEvent next_event(std::chrono::milliseconds timeout);
  std::string result() const;
  void set_callback(std::function<void(const Event&)> callback);

 private:
  void finish(std::optional<std::string> result, std::optional<Error> error);

  const std::string kind_;
  const Sink sink_;
  const NowMs now_ms_;
  std::stop_source stop_;

  // Serialises delivery (queue vs callback) so order is kept while on_event switches modes.
  // Recursive: a callback may emit or call on_event itself.
  std::recursive_mutex delivery_mutex_;
  std::shared_ptr<const std::function<void(const Event&)>> callback_;  // guarded by delivery_

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<Event> queue_;  // guarded by mutex_
  bool done_ = false;        // guarded by mutex_
  std::optional<std::string> result_;
  std::optional<Error> error_;
};

}  // namespace devx
