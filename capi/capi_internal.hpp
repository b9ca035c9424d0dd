#pragma once
// Internal to the C ABI (capi/*.cpp): the handle structs behind the opaque types of devx.h and the
// helpers every extern "C" function uses — guard() (no exception crosses the ABI), malloc'd string
// copies, and strict decoding of options documents (an unknown key or a wrong type is
// invalid_argument naming the field by its path, "targets[1].port").
#include <devx/devx.h>

#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/error.hpp>
#include <devx/events.hpp>
#include <devx/process.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/utf8.hpp"

namespace devx {
class Session;
}

struct devx_error {
  devx_status_t code = DEVX_E_INTERNAL;
  std::string name;
  std::string message;
  std::string hint;
  std::string details;
  std::string json;
};

struct devx_context {
  std::unique_ptr<devx::Context> context;
  // Operations started through the C ABI: devx_context_free cancels and waits for them.
  std::mutex mutex;
  std::vector<devx::Operation> operations;
  // Sessions made through the C ABI: devx_context_free stops those still alive (a safety net for
  // callers that free the context first; the contract is to free sessions before).
  std::vector<std::weak_ptr<devx::Session>> sessions;
};

namespace devx::capi {

// Where a C callback lives. The forwarding lambda installed on the Operation holds this slot, not
// the devx_op_t, so freeing the handle only has to clear the slot. The mutex is recursive so a
// callback may call devx_op_set_callback or devx_op_free on its own operation.
struct CallbackSlot {
  std::recursive_mutex mutex;
  devx_event_cb callback = nullptr;
  void* user_data = nullptr;
};

}  // namespace devx::capi

struct devx_project {
  devx::Project project;
};

struct devx_op {
  devx::Operation operation;
  std::shared_ptr<devx::capi::CallbackSlot> slot;
  std::optional<devx::ProjectLoad> load;  // set for devx_project_load_start
};

namespace devx::capi {

namespace json = boost::json;

inline Error invalid_argument(std::string message, std::string hint = {}) {
  return Error(ErrorCode::invalid_argument, std::move(message), std::move(hint));
}

template <typename T>
void require(const T* pointer, const char* name) {
  if (pointer == nullptr) throw invalid_argument(std::string(name) + " must not be NULL");
}

inline char* copy_string(std::string_view text) {
  auto* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

// Builds the C error from a devx::Error. May throw std::bad_alloc.
inline devx_error_t* make_error(const Error& error) {
  auto out = std::make_unique<devx_error>();
  out->code = static_cast<devx_status_t>(error.code());
  out->name = std::string(error_code_name(error.code()));
  out->message = error.message();
  out->hint = error.hint();
  out->details = error.details_json().empty() ? std::string("{}") : error.details_json();
  out->json = error.to_json();
  return out.release();
}

// Fills *err (when err is not NULL) and returns the status. Never throws: when even the error
// cannot be allocated, *err stays NULL and only the status reports the failure.
inline devx_status_t fail(devx_error_t** err, const Error& error) noexcept {
  const auto status = static_cast<devx_status_t>(error.code());
  if (err != nullptr) {
    try {
      *err = make_error(error);
    } catch (...) {
      *err = nullptr;
    }
  }
  return status;
}

inline devx_status_t fail_internal(devx_error_t** err, const char* what) noexcept {
  try {
    return fail(err, Error(ErrorCode::internal, std::string("internal error: ") + what,
                           "this is a bug in libdevx; please report it"));
  } catch (...) {
    if (err != nullptr) *err = nullptr;
    return DEVX_E_INTERNAL;
  }
}

// Runs `body` and converts every exception into a status (+ error).
template <typename F>
devx_status_t guard(devx_error_t** err, F&& body) noexcept {
  try {
    body();
    return DEVX_OK;
  } catch (const Error& error) {
    return fail(err, error);
  } catch (const std::bad_alloc&) {
    return fail_internal(err, "out of memory");
  } catch (const std::exception& e) {
    return fail_internal(err, e.what());
  } catch (...) {
    return fail_internal(err, "unknown exception");
  }
}

// An operation registered with its context: devx_context_free cancels and waits for it.
inline devx_op_t* adopt_context_operation(devx_context_t* ctx, Operation operation) {
  auto handle =
      std::make_unique<devx_op>(devx_op{operation, std::make_shared<CallbackSlot>(), std::nullopt});
  std::lock_guard lock(ctx->mutex);
  std::erase_if(ctx->operations, [](const Operation& op) { return op.done(); });
  ctx->operations.push_back(std::move(operation));
  return handle.release();
}

// The shape of a call that hands back one document built from the context: out_json, then ctx,
// must not be NULL; `call(context)` returns the text.
template <typename Call>
devx_status_t document_call(devx_error_t** err, char** out_json, devx_context_t* ctx,
                            Call call) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    *out_json = copy_string(call(*ctx->context));
  });
}

// The shape of a call that starts an operation registered with its context: out, then ctx, must
// not be NULL; `start(context)` returns the Operation.
template <typename Start>
devx_status_t start_call(devx_error_t** err, devx_op_t** out, devx_context_t* ctx,
                         Start start) noexcept {
  return guard(err, [&] {
    require(out, "out");
    require(ctx, "ctx");
    *out = adopt_context_operation(ctx, start(*ctx->context));
  });
}

// document_call with an options document: `parse` decodes options_json (after the NULL checks),
// `call(context, options)` returns the text.
template <typename Parse, typename Call>
devx_status_t json_call(devx_error_t** err, char** out_json, devx_context_t* ctx,
                        const char* options_json, Parse parse, Call call) noexcept {
  return document_call(err, out_json, ctx, [&](Context& context) {
    auto options = parse(options_json);
    return call(context, options);
  });
}

// start_call with an options document: `start(context, options)` returns the Operation.
template <typename Parse, typename Start>
devx_status_t operation_call(devx_error_t** err, devx_op_t** out, devx_context_t* ctx,
                             const char* options_json, Parse parse, Start start) noexcept {
  return start_call(err, out, ctx, [&](Context& context) {
    auto options = parse(options_json);
    return start(context, std::move(options));
  });
}

// ---- options documents --------------------------------------------------------------------------

inline const char* kind_name(json::kind kind) {
  switch (kind) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "unknown";
}

// Parses an options document: NULL or "" is an empty object. Checks "v" (absent means 1).
inline json::object parse_options(const char* text, std::string_view what) {
  if (text == nullptr || *text == '\0') return {};
  json::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    throw invalid_argument(std::string(what) + " is not valid JSON: " + ec.message(),
                           "pass NULL or a JSON object such as {\"v\":1}");
  }
  if (!value.is_object()) {
    throw invalid_argument(std::string(what) + " must be a JSON object, not " +
                           kind_name(value.kind()));
  }
  json::object object = std::move(value.as_object());
  if (const auto* v = object.if_contains("v")) {
    const bool is_one =
        (v->is_int64() && v->as_int64() == 1) || (v->is_uint64() && v->as_uint64() == 1);
    if (!is_one) {
      throw invalid_argument(
          std::string(what) + ": unsupported version \"v\": " + json::serialize(*v),
          "this libdevx understands \"v\":1");
    }
  }
  return object;
}

[[noreturn]] inline void unknown_key(std::string_view what, std::string_view key,
                                     std::string_view allowed) {
  throw invalid_argument(std::string(what) + ": unknown key \"" + std::string(key) + "\"",
                         "allowed keys: " + std::string(allowed));
}

[[noreturn]] inline void wrong_type(std::string_view what, std::string_view key,
                                    std::string_view expected, const json::value& got) {
  throw invalid_argument(std::string(what) + ": \"" + std::string(key) + "\" must be " +
                         std::string(expected) + ", not " + kind_name(got.kind()));
}

inline const std::string& expect_string(std::string_view what, std::string_view key,
                                        const json::value& value, std::string& storage) {
  if (!value.is_string()) wrong_type(what, key, "a string", value);
  storage.assign(value.as_string().data(), value.as_string().size());
  return storage;
}

inline std::vector<std::string> expect_string_list(std::string_view what, std::string_view key,
                                                   const json::value& value) {
  if (!value.is_array()) wrong_type(what, key, "an array of strings", value);
  std::vector<std::string> out;
  for (const auto& entry : value.as_array()) {
    if (!entry.is_string()) wrong_type(what, std::string(key) + "[]", "a string", entry);
    out.emplace_back(entry.as_string().data(), entry.as_string().size());
  }
  return out;
}

// Nested fields are named by their path ("targets[0].port") in every error.
inline std::string field_path(std::string_view parent, std::string_view key) {
  return std::string(parent) + "." + std::string(key);
}

inline std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

inline int expect_int(std::string_view what, std::string_view key, const json::value& value) {
  constexpr auto max = std::numeric_limits<int>::max();
  constexpr auto min = std::numeric_limits<int>::min();
  if (value.is_int64() && value.as_int64() >= min && value.as_int64() <= max) {
    return static_cast<int>(value.as_int64());
  }
  if (value.is_uint64() && value.as_uint64() <= static_cast<std::uint64_t>(max)) {
    return static_cast<int>(value.as_uint64());
  }
  if (value.is_int64() || value.is_uint64()) {
    throw invalid_argument(std::string(what) + ": \"" + std::string(key) + "\" is out of range");
  }
  wrong_type(what, key, "an integer", value);
}

inline bool expect_bool(std::string_view what, std::string_view key, const json::value& value) {
  if (!value.is_bool()) wrong_type(what, key, "a boolean", value);
  return value.as_bool();
}

inline const json::object& expect_object(std::string_view what, std::string_view key,
                                         const json::value& value) {
  if (!value.is_object()) wrong_type(what, key, "an object", value);
  return value.as_object();
}

inline const json::array& expect_array(std::string_view what, std::string_view key,
                                       const json::value& value) {
  if (!value.is_array()) wrong_type(what, key, "an array", value);
  return value.as_array();
}

// {"v":1,"exit_code","signal","timed_out","cancelled","out","err"} of a command run in the VM.
// Output is bytes from another machine; the document must stay valid UTF-8 JSON.
inline std::string exec_result_json(const CommandResult& result) {
  json::object doc;
  doc["v"] = 1;
  doc["exit_code"] = result.exit_code;
  doc["signal"] = result.signal;
  doc["timed_out"] = result.timed_out;
  doc["cancelled"] = result.cancelled;
  doc["out"] = core::valid_utf8(result.out);
  doc["err"] = core::valid_utf8(result.err);
  return json::serialize(doc);
}

// {"v":1,"argv":[…]}.
inline std::string argv_document(const std::vector<std::string>& argv) {
  json::array list;
  for (const auto& word : argv) list.emplace_back(word);
  return json::serialize(json::object{{"v", 1}, {"argv", std::move(list)}});
}

// The "diagnostics" array of diagnostics_to_json: [{severity,file,line,column,message,hint}].
inline json::array diagnostics_array(const std::vector<Diagnostic>& diagnostics) {
  json::value report = json::parse(diagnostics_to_json(diagnostics));
  if (auto* list = report.as_object().if_contains("diagnostics"); list != nullptr) {
    return std::move(list->as_array());
  }
  return {};
}

}  // namespace devx::capi
