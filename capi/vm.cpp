// The C ABI of the dev VM, Butane/Ignition, doctor and nuke (devx.h, "ABI version 4"): decodes the
// options documents (docs/schemas/{vm,butane,doctor,nuke}-*.schema.json) into the C++ option
// structs of include/devx/{vm,ignition,doctor,nuke}.hpp and hands back what the library returns.
// No behaviour lives here; the invariants of capi_internal.hpp hold for every function.
#include <devx/devx.h>

#include <devx/doctor.hpp>
#include <devx/ignition.hpp>
#include <devx/nuke.hpp>
#include <devx/vm.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capi_internal.hpp"
#include "core/utf8.hpp"

namespace json = boost::json;
using namespace devx::capi;

namespace {

// One field of an options document: returns false for a key it does not know. Option documents
// that extend another (vm init extends the VM options) try the base's fields first.
using FieldDecoder =
    std::function<bool(std::string_view key, const std::string& path, const json::value& value)>;

void decode_fields(const char* text, std::string_view what, std::string_view allowed,
                   const FieldDecoder& field) {
  for (const auto& [key, value] : parse_options(text, what)) {
    if (key == "v") continue;
    if (!field(key, std::string(key), value)) unknown_key(what, key, allowed);
  }
}

std::string string_field(std::string_view what, const std::string& path, const json::value& value) {
  std::string storage;
  expect_string(what, path, value, storage);
  return storage;
}

// ---- Butane / Ignition --------------------------------------------------------------------------

// {"v":1,"source_name","files_dir","strict","pretty"}
devx::ButaneOptions parse_butane_options(const char* text) {
  constexpr std::string_view what = "butane options";
  devx::ButaneOptions options;
  decode_fields(text, what, "v, source_name, files_dir, strict, pretty",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (key == "source_name") {
                    options.source_name = string_field(what, path, value);
                  } else if (key == "files_dir") {
                    options.files_dir = string_field(what, path, value);
                  } else if (key == "strict") {
                    options.strict = expect_bool(what, path, value);
                  } else if (key == "pretty") {
                    options.pretty = expect_bool(what, path, value);
                  } else {
                    return false;
                  }
                  return true;
                });
  return options;
}

// {"v":1,"hostname","ssh_authorized_keys","runtime","tunnel_id","tunnel_credentials_json",
//  "tunnel_hostname","tunnel_service","tailscale_auth_key"}
devx::DevMachineValues parse_dev_machine_values(const char* text) {
  constexpr std::string_view what = "dev machine values";
  devx::DevMachineValues values;
  decode_fields(text, what,
                "v, hostname, ssh_authorized_keys, runtime, tunnel_id, tunnel_credentials_json, "
                "tunnel_hostname, tunnel_service, tailscale_auth_key",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (key == "hostname") {
                    values.hostname = string_field(what, path, value);
                  } else if (key == "ssh_authorized_keys") {
                    values.ssh_authorized_keys = expect_string_list(what, path, value);
                  } else if (key == "runtime") {
                    values.runtime = string_field(what, path, value);
                  } else if (key == "tunnel_id") {
                    values.tunnel_id = string_field(what, path, value);
                  } else if (key == "tunnel_credentials_json") {
                    values.tunnel_credentials_json = string_field(what, path, value);
                  } else if (key == "tunnel_hostname") {
                    values.tunnel_hostname = string_field(what, path, value);
                  } else if (key == "tunnel_service") {
                    values.tunnel_service = string_field(what, path, value);
                  } else if (key == "tailscale_auth_key") {
                    values.tailscale_auth_key = string_field(what, path, value);
                  } else {
                    return false;
                  }
                  return true;
                });
  return values;
}

json::object butane_output_object(const devx::ButaneOutput& output) {
  json::object doc;
  doc["v"] = 1;
  doc["ignition"] = output.ignition;
  doc["ignition_version"] = output.ignition_version;
  doc["warnings"] = diagnostics_array(output.warnings);
  return doc;
}

// ---- VM options ---------------------------------------------------------------------------------

constexpr std::string_view kVmKeys = "v, provider, name, project_dir, assume_yes, platform";

// The fields of the VM options document every devx_vm_* call takes.
bool vm_field(std::string_view what, devx::VmOptions& options, std::string_view key,
              const std::string& path, const json::value& value) {
  if (key == "provider") {
    options.provider = string_field(what, path, value);
  } else if (key == "name") {
    options.name = string_field(what, path, value);
  } else if (key == "project_dir") {
    options.project_dir = string_field(what, path, value);
  } else if (key == "assume_yes") {
    options.assume_yes = expect_bool(what, path, value);
  } else if (key == "platform") {
    options.platform = string_field(what, path, value);
  } else {
    return false;
  }
  return true;
}

devx::VmOptions parse_vm_options(const char* text) {
  constexpr std::string_view what = "vm options";
  devx::VmOptions options;
  decode_fields(text, what, kVmKeys,
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  return vm_field(what, options, key, path, value);
                });
  return options;
}

// {"id","credentials_file","hostname"}
devx::VmTunnelAttachment parse_tunnel(std::string_view what, const std::string& path,
                                      const json::value& value) {
  devx::VmTunnelAttachment tunnel;
  for (const auto& [name, entry] : expect_object(what, path, value)) {
    const auto key = field_path(path, name);
    if (name == "id") {
      tunnel.id = string_field(what, key, entry);
    } else if (name == "credentials_file") {
      tunnel.credentials_file = string_field(what, key, entry);
    } else if (name == "hostname") {
      tunnel.hostname = string_field(what, key, entry);
    } else {
      unknown_key(what, key, "id, credentials_file, hostname");
    }
  }
  return tunnel;
}

devx::VmInitOptions parse_vm_init_options(const char* text) {
  constexpr std::string_view what = "vm init options";
  devx::VmInitOptions options;
  decode_fields(text, what,
                std::string(kVmKeys) +
                    ", recreate, cpus, memory_mb, disk_gb, ssh_authorized_keys, tunnel, "
                    "tailscale_auth_key",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (vm_field(what, options.vm, key, path, value)) return true;
                  if (key == "recreate") {
                    options.recreate = expect_bool(what, path, value);
                  } else if (key == "cpus") {
                    options.cpus = expect_int(what, path, value);
                  } else if (key == "memory_mb") {
                    options.memory_mb = expect_int(what, path, value);
                  } else if (key == "disk_gb") {
                    options.disk_gb = expect_int(what, path, value);
                  } else if (key == "ssh_authorized_keys") {
                    options.ssh_authorized_keys = expect_string_list(what, path, value);
                  } else if (key == "tunnel") {
                    if (!value.is_null()) options.tunnel = parse_tunnel(what, path, value);
                  } else if (key == "tailscale_auth_key") {
                    options.tailscale_auth_key = string_field(what, path, value);
                  } else {
                    return false;
                  }
                  return true;
                });
  return options;
}

devx::VmResizeOptions parse_vm_resize_options(const char* text) {
  constexpr std::string_view what = "vm resize options";
  devx::VmResizeOptions options;
  decode_fields(text, what, std::string(kVmKeys) + ", cpus, memory_mb, disk_gb",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (vm_field(what, options.vm, key, path, value)) return true;
                  if (key == "cpus") {
                    options.cpus = expect_int(what, path, value);
                  } else if (key == "memory_mb") {
                    options.memory_mb = expect_int(what, path, value);
                  } else if (key == "disk_gb") {
                    options.disk_gb = expect_int(what, path, value);
                  } else {
                    return false;
                  }
                  return true;
                });
  return options;
}

devx::VmTeardownOptions parse_vm_teardown_options(const char* text) {
  constexpr std::string_view what = "vm teardown options";
  devx::VmTeardownOptions options;
  decode_fields(text, what, std::string(kVmKeys) + ", keep_attachments",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (vm_field(what, options.vm, key, path, value)) return true;
                  if (key != "keep_attachments") return false;
                  options.keep_attachments = expect_bool(what, path, value);
                  return true;
                });
  return options;
}

devx::VmSleepWatchOptions parse_vm_sleep_watch_options(const char* text) {
  constexpr std::string_view what = "vm sleep-watch options";
  devx::VmSleepWatchOptions options;
  decode_fields(text, what, std::string(kVmKeys) + ", interval_s, idle_polls",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (vm_field(what, options.vm, key, path, value)) return true;
                  if (key == "interval_s") {
                    options.interval = std::chrono::seconds(expect_int(what, path, value));
                  } else if (key == "idle_polls") {
                    options.idle_polls = expect_int(what, path, value);
                  } else {
                    return false;
                  }
                  return true;
                });
  return options;
}

// ["cmd","arg",…]; NULL or "" is an empty command.
std::vector<std::string> parse_argv(const char* text, std::string_view what) {
  if (text == nullptr || *text == '\0') return {};
  json::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    throw invalid_argument(std::string(what) + " is not valid JSON: " + ec.message(),
                           "pass a JSON array of strings such as [\"uname\",\"-a\"]");
  }
  return expect_string_list(what, what, value);
}

std::string target_json(const devx::VmTarget& target) {
  json::object doc;
  doc["v"] = 1;
  doc["provider"] = target.provider;
  doc["provider_source"] = target.provider_source;
  doc["name"] = target.name;
  doc["name_source"] = target.name_source;
  doc["runtime"] = target.runtime;
  return json::serialize(doc);
}

// ---- doctor and nuke ----------------------------------------------------------------------------

constexpr std::string_view kDoctorKeys = "v, platform, env_file, areas, as_root, probe_timeout_ms";

bool doctor_field(std::string_view what, devx::DoctorOptions& options, std::string_view key,
                  const std::string& path, const json::value& value) {
  if (key == "platform") {
    options.platform = string_field(what, path, value);
  } else if (key == "env_file") {
    options.env_file = string_field(what, path, value);
  } else if (key == "areas") {
    options.areas = expect_string_list(what, path, value);
  } else if (key == "as_root") {
    if (!value.is_null()) options.as_root = expect_bool(what, path, value);
  } else if (key == "probe_timeout_ms") {
    options.probe_timeout = std::chrono::milliseconds(expect_int(what, path, value));
  } else {
    return false;
  }
  return true;
}

devx::DoctorOptions parse_doctor_options(const char* text) {
  constexpr std::string_view what = "doctor options";
  devx::DoctorOptions options;
  decode_fields(text, what, kDoctorKeys,
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  return doctor_field(what, options, key, path, value);
                });
  return options;
}

devx::DoctorInstallOptions parse_doctor_install_options(const char* text) {
  constexpr std::string_view what = "doctor install options";
  devx::DoctorInstallOptions options;
  decode_fields(text, what, std::string(kDoctorKeys) + ", all, assume_yes",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (doctor_field(what, options.doctor, key, path, value)) return true;
                  if (key == "all") {
                    options.all = expect_bool(what, path, value);
                  } else if (key == "assume_yes") {
                    options.assume_yes = expect_bool(what, path, value);
                  } else {
                    return false;
                  }
                  return true;
                });
  return options;
}

// {"v":1,"project_dir","artifacts","global_caches","assume_yes"}
devx::NukeOptions parse_nuke_options(const char* text) {
  constexpr std::string_view what = "nuke options";
  devx::NukeOptions options;
  decode_fields(text, what, "v, project_dir, artifacts, global_caches, assume_yes",
                [&](std::string_view key, const std::string& path, const json::value& value) {
                  if (key == "project_dir") {
                    options.project_dir = string_field(what, path, value);
                  } else if (key == "artifacts") {
                    options.artifacts = expect_bool(what, path, value);
                  } else if (key == "global_caches") {
                    options.global_caches = expect_bool(what, path, value);
                  } else if (key == "assume_yes") {
                    options.assume_yes = expect_bool(what, path, value);
                  } else {
                    return false;
                  }
                  return true;
                });
  return options;
}

}  // namespace

// ---- Butane / Ignition --------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_butane_compile(char** out_json, const char* document,
                                                         const char* options_json,
                                                         devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(document, "document");
    auto options = parse_butane_options(options_json);
    *out_json = copy_string(json::serialize(
        butane_output_object(devx::compile_butane(std::string_view(document), options))));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_butane_versions(char** out_json, devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    json::array versions;
    for (const auto& version : devx::supported_butane_versions()) {
      json::object entry;
      entry["variant"] = version.variant;
      entry["butane_version"] = version.butane_version;
      entry["ignition_version"] = version.ignition_version;
      versions.emplace_back(std::move(entry));
    }
    json::object doc;
    doc["v"] = 1;
    doc["versions"] = std::move(versions);
    *out_json = copy_string(json::serialize(doc));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_dev_machine_template(char** out, devx_error_t** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = copy_string(devx::dev_machine_butane_template());
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_dev_machine_config(char** out_json,
                                                             const char* values_json,
                                                             devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto config = devx::dev_machine_config(parse_dev_machine_values(values_json));
    json::object doc;
    doc["v"] = 1;
    doc["butane"] = config.butane;
    doc["ignition"] = config.output.ignition;
    doc["ignition_version"] = config.output.ignition_version;
    *out_json = copy_string(json::serialize(doc));
  });
}

// ---- the dev VM ---------------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_vm_resolve(char** out_json, devx_context_t* ctx,
                                                     const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_vm_options,
                   [](devx::Context& context, const devx::VmOptions& options) {
                     return target_json(devx::resolve_vm(context, options));
                   });
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_detect(char** out_json, devx_context_t* ctx,
                                                    const char* platform, devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    *out_json =
        copy_string(devx::detect_vm_providers(*ctx->context, platform == nullptr ? "" : platform));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_save_default_provider(devx_context_t* ctx,
                                                                   const char* provider,
                                                                   devx_error_t** err) {
  return guard(err, [&] {
    require(ctx, "ctx");
    require(provider, "provider");
    devx::save_default_provider(*ctx->context, provider);
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_init_start(devx_op_t** out, devx_context_t* ctx,
                                                        const char* options_json,
                                                        devx_error_t** err) {
  return operation_call(err, out, ctx, options_json, parse_vm_init_options, &devx::start_vm_init);
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_start(char** out_json, devx_context_t* ctx,
                                                   const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_vm_options, &devx::vm_start);
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_stop(char** out_json, devx_context_t* ctx,
                                                  const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_vm_options, &devx::vm_stop);
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_sleep(char** out_json, devx_context_t* ctx,
                                                   const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_vm_options, &devx::vm_sleep);
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_status(char** out_json, devx_context_t* ctx,
                                                    const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_vm_options, &devx::vm_status);
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_resize(char** out_json, devx_context_t* ctx,
                                                    const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_vm_resize_options, &devx::vm_resize);
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_teardown(char** out_json, devx_context_t* ctx,
                                                      const char* options_json,
                                                      devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_vm_teardown_options, &devx::vm_teardown);
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_exec(char** out_json, devx_context_t* ctx,
                                                  const char* options_json, const char* argv_json,
                                                  const char* stdin_data, devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    auto options = parse_vm_options(options_json);
    auto command = parse_argv(argv_json, "argv");
    if (command.empty()) {
      throw invalid_argument("argv must name a command", "pass [\"cmd\",\"arg\",…]");
    }
    std::optional<std::string> input;
    if (stdin_data != nullptr) input.emplace(stdin_data);
    *out_json = copy_string(
        exec_result_json(devx::vm_exec(*ctx->context, options, command, std::move(input))));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_ssh_argv(char** out_json, devx_context_t* ctx,
                                                      const char* options_json,
                                                      const char* argv_json, devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    auto options = parse_vm_options(options_json);
    auto command = parse_argv(argv_json, "argv");
    *out_json = copy_string(argv_document(devx::vm_ssh_argv(*ctx->context, options, command)));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_apply_ignition(char** out_json, devx_context_t* ctx,
                                                            const char* options_json,
                                                            const char* ignition_json,
                                                            devx_error_t** err) {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(ctx, "ctx");
    require(ignition_json, "ignition_json");
    auto options = parse_vm_options(options_json);
    *out_json = copy_string(devx::vm_apply_ignition(*ctx->context, options, ignition_json));
  });
}

extern "C" DEVX_EXPORT devx_status_t devx_vm_sleep_watch_start(devx_op_t** out, devx_context_t* ctx,
                                                               const char* options_json,
                                                               devx_error_t** err) {
  return operation_call(err, out, ctx, options_json, parse_vm_sleep_watch_options,
                        &devx::start_vm_sleep_watch);
}

// ---- doctor -------------------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_doctor_report(char** out_json, devx_context_t* ctx,
                                                        const char* options_json,
                                                        devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_doctor_options, &devx::doctor_report);
}

extern "C" DEVX_EXPORT devx_status_t devx_doctor_install_plan(char** out_json, devx_context_t* ctx,
                                                              const char* options_json,
                                                              devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_doctor_install_options,
                   &devx::doctor_install_plan);
}

extern "C" DEVX_EXPORT devx_status_t devx_doctor_install_start(devx_op_t** out, devx_context_t* ctx,
                                                               const char* options_json,
                                                               devx_error_t** err) {
  return operation_call(err, out, ctx, options_json, parse_doctor_install_options,
                        &devx::start_doctor_install);
}

// ---- nuke ---------------------------------------------------------------------------------------

extern "C" DEVX_EXPORT devx_status_t devx_nuke_plan(char** out_json, devx_context_t* ctx,
                                                    const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_nuke_options, &devx::nuke_plan);
}

extern "C" DEVX_EXPORT devx_status_t devx_nuke(char** out_json, devx_context_t* ctx,
                                               const char* options_json, devx_error_t** err) {
  return json_call(err, out_json, ctx, options_json, parse_nuke_options, &devx::nuke);
}
