// Bounded event queue (include/devx/event_queue.hpp).
//
// Invariant: `pending_drops` counts events dropped since the last drop warning was handed out;
// the warning is synthesised at pop() time so it sits exactly where the gap is in the stream.
#include <devx/event_queue.hpp>

#include "core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

namespace devx {

struct EventQueue::Impl {
  std::size_t capacity;
  core::UniqueFd notify;
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::deque<Event> events;
  std::uint64_t pending_drops = 0;
  std::uint64_t dropped_total = 0;
  bool closed = false;

  void signal() const noexcept {
    if (!notify) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(notify.get(), &one, sizeof one);
  }

  Event drop_warning() {
    Event warning;
    warning.type = EventType::warning;
    warning.level = LogLevel::warn;
    warning.source = "devx";
    warning.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    warning.message = std::to_string(pending_drops) +
                      " event(s) dropped: the consumer fell behind and the event queue (" +
                      std::to_string(capacity) + " events) was full; log files keep every line";
    warning.data_json = "{\"dropped\":" + std::to_string(pending_drops) + "}";
    pending_drops = 0;
    return warning;
  }
};

EventQueue::EventQueue(std::size_t capacity, int notify_fd) : impl_(std::make_unique<Impl>()) {
  impl_->capacity = std::max<std::size_t>(capacity, 1);
  if (notify_fd >= 0) impl_->notify.reset(::fcntl(notify_fd, F_DUPFD_CLOEXEC, 0));
}

EventQueue::~EventQueue() = default;

void EventQueue::push(Event event) {
  bool was_empty = false;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->closed) return;
    auto& q = impl_->events;
    if (q.size() >= impl_->capacity) {
      auto victim =
          std::find_if(q.begin(), q.end(), [](const Event& e) { return e.type == EventType::log; });
      q.erase(victim != q.end() ? victim : q.begin());
      ++impl_->pending_drops;
      ++impl_->dropped_total;
    }
    was_empty = q.empty();
    q.push_back(std::move(event));
  }
  impl_->changed.notify_one();
  if (was_empty) impl_->signal();
}

std::optional<Event> EventQueue::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  auto ready = [&] { return !impl_->events.empty() || impl_->closed; };
  if (timeout.count() > 0) {
    impl_->changed.wait_for(lock, timeout, ready);
  }
  if (impl_->pending_drops > 0) return impl_->drop_warning();
  if (impl_->events.empty()) return std::nullopt;
  Event event = std::move(impl_->events.front());
  impl_->events.pop_front();
  return event;
}

void EventQueue::close() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->closed = true;
  }
  impl_->changed.notify_all();
}

std::size_t EventQueue::size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->events.size();
}

std::size_t EventQueue::capacity() const noexcept { return impl_->capacity; }

std::uint64_t EventQueue::dropped_total() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->dropped_total;
}

}  // namespace devx
