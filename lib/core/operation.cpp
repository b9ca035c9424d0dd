#include <devx/events.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <utility>

#include "core/json.hpp"
#include "core/operation_state.hpp"

namespace devx {
namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view event_type_name(EventType type) noexcept {
  switch (type) {
    case EventType::progress:
      return "progress";
    case EventType::log:
      return "log";
    case EventType::state:
      return "state";
    case EventType::warning:
      return "warning";
    case EventType::plan:
      return "plan";
  }
  return "unknown";
}

std::string_view log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "unknown";
}

std::string Event::to_json() const {
  boost::json::object out;
  out["v"] = 1;
  out["type"] = event_type_name(type);
  out["time_ms"] = time_ms;
  out["source"] = source;
  out["level"] = log_level_name(level);
  out["message"] = message;
  if (!data_json.empty()) {
    boost::json::value data = core::parse_json_or_null(data_json);
    // A payload that is not JSON is still shown rather than dropped.
    out["data"] = data.is_null() ? boost::json::value(data_json) : std::move(data);
  }
  return core::to_json_string(out);
}

// ---------------------------------------------------------------------------------------------
// OperationState

OperationState::OperationState(std::string kind, Sink sink, NowMs now_ms)
    : kind_(std::move(kind)), sink_(std::move(sink)), now_ms_(std::move(now_ms)) {}

void OperationState::emit(Event event) {
  if (event.time_ms == 0) event.time_ms = now_ms_ ? now_ms_() : system_now_ms();
  {
    std::lock_guard delivery(delivery_mutex_);
    if (auto callback = callback_) {
      (*callback)(event);
    } else {
      std::lock_guard lock(mutex_);
      queue_.push_back(event);
      changed_.notify_all();
    }
  }
  if (sink_) sink_(&event);
}

void OperationState::finish_with_result(std::string result_json) {
  if (stop_.stop_requested()) {
    finish(std::nullopt, Error(ErrorCode::cancelled, "operation '" + kind_ + "' was cancelled"));
  } else {
    finish(std::move(result_json), std::nullopt);
  }
}

void OperationState::finish_with_exception(std::exception_ptr error) {
  std::optional<Error> failure;
  try {
    std::rethrow_exception(std::move(error));
  } catch (const Error& e) {
    failure = e;
  } catch (const std::exception& e) {
    failure = Error(ErrorCode::internal, "operation '" + kind_ + "' failed: " + e.what());
  } catch (...) {
    failure = Error(ErrorCode::internal, "operation '" + kind_ + "' failed: unknown exception");
  }
  if (stop_.stop_requested() && failure->code() != ErrorCode::cancelled) {
    Error cancelled(ErrorCode::cancelled, "operation '" + kind_ + "' was cancelled");
    cancelled.with_cause(*failure);
    failure = std::move(cancelled);
  }
  finish(std::nullopt, std::move(failure));
}

void OperationState::finish(std::optional<std::string> result, std::optional<Error> error) {
  {
    std::lock_guard lock(mutex_);
    if (done_) return;
    result_ = std::move(result);
    error_ = std::move(error);
    done_ = true;
    changed_.notify_all();
  }
  if (sink_) sink_(nullptr);
}

bool OperationState::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

bool OperationState::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done_; });
}

void OperationState::wait() const {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return done_; });
}

NextEvent OperationState::next_event(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return !queue_.empty() || done_; });
  NextEvent next;
  if (!queue_.empty()) {
    next.status = NextEvent::Status::event;
    next.event = std::move(queue_.front());
    queue_.pop_front();
  } else if (done_) {
    next.status = NextEvent::Status::end;
  } else {
    next.status = NextEvent::Status::timeout;
  }
  return next;
}

std::string OperationState::result() const {
  wait();
  std::lock_guard lock(mutex_);
  if (error_) throw *error_;
  return result_.value_or(std::string());
}

void OperationState::set_callback(std::function<void(const Event&)> callback) {
  std::lock_guard delivery(delivery_mutex_);
  if (!callback) {
    callback_.reset();
    return;
  }
  auto shared = std::make_shared<const std::function<void(const Event&)>>(std::move(callback));
  // Events emitted while we drain are queued behind delivery_mutex_, so order is preserved.
  std::deque<Event> pending;
  {
    std::lock_guard lock(mutex_);
    pending.swap(queue_);
  }
  for (const Event& event : pending) (*shared)(event);
  callback_ = std::move(shared);
}

// ---------------------------------------------------------------------------------------------
// Operation / OperationScope

Operation::Operation(std::shared_ptr<OperationState> state) : state_(std::move(state)) {
  if (!state_) throw Error(ErrorCode::invalid_argument, "Operation requires a state");
}

const std::string& Operation::kind() const noexcept { return state_->kind(); }
bool Operation::wait_for(std::chrono::milliseconds timeout) const {
  return state_->wait_for(timeout);
}
void Operation::wait() const { state_->wait(); }
bool Operation::done() const { return state_->done(); }
void Operation::cancel() { state_->cancel(); }
NextEvent Operation::next_event(std::chrono::milliseconds timeout) {
  return state_->next_event(timeout);
}
std::string Operation::result() const { return state_->result(); }
void Operation::on_event(std::function<void(const Event&)> callback) {
  state_->set_callback(std::move(callback));
}

OperationScope::OperationScope(std::shared_ptr<OperationState> state) : state_(std::move(state)) {
  if (!state_) throw Error(ErrorCode::invalid_argument, "OperationScope requires a state");
}

void OperationScope::emit(Event event) { state_->emit(std::move(event)); }

void OperationScope::progress(std::string source, std::string message) {
  Event event;
  event.type = EventType::progress;
  event.source = std::move(source);
  event.message = std::move(message);
  state_->emit(std::move(event));
}

bool OperationScope::cancelled() const { return state_->stop_requested(); }

std::stop_token OperationScope::stop_token() const { return state_->stop_token(); }

}  // namespace devx
