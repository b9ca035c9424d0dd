#pragma once
// A bounded queue of events for consumers that poll (the C ABI's devx_session_next_event, the
// Python and Node bindings): producers on library threads never block on it and memory stays
// bounded however fast a service logs.
#include <devx/events.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace devx {

class DEVX_API EventQueue {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;

  // `notify_fd` (optional, e.g. Context::event_fd()) is duplicated; 8 bytes are written to the
  // duplicate whenever the queue goes from empty to non-empty, so an eventfd-driven loop wakes up.
  // Consumers must drain (pop with a zero timeout until it returns nullopt) after each wake-up.
  explicit EventQueue(std::size_t capacity = kDefaultCapacity, int notify_fd = -1);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Never blocks on the consumer. When full, the oldest `log` event is dropped (or, when none is
  // queued, the oldest event) and counted; the next pop() reports the drops first as one
  // `warning` event (source "devx", data {"dropped":N}). After close(), pushes are ignored.
  void push(Event event);
  // The next event, waiting up to `timeout` (zero: poll). nullopt on timeout or once closed and
  // empty.
  std::optional<Event> pop(std::chrono::milliseconds timeout);
  // Wakes every waiting pop(); later pushes are ignored.
  void close();

  std::size_t size() const;
  std::size_t capacity() const noexcept;
  // Events dropped since the queue was made.
  std::uint64_t dropped_total() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace devx
