#pragma once
// Operations and events: long work runs on a context-owned thread and reports through a typed
// event stream. Events may be consumed by polling (next_event) or by a callback; callbacks run
// on the operation's worker thread.
#include <devx/error.hpp>
#include <devx/export.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace devx {

enum class LogLevel : int { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 6 };
enum class EventType : int { progress, log, state, warning, plan };

DEVX_API std::string_view event_type_name(EventType type) noexcept;
DEVX_API std::string_view log_level_name(LogLevel level) noexcept;

struct Event {
  EventType type = EventType::progress;
  std::int64_t time_ms = 0;  // Unix time in milliseconds
  std::string source;        // component or service the event is about ("config", "api", …)
  std::string message;       // human text
  LogLevel level = LogLevel::info;
  std::string data_json;     // optional structured payload (a JSON object), "" when none

  // {"v":1,"type":"log","time_ms":…,"source":…,"level":"info","message":…,"data":{…}}
  DEVX_API std::string to_json() const;
};

struct NextEvent {
  enum class Status { event, timeout, end } status = Status::timeout;
  Event event;  // valid when status == event
};

class OperationState;

// A handle to running work. Copies share the same operation. Thread-safe.
class DEVX_API Operation {
 public:
  explicit Operation(std::shared_ptr<OperationState> state);

  const std::string& kind() const noexcept;
  // Blocks until the work finished; returns false if `timeout` passed first.
  bool wait_for(std::chrono::milliseconds timeout) const;
  void wait() const;
  bool done() const;
  // Asks the work to stop; it finishes with ErrorCode::cancelled unless it was already done.
  void cancel();
  // The next queued event; `end` once the work is done and every event was taken.
  NextEvent next_event(std::chrono::milliseconds timeout);
  // Waits, then returns the result JSON document or throws the operation's Error.
  std::string result() const;
  // Events not yet taken, and all later ones, are delivered to `callback` instead of the queue.
  // The callback runs on the worker thread (or on the calling thread for already-queued events).
  void on_event(std::function<void(const Event&)> callback);

 private:
  std::shared_ptr<OperationState> state_;
};

// What a running piece of work sees of its operation.
class DEVX_API OperationScope {
 public:
  explicit OperationScope(std::shared_ptr<OperationState> state);
  void emit(Event event);
  void progress(std::string source, std::string message);
  bool cancelled() const;
  std::stop_token stop_token() const;

 private:
  std::shared_ptr<OperationState> state_;
};

}  // namespace devx
