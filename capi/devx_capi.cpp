// The C ABI (capi/include/devx/devx.h), implemented on top of the public C++ API.
//
// Invariants:
//  * No exception crosses this file's extern "C" functions: every body runs inside guard(), which
//    turns devx::Error into its status and a devx_error_t, and anything else into DEVX_E_INTERNAL.
//  * Every string handed to the caller is a malloc'd copy released with devx_string_free.
//  * Out-parameters and *err are written only when there is something to write: outputs on
//    success, *err on failure (docs/c-abi.md).
// The handle structs and those helpers are shared with the other capi/*.cpp (capi_internal.hpp).
#include "capi_internal.hpp"

#include <devx/devx.h>

#include <devx/bridge.hpp>
#include <devx/config.hpp>
#include <devx/context.hpp>
#include <devx/devx.hpp>
#include <devx/error.hpp>
#include <devx/event_queue.hpp>
#include <devx/events.hpp>
#include <devx/orchestrator.hpp>
#include <devx/topology.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace json = boost::json;
using namespace devx::capi;

// A devx::Session plus the bounded queue its events are polled from. The queue is fed by a
// Session::subscribe listener (on library threads) and wakes the context's event fd.
struct devx_session {
  devx_context* ctx = nullptr;
  std::shared_ptr<devx::Session> session;
  std::shared_ptr<devx::EventQueue> queue;
  int listener = 0;
  // Operations started through this handle: devx_session_free cancels and waits for them, and
  // devx_session_next_event does not report the end while one runs.
  std::mutex mutex;
  std::vector<devx::Operation> operations;
};

namespace {

using devx::Error;
using devx::ErrorCode;

// ---- options documents --------------------------------------------------------------------------

devx::LogLevel parse_log_level(std::string_view what, std::string_view text) {
  using devx::LogLevel;
  for (LogLevel level : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn,
                         LogLevel::error, LogLevel::off}) {
    if (devx::log_level_name(level) == text) return level;
  }
  throw invalid_argument(
      std::string(what) + ": unknown \"log_level\" \"" + std::string(text) + "\"",
      "use one of trace, debug, info, warn, error, off");
}

devx::ContextOptions parse_context_options(const char* text) {
  constexpr std::string_view what = "context options";
  constexpr std::string_view allowed = "v, devx_home, env, dry_run, log_level";
  devx::ContextOptions options;
  for (const auto& [key, value] : parse_options(text, what)) {
    std::string storage;
    if (key == "v") continue;
    if (key == "devx_home") {
      options.devx_home = expect_string(what, key, value, storage);
    } else if (key == "env") {
      if (!value.is_object()) wrong_type(what, key, "an object of strings", value);
      std::map<std::string, std::string> env;
      for (const auto& [name, entry] : value.as_object()) {
        if (!entry.is_string()) {
          wrong_type(what, "env." + std::string(name), "a string", entry);
        }
        env.emplace(std::string(name), std::string(entry.as_string()));
      }
      options.env = std::move(env);
    } else if (key == "dry_run") {
      if (!value.is_bool()) wrong_type(what, key, "a boolean", value);
      options.dry_run = value.as_bool();
    } else if (key == "log_level") {
      options.log_level = parse_log_level(what, expect_string(what, key, value, storage));
    } else {
      unknown_key(what, key, allowed);
    }
  }
  return options;
}

devx::LoadOptions parse_load_options(const char* text) {
  constexpr std::string_view what = "load options";
  constexpr std::string_view allowed = "v, profile, user";
  devx::LoadOptions options;
  for (const auto& [key, value] : parse_options(text, what)) {
    std::string storage;
    if (key == "v") continue;
    if (key == "profile") {
      options.profile = expect_string(what, key, value, storage);
    } else if (key == "user") {
      options.user = expect_string(what, key, value, storage);
    } else {
      unknown_key(what, key, allowed);
    }
  }
  return options;
}

// {"v":1,"only":[…],"keep_going":bool,"container_engine":"podman"|"docker"|""}
// (docs/schemas/session-options.schema.json)
devx::UpOptions parse_session_options(const char* text) {
  constexpr std::string_view what = "session options";
  constexpr std::string_view allowed = "v, only, keep_going, container_engine";
  devx::UpOptions options;
  for (const auto& [key, value] : parse_options(text, what)) {
    std::string storage;
    if (key == "v") continue;
    if (key == "only") {
      options.only = expect_string_list(what, key, value);
    } else if (key == "keep_going") {
      if (!value.is_bool()) wrong_type(what, key, "a boolean", value);
      options.keep_going = value.as_bool();
    } else if (key == "container_engine") {
      options.container_engine = expect_string(what, key, value, storage);
      if (options.container_engine != "" && options.container_engine != "podman" &&
          options.container_engine != "docker") {
        throw invalid_argument(std::string(what) + ": unknown \"container_engine\" \"" +
                                   options.container_engine + "\"",
                               "use podman, docker, or \"\" to detect one");
      }
    } else {
      unknown_key(what, key, allowed);
    }
  }
  return options;
}

// {"v":1,"volumes":bool,"only":[…]} (docs/schemas/stop-options.schema.json)
devx::StopOptions parse_stop_options(const char* text) {
  constexpr std::string_view what = "stop options";
  constexpr std::string_view allowed = "v, volumes, only";
  devx::StopOptions options;
  for (const auto& [key, value] : parse_options(text, what)) {
    if (key == "v") continue;
    if (key == "volumes") {
      if (!value.is_bool()) wrong_type(what, key, "a boolean", value);
      options.remove_volumes = value.as_bool();
    } else if (key == "only") {
      options.only = expect_string_list(what, key, value);
    } else {
      unknown_key(what, key, allowed);
    }
  }
  return options;
}

// ---- bridge options (docs/schemas/bridge-*-options.schema.json) ---------------------------------

// {"kubeconfig","context","kubectl"}
devx::KubeSettings parse_kube(std::string_view what, const json::value& value) {
  constexpr std::string_view key = "kube";
  devx::KubeSettings kube;
  for (const auto& [name, entry] : expect_object(what, key, value)) {
    const auto path = field_path(key, name);
    std::string storage;
    if (name == "kubeconfig") {
      kube.kubeconfig = expect_string(what, path, entry, storage);
    } else if (name == "context") {
      kube.context = expect_string(what, path, entry, storage);
    } else if (name == "kubectl") {
      kube.kubectl = expect_string(what, path, entry, storage);
    } else {
      unknown_key(what, path, "kubeconfig, context, kubectl");
    }
  }
  return kube;
}

std::string parse_origin(std::string_view what, const json::value& value) {
  std::string origin;
  expect_string(what, "origin", value, origin);
  if (origin != "standalone" && origin != "up") {
    throw invalid_argument(std::string(what) + ": unknown \"origin\" \"" + origin + "\"",
                           "use standalone or up");
  }
  return origin;
}

// {"service","namespace","port","local_port"}
devx::BridgeTargetSpec parse_bridge_target(std::string_view what, std::string_view path,
                                           const json::value& value) {
  devx::BridgeTargetSpec target;
  for (const auto& [name, entry] : expect_object(what, path, value)) {
    const auto key = field_path(path, name);
    std::string storage;
    if (name == "service") {
      target.service = expect_string(what, key, entry, storage);
    } else if (name == "namespace") {
      target.namespace_ = expect_string(what, key, entry, storage);
    } else if (name == "port") {
      target.port = expect_int(what, key, entry);
    } else if (name == "local_port") {
      target.local_port = expect_int(what, key, entry);
    } else {
      unknown_key(what, key, "service, namespace, port, local_port");
    }
  }
  return target;
}

// {"remote","local"}
devx::BridgePortMapping parse_bridge_port(std::string_view what, std::string_view path,
                                          const json::value& value) {
  devx::BridgePortMapping mapping;
  for (const auto& [name, entry] : expect_object(what, path, value)) {
    const auto key = field_path(path, name);
    if (name == "remote") {
      mapping.remote = expect_int(what, key, entry);
    } else if (name == "local") {
      mapping.local = expect_int(what, key, entry);
    } else {
      unknown_key(what, key, "remote, local");
    }
  }
  return mapping;
}

// {"v":1,"kube":{…},"namespace","targets":[…],"origin"}
devx::BridgeConnectOptions parse_bridge_connect_options(const char* text) {
  constexpr std::string_view what = "bridge connect options";
  constexpr std::string_view allowed = "v, kube, namespace, targets, origin";
  devx::BridgeConnectOptions options;
  for (const auto& [key, value] : parse_options(text, what)) {
    std::string storage;
    if (key == "v") continue;
    if (key == "kube") {
      options.kube = parse_kube(what, value);
    } else if (key == "namespace") {
      options.namespace_ = expect_string(what, key, value, storage);
    } else if (key == "targets") {
      const auto& targets = expect_array(what, key, value);
      for (std::size_t i = 0; i < targets.size(); ++i) {
        options.targets.push_back(parse_bridge_target(what, index_path(key, i), targets[i]));
      }
    } else if (key == "origin") {
      options.origin = parse_origin(what, value);
    } else {
      unknown_key(what, key, allowed);
    }
  }
  return options;
}

// {"v":1,"kube":{…},"service","namespace","ports":[…],"agent_image","ready_timeout_s","grace_s",
//  "keepalive_interval_ms","keepalive_timeout_ms","origin"}
devx::BridgeInterceptOptions parse_bridge_intercept_options(const char* text) {
  constexpr std::string_view what = "bridge intercept options";
  constexpr std::string_view allowed =
      "v, kube, service, namespace, ports, agent_image, ready_timeout_s, grace_s, "
      "keepalive_interval_ms, keepalive_timeout_ms, origin";
  devx::BridgeInterceptOptions options;
  for (const auto& [key, value] : parse_options(text, what)) {
    std::string storage;
    if (key == "v") continue;
    if (key == "kube") {
      options.kube = parse_kube(what, value);
    } else if (key == "service") {
      options.service = expect_string(what, key, value, storage);
    } else if (key == "namespace") {
      options.namespace_ = expect_string(what, key, value, storage);
    } else if (key == "ports") {
      const auto& ports = expect_array(what, key, value);
      for (std::size_t i = 0; i < ports.size(); ++i) {
        options.ports.push_back(parse_bridge_port(what, index_path(key, i), ports[i]));
      }
    } else if (key == "agent_image") {
      options.agent_image = expect_string(what, key, value, storage);
    } else if (key == "ready_timeout_s") {
      options.ready_timeout = std::chrono::seconds(expect_int(what, key, value));
    } else if (key == "grace_s") {
      options.grace = std::chrono::seconds(expect_int(what, key, value));
    } else if (key == "keepalive_interval_ms") {
      options.keepalive_interval = std::chrono::milliseconds(expect_int(what, key, value));
    } else if (key == "keepalive_timeout_ms") {
      options.keepalive_timeout = std::chrono::milliseconds(expect_int(what, key, value));
    } else if (key == "origin") {
      options.origin = parse_origin(what, value);
    } else {
      unknown_key(what, key, allowed);
    }
  }
  return options;
}

// {"v":1,"kube":{…},"namespace","repair"}
devx::BridgeDoctorOptions parse_bridge_doctor_options(const char* text) {
  constexpr std::string_view what = "bridge doctor options";
  constexpr std::string_view allowed = "v, kube, namespace, repair";
  devx::BridgeDoctorOptions options;
  for (const auto& [key, value] : parse_options(text, what)) {
    std::string storage;
    if (key == "v") continue;
    if (key == "kube") {
      options.kube = parse_kube(what, value);
    } else if (key == "namespace") {
      options.namespace_ = expect_string(what, key, value, storage);
    } else if (key == "repair") {
      options.repair = expect_bool(what, key, value);
    } else {
      unknown_key(what, key, allowed);
    }
  }
  return options;
}

std::filesystem::path require_path(const char* path, const char* name) {
  require(path, name);
  if (*path == '\0') throw invalid_argument(std::string(name) + " must not be empty");
  return std::filesystem::path(path);
}

// Milliseconds for APIs that take a timeout; negative means "no limit" and is served in slices so
// no deadline arithmetic can overflow.
constexpr std::chrono::milliseconds kForeverSlice{std::chrono::hours(1)};

}  // namespace

// ---- version ------------------------------------------------------------------------------------

extern "C" DEVX_EXPORT const char* devx_version(void) {
  // devx::version() is a view of a literal; keep a NUL-terminated copy with static storage.
  static const std::string version = [] {
    try {
      return std::string(devx::version());
    } catch (...) {
      return std::string(DEVX_VERSION_STRING);
    }
  }();
  return version.c_str();
}

extern "C" DEVX_EXPORT int devx_abi_version(void) { return devx::abi_version(); }

// ---- strings and errors -------------------------------------------------------------------------

extern "C" DEVX_EXPORT void devx_string_free(char* str) { std::free(str); }

extern "C" DEVX_EXPORT devx_status_t devx_error_code(const devx_error_t* err) {
  return err == nullptr ? DEVX_OK : err->code;
}
extern "C" DEVX_EXPORT const char* devx_error_code_name(const devx_error_t* err) {
  return err == nullptr ? "ok" : err->name.c_str();
}
extern "C" DEVX_EXPORT const char* devx_error_message(const devx_error_t* err) {
  return err == nullptr ? "" : err->message.c_str();
}
extern "C" DEVX_EXPORT const char* devx_error_hint(const devx_error_t* err) {
  return err == nullptr ? "" : err->hint.c_str();
}
extern "C" DEVX_EXPORT const char* devx_error_details_json(const devx_error_t* err) {
  return err == nullptr ? "{}" : err->details.c_str();
}
extern "C" DEVX_EXPORT const char* devx_error_json(const devx_error_t* err) {
  return err == nullptr ? "{}" : err->json.c_str();
}
extern "C" DEVX_EXPORT void devx_error_free(devx_error_t* err) { delete err; }

// ---- context ------------------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_context_new(devx_context_t** out,
                                                      const char* options_json,
                                                      devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    auto options = parse_context_options(options_json);
    auto handle = std::make_unique<devx_context>();
    handle->context = std::make_unique<devx::Context>(std::move(options));
    *out = handle.release();
  });
}

extern "C" DEVX_EXPORT void devx_context_free(devx_context_t* ctx) {
  if (ctx == nullptr) return;
  try {
    std::vector<devx::Operation> operations;
    {
      std::lock_guard lock(ctx->mutex);
      operations.swap(ctx->operations);
    }
    for (auto& operation : operations) operation.cancel();
    for (auto& operation : operations) operation.wait();
    std::vector<std::weak_ptr<devx::Session>> sessions;
    {
      std::lock_guard lock(ctx->mutex);
      sessions.swap(ctx->sessions);
    }
    for (auto& weak : sessions) {
      if (auto session = weak.lock()) session->down().wait();
    }
  } catch (...) {
    // The Context destructor below still joins every thread it owns.
  }
  delete ctx;
}

extern "C" DEVX_EXPORT int devx_context_event_fd(const devx_context_t* ctx) {
  return ctx == nullptr ? -1 : ctx->context->event_fd();
}

// ---- project configuration ----------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_project_load(devx_project_t** out, devx_context_t* ctx,
                                                       const char* path, const char* options_json,
                                                       devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(ctx, "ctx");
    auto file = require_path(path, "path");
    auto options = parse_load_options(options_json);
    auto handle = std::make_unique<devx_project>();
    handle->project = devx::load_project_or_throw(file, options);
    *out = handle.release();
  });
}

extern "C" DEVX_EXPORT void devx_project_free(devx_project_t* project) { delete project; }

extern "C" DEVX_EXPORT devx_status_t devx_project_to_json(char** out_json,
                                                          const devx_project_t* project,
                                                          devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(project, "project");
    *out_json = copy_string(devx::project_to_json(project->project));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_project_to_yaml(char** out_yaml,
                                                          const devx_project_t* project,
                                                          devx_error_t** err) {
  return guard(err, [&] {
    require(out_yaml, "out_yaml");
    require(project, "project");
    *out_yaml = copy_string(devx::project_to_yaml(project->project));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_project_validate(char** out_json, devx_context_t* ctx,
                                                           const char* path,
                                                           const char* options_json,
                                                           devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    auto start = require_path(path, "path");
    auto options = parse_load_options(options_json);
    // A directory is searched upwards; "file" names the devx.yaml that was validated.
    std::error_code ec;
    auto file = std::filesystem::is_directory(start, ec) ? devx::find_project_file(start) : start;
    file = std::filesystem::absolute(file, ec).lexically_normal();
    auto result = devx::load_project(file, options);

    json::value report = json::parse(devx::diagnostics_to_json(result.diagnostics));
    const auto& in = report.as_object();
    json::object doc;
    doc["v"] = 1;
    doc["ok"] = result.ok();
    doc["file"] = file.string();
    const auto* diagnostics = in.if_contains("diagnostics");
    doc["diagnostics"] = diagnostics != nullptr ? *diagnostics : json::array();
    *out_json = copy_string(json::serialize(doc));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_project_render_map(char** out,
                                                             const devx_project_t* project,
                                                             const char* format,
                                                             devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(project, "project");
    require(format, "format");
    auto parsed = devx::parse_map_format(format);
    if (!parsed) {
      throw invalid_argument("unknown map format \"" + std::string(format) + "\"",
                             "use one of mermaid, dot, json");
    }
    *out = copy_string(devx::render_map(project->project, *parsed));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_config_schema(char** out_json, devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    *out_json = copy_string(devx::devx_yaml_json_schema());
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_project_find(char** out_path, const char* start_dir,
                                                       devx_error_t** err) {
  return guard(err, [&] {
    require(out_path, "out_path");
    auto start = require_path(start_dir, "start_dir");
    *out_path = copy_string(devx::find_project_file(start).string());
  });
}

// ---- operations and events ----------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_project_load_start(devx_op_t** out, devx_context_t* ctx,
                                                             const char* path,
                                                             const char* options_json,
                                                             devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(ctx, "ctx");
    auto file = require_path(path, "path");
    auto options = parse_load_options(options_json);

    devx::ProjectLoad load = devx::start_project_load(*ctx->context, file, options);
    auto handle = std::make_unique<devx_op>(
        devx_op{load.operation(), std::make_shared<CallbackSlot>(), std::move(load)});
    std::lock_guard lock(ctx->mutex);
    std::erase_if(ctx->operations, [](const devx::Operation& op) { return op.done(); });
    ctx->operations.push_back(handle->operation);
    *out = handle.release();
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_op_next_event(devx_next_event_t* out_kind,
                                                        char** out_json, devx_op_t* op,
                                                        int timeout_ms, devx_error_t** err) {
  return guard(err, [&] {
    require(out_kind, "out_kind");
    require(out_json, "out_json");
    require(op, "op");
    devx::NextEvent next;
    if (timeout_ms < 0) {
      do {
        next = op->operation.next_event(kForeverSlice);
      } while (next.status == devx::NextEvent::Status::timeout);
    } else {
      next = op->operation.next_event(std::chrono::milliseconds(timeout_ms));
    }
    switch (next.status) {
      case devx::NextEvent::Status::event:
        *out_json = copy_string(next.event.to_json());
        *out_kind = DEVX_EVENT_READY;
        break;
      case devx::NextEvent::Status::timeout:
        *out_json = nullptr;
        *out_kind = DEVX_EVENT_TIMEOUT;
        break;
      case devx::NextEvent::Status::end:
        *out_json = nullptr;
        *out_kind = DEVX_EVENT_END;
        break;
    }
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_op_wait(int* out_done, devx_op_t* op, int timeout_ms) {
  return guard(nullptr, [&] {
    require(out_done, "out_done");
    require(op, "op");
    if (timeout_ms < 0) {
      op->operation.wait();
      *out_done = 1;
    } else {
      *out_done = op->operation.wait_for(std::chrono::milliseconds(timeout_ms)) ? 1 : 0;
    }
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_op_cancel(devx_op_t* op) {
  return guard(nullptr, [&] {
    require(op, "op");
    op->operation.cancel();
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_op_result(char** out_json, devx_op_t* op,
                                                    devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(op, "op");
    *out_json = copy_string(op->operation.result());
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_op_project(devx_project_t** out, devx_op_t* op,
                                                     devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(op, "op");
    if (!op->load)
      throw Error(ErrorCode::invalid_argument, "this operation does not load a project",
                  "pass an operation from devx_project_load_start");
    auto handle = std::make_unique<devx_project>();
    handle->project = *op->load->project();
    *out = handle.release();
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_op_set_callback(devx_op_t* op, devx_event_cb callback,
                                                          void* user_data) {
  return guard(nullptr, [&] {
    require(op, "op");
    {
      std::lock_guard lock(op->slot->mutex);
      op->slot->callback = callback;
      op->slot->user_data = user_data;
    }
    if (callback == nullptr) {
      op->operation.on_event(nullptr);  // back to the queue (polling)
      return;
    }
    op->operation.on_event([slot = op->slot](const devx::Event& event) {
      std::lock_guard lock(slot->mutex);
      if (slot->callback == nullptr) return;  // the handle was freed
      std::string text;
      try {
        text = event.to_json();
      } catch (...) {
        return;  // nothing can be reported from a library thread; drop the event
      }
      slot->callback(text.c_str(), slot->user_data);
    });
  });
}

extern "C" DEVX_EXPORT void devx_op_free(devx_op_t* op) {
  if (op == nullptr) return;
  {
    // Waits for a callback in flight; afterwards no callback of this handle runs again.
    std::lock_guard lock(op->slot->mutex);
    op->slot->callback = nullptr;
    op->slot->user_data = nullptr;
  }
  delete op;
}

// ---- sessions (`devx up`)
// -------------------------------------------------------------------------

namespace {

// An operation of `session`, registered with its context (devx_context_free cancels it) and its
// handle (devx_session_free cancels it).
devx_op_t* adopt_session_operation(devx_session_t* session, devx::Operation operation) {
  {
    std::lock_guard lock(session->mutex);
    std::erase_if(session->operations, [](const devx::Operation& op) { return op.done(); });
    session->operations.push_back(operation);
  }
  return adopt_context_operation(session->ctx, std::move(operation));
}

bool alive(devx::ServiceState state) {
  using devx::ServiceState;
  switch (state) {
    case ServiceState::pending:
    case ServiceState::starting:
    case ServiceState::running:
    case ServiceState::healthy:
    case ServiceState::unhealthy:
    case ServiceState::stopping:
      return true;
    case ServiceState::completed:
    case ServiceState::failed:
    case ServiceState::stopped:
      return false;
  }
  return true;
}

// Nothing more can happen until the caller starts something: no operation of the handle runs and
// no node is alive.
bool quiescent(devx_session_t* session) {
  {
    std::lock_guard lock(session->mutex);
    for (const auto& op : session->operations) {
      if (!op.done()) return false;
    }
  }
  for (const auto& status : session->session->status()) {
    if (alive(status.state)) return false;
  }
  return true;
}

constexpr std::chrono::milliseconds kSessionPollSlice{50};

}  // namespace

extern "C" DEVX_EXPORT devx_status_t devx_up_plan(char** out_json, devx_context_t* ctx,
                                                  const devx_project_t* project,
                                                  const char* options_json, devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    require(project, "project");
    auto options = parse_session_options(options_json);
    *out_json = copy_string(devx::plan_up(*ctx->context, project->project, options).to_json());
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_session_new(devx_session_t** out, devx_context_t* ctx,
                                                      const devx_project_t* project,
                                                      const char* options_json,
                                                      devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(ctx, "ctx");
    require(project, "project");
    auto options = parse_session_options(options_json);
    auto handle = std::make_unique<devx_session>();
    handle->ctx = ctx;
    handle->queue = std::make_shared<devx::EventQueue>(devx::EventQueue::kDefaultCapacity,
                                                       ctx->context->event_fd());
    handle->session = devx::Session::create(*ctx->context, project->project, std::move(options));
    handle->listener = handle->session->subscribe(
        [queue = handle->queue](const devx::Event& event) { queue->push(event); });
    {
      std::lock_guard lock(ctx->mutex);
      std::erase_if(ctx->sessions, [](const auto& weak) { return weak.expired(); });
      ctx->sessions.push_back(handle->session);
    }
    *out = handle.release();
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_session_up_start(devx_op_t** out, devx_session_t* session,
                                                           devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(session, "session");
    *out = adopt_session_operation(session, session->session->up());
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_session_down_start(devx_op_t** out,
                                                             devx_session_t* session,
                                                             const char* options_json,
                                                             devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(session, "session");
    auto options = parse_stop_options(options_json);
    *out = adopt_session_operation(session, session->session->down(std::move(options)));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_session_restart_start(devx_op_t** out,
                                                                devx_session_t* session,
                                                                const char* service,
                                                                devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(session, "session");
    require(service, "service");
    if (*service == '\0') throw invalid_argument("service must not be empty");
    *out = adopt_session_operation(session, session->session->restart(service));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_session_status(char** out_json,
                                                         const devx_session_t* session,
                                                         devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(session, "session");
    *out_json = copy_string(session->session->status_json());
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_session_next_event(devx_next_event_t* out_kind,
                                                             char** out_json,
                                                             devx_session_t* session,
                                                             int timeout_ms, devx_error_t** err) {
  return guard(err, [&] {
    require(out_kind, "out_kind");
    require(out_json, "out_json");
    require(session, "session");
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
      // Served in slices so the end (an operation finishing, the last node stopping) is noticed
      // while waiting.
      auto slice = kSessionPollSlice;
      if (timeout_ms >= 0) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
        slice = std::max(std::chrono::milliseconds(0), std::min(slice, left));
      }
      if (auto event = session->queue->pop(slice)) {
        *out_json = copy_string(event->to_json());
        *out_kind = DEVX_EVENT_READY;
        return;
      }
      if (session->queue->size() == 0 && quiescent(session)) {
        *out_json = nullptr;
        *out_kind = DEVX_EVENT_END;
        return;
      }
      if (timeout_ms >= 0 && clock::now() >= deadline) {
        *out_json = nullptr;
        *out_kind = DEVX_EVENT_TIMEOUT;
        return;
      }
    }
  });
}

extern "C" DEVX_EXPORT void devx_session_free(devx_session_t* session) {
  if (session == nullptr) return;
  try {
    std::vector<devx::Operation> operations;
    {
      std::lock_guard lock(session->mutex);
      operations.swap(session->operations);
    }
    // A running `up` stops (and stops what it started) when cancelled; down/restart finish.
    for (auto& operation : operations) operation.cancel();
    for (auto& operation : operations) operation.wait();
    // Synchronously: every node still running is stopped before this returns.
    session->session->down().wait();
    session->session->unsubscribe(session->listener);
  } catch (...) {
    // The Session's destructor stops what is left when its last reference goes.
  }
  session->queue->close();
  delete session;
}

// ---- Kubernetes bridge
// ----------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_bridge_connect_start(devx_op_t** out, devx_context_t* ctx,
                                                               const char* options_json,
                                                               devx_error_t** err) {
  return operation_call(err, out, ctx, options_json, parse_bridge_connect_options,
                        &devx::start_bridge_connect);
}

extern "C" DEVX_EXPORT devx_status_t devx_bridge_intercept_start(devx_op_t** out,
                                                                 devx_context_t* ctx,
                                                                 const char* options_json,
                                                                 devx_error_t** err) {
  return operation_call(err, out, ctx, options_json, parse_bridge_intercept_options,
                        &devx::start_bridge_intercept);
}

extern "C" DEVX_EXPORT devx_status_t devx_bridge_status(char** out_json, devx_context_t* ctx,
                                                        devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    *out_json = copy_string(devx::bridge_status(*ctx->context));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_bridge_disconnect(char** out_json, devx_context_t* ctx,
                                                            const char* session_id, int wait_ms,
                                                            devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    const std::string_view id = session_id == nullptr ? std::string_view() : session_id;
    // A negative wait keeps the library's default.
    *out_json =
        copy_string(wait_ms < 0 ? devx::bridge_disconnect(*ctx->context, id)
                                : devx::bridge_disconnect(*ctx->context, id,
                                                          std::chrono::milliseconds(wait_ms)));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_bridge_environment(char** out_json, devx_context_t* ctx,
                                                             devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    json::object env;
    for (const auto& [name, value] : devx::bridge_environment(*ctx->context)) env[name] = value;
    json::object doc;
    doc["v"] = 1;
    doc["env"] = std::move(env);
    *out_json = copy_string(json::serialize(doc));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_bridge_doctor_start(devx_op_t** out, devx_context_t* ctx,
                                                              const char* options_json,
                                                              devx_error_t** err) {
  return operation_call(err, out, ctx, options_json, parse_bridge_doctor_options,
                        &devx::start_bridge_doctor);
}

extern "C" DEVX_EXPORT devx_status_t devx_bridge_rbac_yaml(char** out, const char* namespace_,
                                                           devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = copy_string(devx::bridge_rbac_yaml(namespace_ == nullptr ? "" : namespace_));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_bridge_env_prefix(char** out, const char* service,
                                                            const char* namespace_,
                                                            int with_namespace,
                                                            devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    require(service, "service");
    *out = copy_string(devx::bridge_env_prefix(service, namespace_ == nullptr ? "" : namespace_,
                                               with_namespace != 0));
  });
}
