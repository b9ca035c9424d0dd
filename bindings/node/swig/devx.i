/* SWIG interface of the Node addon: the C ABI (devx.h) as the module `devx_native`.
 *
 * The JS surface is a set of small shims with the C ABI's out-parameters moved to the end:
 * SWIG 4.1.0 (Debian 12) mis-numbers JS arguments after a *leading* numinputs=0 parameter
 * (swig/swig#2558), and every devx_* function starts with one. Trailing ones are fine, and the
 * shims work unchanged with fixed SWIG releases. lib/index.js is the public API; this module is
 * internal to it.
 *
 * Conventions of every shim:
 *  - a `devx_error_t **err` last: when set on return, the call throws a JS Error carrying
 *    `code`, `status` and `devxErrorJson` (devx_error_json), which lib/index.js turns into the
 *    typed DevxError subclass; the devx_error_t is freed here.
 *  - strings returned by the library (devx_owned_str) become JS strings and are freed with
 *    devx_string_free here.
 *  - handles (context, project, op, session) come back as opaque External values (typemaps
 *    below) that JS must free explicitly (context_free, project_free, op_free, session_free).
 */
%module devx_native

%{
#include <devx/devx.h>
#include <string.h>

/* A string the library allocated; released with devx_string_free once converted. */
typedef char devx_owned_str;
%}

/* Opaque handles: SWIG must neither construct nor destroy them. */
%nodefaultctor devx_context;
%nodefaultdtor devx_context;
%nodefaultctor devx_project;
%nodefaultdtor devx_project;
%nodefaultctor devx_op;
%nodefaultdtor devx_op;
%nodefaultctor devx_session;
%nodefaultdtor devx_session;
%nodefaultctor devx_edge_proxy;
%nodefaultdtor devx_edge_proxy;
typedef char devx_owned_str;

/* ---- typemaps ---------------------------------------------------------------------------- */

/* Handles travel to JS as v8::External values, not SWIG pointer proxies. A proxy is finalized by
 * a weak callback that calls into the current isolate; callbacks still pending when Node tears
 * the isolate down at exit run without one and crash the process (SWIG 4.1 with Node 20:
 * SWIGV8_Proxy_DefaultDtor -> AdjustAmountOfExternalAllocatedMemory on a null isolate). An
 * External has no finalizer, and lib/index.js frees every handle explicitly. NULL is JS null. */
%define DEVX_HANDLE(TYPE)
%typemap(out) TYPE * {
  if ($1) {
    $result = v8::External::New(v8::Isolate::GetCurrent(), (void *)$1);
  } else {
    $result = SWIGV8_NULL();
  }
}
%typemap(in) TYPE *, const TYPE * {
  if ($input->IsExternal()) {
    $1 = ($1_ltype)v8::Local<v8::External>::Cast($input)->Value();
  } else if ($input->IsNull()) {
    $1 = NULL;
  } else {
    SWIG_exception_fail(SWIG_TypeError,
                        "in method '$symname', argument $argnum is not a devx handle");
  }
}
%enddef
DEVX_HANDLE(devx_context_t)
DEVX_HANDLE(devx_project_t)
DEVX_HANDLE(devx_op_t)
DEVX_HANDLE(devx_session_t)
DEVX_HANDLE(devx_edge_proxy_t)

%typemap(in, numinputs=0) devx_error_t **err (devx_error_t *tmp_err = NULL) {
  $1 = &tmp_err;
}
%typemap(argout) devx_error_t **err {
  if (*$1) {
    v8::Local<v8::Context> ctx_ = SWIGV8_CURRENT_CONTEXT();
    const char *msg_ = devx_error_message(*$1);
    v8::Local<v8::Object> e_ =
        v8::Local<v8::Object>::Cast(v8::Exception::Error(SWIGV8_STRING_NEW(msg_ ? msg_ : "")));
    SWIGV8_MAYBE_CHECK(e_->Set(ctx_, SWIGV8_SYMBOL_NEW("code"),
                               SWIGV8_STRING_NEW(devx_error_code_name(*$1))));
    SWIGV8_MAYBE_CHECK(e_->Set(ctx_, SWIGV8_SYMBOL_NEW("status"),
                               SWIGV8_INTEGER_NEW((int)devx_error_code(*$1))));
    SWIGV8_MAYBE_CHECK(e_->Set(ctx_, SWIGV8_SYMBOL_NEW("devxErrorJson"),
                               SWIGV8_STRING_NEW(devx_error_json(*$1))));
    devx_error_free(*$1);
    *$1 = NULL;
    /* No `goto fail` here: in SWIG 4.1 it would skip the freearg cleanup. */
    SWIGV8_THROW_EXCEPTION(e_);
    $result = SWIGV8_UNDEFINED();
  }
}

%typemap(out) devx_owned_str * {
  if ($1) {
    $result = SWIG_FromCharPtr((const char *)$1);
    devx_string_free($1);
  } else {
    $result = SWIGV8_NULL();
  }
}

/* op_next_event: the JS result is the event JSON (a string) when one was ready, else the
 * number DEVX_EVENT_TIMEOUT or DEVX_EVENT_END. */
%typemap(in, numinputs=0) char **next_event_json (char *tmp_json = NULL) {
  $1 = &tmp_json;
}
%typemap(out) devx_next_event_t {
  $result = SWIGV8_INTEGER_NEW((int)$1);
}
%typemap(argout) char **next_event_json {
  if (*$1) {
    if (result == DEVX_EVENT_READY) $result = SWIG_FromCharPtr(*$1);
    devx_string_free(*$1);
    *$1 = NULL;
  }
}

/* ---- the header: its enums (status codes: the error table of lib/index.js, event kinds) and
 * typedefs. Its functions are not wrapped as they are, except those without out-parameters,
 * renamed below; the shims further down stand for the others. ----------------------------- */

%rename(version) devx_version;
%rename(abi_version) devx_abi_version;
%rename(context_free) devx_context_free;
%rename(context_event_fd) devx_context_event_fd;
%rename(project_free) devx_project_free;
%rename(op_free) devx_op_free;
%rename(op_cancel) devx_op_cancel;
%rename(session_free) devx_session_free;
%rename(edge_proxy_port) devx_edge_proxy_port;
%rename(edge_proxy_stop) devx_edge_proxy_stop;
%rename(edge_proxy_free) devx_edge_proxy_free;
%rename("$ignore", %$isfunction, regextarget=1) "^devx_";
%include <devx/devx.h>

/* ---- shims: out-parameters last ---------------------------------------------------------- */

%rename("%(strip:[devxjs_])s") "";

%inline %{
devx_context_t *devxjs_context_new(const char *options_json, devx_error_t **err) {
  devx_context_t *ctx = NULL;
  devx_context_new(&ctx, options_json, err);
  return ctx;
}

devx_project_t *devxjs_project_load(devx_context_t *ctx, const char *path, const char *options_json,
                                    devx_error_t **err) {
  devx_project_t *project = NULL;
  devx_project_load(&project, ctx, path, options_json, err);
  return project;
}

devx_owned_str *devxjs_project_to_json(const devx_project_t *project, devx_error_t **err) {
  char *out = NULL;
  devx_project_to_json(&out, project, err);
  return out;
}

devx_owned_str *devxjs_project_to_yaml(const devx_project_t *project, devx_error_t **err) {
  char *out = NULL;
  devx_project_to_yaml(&out, project, err);
  return out;
}

devx_owned_str *devxjs_project_validate(devx_context_t *ctx, const char *path,
                                        const char *options_json, devx_error_t **err) {
  char *out = NULL;
  devx_project_validate(&out, ctx, path, options_json, err);
  return out;
}

devx_owned_str *devxjs_project_render_map(const devx_project_t *project, const char *format,
                                          devx_error_t **err) {
  char *out = NULL;
  devx_project_render_map(&out, project, format, err);
  return out;
}

devx_owned_str *devxjs_config_schema(devx_error_t **err) {
  char *out = NULL;
  devx_config_schema(&out, err);
  return out;
}

devx_owned_str *devxjs_project_find(const char *start_dir, devx_error_t **err) {
  char *out = NULL;
  devx_project_find(&out, start_dir, err);
  return out;
}

devx_op_t *devxjs_project_load_start(devx_context_t *ctx, const char *path,
                                     const char *options_json, devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_project_load_start(&op, ctx, path, options_json, err);
  return op;
}

devx_project_t *devxjs_op_project(devx_op_t *op, devx_error_t **err) {
  devx_project_t *project = NULL;
  devx_op_project(&project, op, err);
  return project;
}

devx_next_event_t devxjs_op_next_event(devx_op_t *op, int timeout_ms, char **next_event_json,
                                       devx_error_t **err) {
  devx_next_event_t kind = DEVX_EVENT_TIMEOUT;
  if (devx_op_next_event(&kind, next_event_json, op, timeout_ms, err) != DEVX_OK) {
    return DEVX_EVENT_END;
  }
  return kind;
}

/* 1 when the operation finished; never blocks. */
int devxjs_op_done(devx_op_t *op) {
  int done = 0;
  devx_op_wait(&done, op, 0);
  return done;
}

/* ---- sessions (`devx up`) ---- */

devx_owned_str *devxjs_up_plan(devx_context_t *ctx, const devx_project_t *project,
                               const char *options_json, devx_error_t **err) {
  char *out = NULL;
  devx_up_plan(&out, ctx, project, options_json, err);
  return out;
}

devx_session_t *devxjs_session_new(devx_context_t *ctx, const devx_project_t *project,
                                   const char *options_json, devx_error_t **err) {
  devx_session_t *session = NULL;
  devx_session_new(&session, ctx, project, options_json, err);
  return session;
}

devx_op_t *devxjs_session_up_start(devx_session_t *session, devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_session_up_start(&op, session, err);
  return op;
}

devx_op_t *devxjs_session_down_start(devx_session_t *session, const char *options_json,
                                     devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_session_down_start(&op, session, options_json, err);
  return op;
}

devx_op_t *devxjs_session_restart_start(devx_session_t *session, const char *service,
                                        devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_session_restart_start(&op, session, service, err);
  return op;
}

devx_owned_str *devxjs_session_status(const devx_session_t *session, devx_error_t **err) {
  char *out = NULL;
  devx_session_status(&out, session, err);
  return out;
}

/* As op_next_event: the event JSON, or DEVX_EVENT_TIMEOUT / DEVX_EVENT_END. */
devx_next_event_t devxjs_session_next_event(devx_session_t *session, int timeout_ms,
                                            char **next_event_json, devx_error_t **err) {
  devx_next_event_t kind = DEVX_EVENT_TIMEOUT;
  if (devx_session_next_event(&kind, next_event_json, session, timeout_ms, err) != DEVX_OK) {
    return DEVX_EVENT_END;
  }
  return kind;
}

/* ---- Kubernetes bridge (ABI version 3) ---- */

devx_op_t *devxjs_bridge_connect_start(devx_context_t *ctx, const char *options_json,
                                       devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_bridge_connect_start(&op, ctx, options_json, err);
  return op;
}

devx_op_t *devxjs_bridge_intercept_start(devx_context_t *ctx, const char *options_json,
                                         devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_bridge_intercept_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_bridge_status(devx_context_t *ctx, devx_error_t **err) {
  char *out = NULL;
  devx_bridge_status(&out, ctx, err);
  return out;
}

devx_owned_str *devxjs_bridge_disconnect(devx_context_t *ctx, const char *session_id, int wait_ms,
                                         devx_error_t **err) {
  char *out = NULL;
  devx_bridge_disconnect(&out, ctx, session_id, wait_ms, err);
  return out;
}

devx_owned_str *devxjs_bridge_environment(devx_context_t *ctx, devx_error_t **err) {
  char *out = NULL;
  devx_bridge_environment(&out, ctx, err);
  return out;
}

devx_op_t *devxjs_bridge_doctor_start(devx_context_t *ctx, const char *options_json,
                                      devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_bridge_doctor_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_bridge_rbac_yaml(const char *namespace_, devx_error_t **err) {
  char *out = NULL;
  devx_bridge_rbac_yaml(&out, namespace_, err);
  return out;
}

devx_owned_str *devxjs_bridge_env_prefix(const char *service, const char *namespace_,
                                         int with_namespace, devx_error_t **err) {
  char *out = NULL;
  devx_bridge_env_prefix(&out, service, namespace_, with_namespace, err);
  return out;
}

/* ---- dev VM, Butane/Ignition, doctor, nuke (ABI version 4) ---- */

devx_owned_str *devxjs_butane_compile(const char *document, const char *options_json,
                                      devx_error_t **err) {
  char *out = NULL;
  devx_butane_compile(&out, document, options_json, err);
  return out;
}

devx_owned_str *devxjs_butane_versions(devx_error_t **err) {
  char *out = NULL;
  devx_butane_versions(&out, err);
  return out;
}

devx_owned_str *devxjs_dev_machine_template(devx_error_t **err) {
  char *out = NULL;
  devx_dev_machine_template(&out, err);
  return out;
}

devx_owned_str *devxjs_dev_machine_config(const char *values_json, devx_error_t **err) {
  char *out = NULL;
  devx_dev_machine_config(&out, values_json, err);
  return out;
}

devx_owned_str *devxjs_vm_resolve(devx_context_t *ctx, const char *options_json,
                                  devx_error_t **err) {
  char *out = NULL;
  devx_vm_resolve(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_vm_detect(devx_context_t *ctx, const char *platform, devx_error_t **err) {
  char *out = NULL;
  devx_vm_detect(&out, ctx, platform, err);
  return out;
}

/* The status (0 when the provider was recorded). */
int devxjs_vm_save_default_provider(devx_context_t *ctx, const char *provider,
                                    devx_error_t **err) {
  return (int)devx_vm_save_default_provider(ctx, provider, err);
}

devx_op_t *devxjs_vm_init_start(devx_context_t *ctx, const char *options_json,
                                devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_vm_init_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_vm_start(devx_context_t *ctx, const char *options_json,
                                devx_error_t **err) {
  char *out = NULL;
  devx_vm_start(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_vm_stop(devx_context_t *ctx, const char *options_json, devx_error_t **err) {
  char *out = NULL;
  devx_vm_stop(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_vm_sleep(devx_context_t *ctx, const char *options_json,
                                devx_error_t **err) {
  char *out = NULL;
  devx_vm_sleep(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_vm_status(devx_context_t *ctx, const char *options_json,
                                 devx_error_t **err) {
  char *out = NULL;
  devx_vm_status(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_vm_resize(devx_context_t *ctx, const char *options_json,
                                 devx_error_t **err) {
  char *out = NULL;
  devx_vm_resize(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_vm_teardown(devx_context_t *ctx, const char *options_json,
                                   devx_error_t **err) {
  char *out = NULL;
  devx_vm_teardown(&out, ctx, options_json, err);
  return out;
}

/* has_stdin 0: no input (stdin_data is ignored), so JS never has to pass a NULL string. */
devx_owned_str *devxjs_vm_exec(devx_context_t *ctx, const char *options_json,
                               const char *argv_json, int has_stdin, const char *stdin_data,
                               devx_error_t **err) {
  char *out = NULL;
  devx_vm_exec(&out, ctx, options_json, argv_json, has_stdin ? stdin_data : NULL, err);
  return out;
}

devx_owned_str *devxjs_vm_ssh_argv(devx_context_t *ctx, const char *options_json,
                                   const char *argv_json, devx_error_t **err) {
  char *out = NULL;
  devx_vm_ssh_argv(&out, ctx, options_json, argv_json, err);
  return out;
}

devx_owned_str *devxjs_vm_apply_ignition(devx_context_t *ctx, const char *options_json,
                                         const char *ignition_json, devx_error_t **err) {
  char *out = NULL;
  devx_vm_apply_ignition(&out, ctx, options_json, ignition_json, err);
  return out;
}

devx_op_t *devxjs_vm_sleep_watch_start(devx_context_t *ctx, const char *options_json,
                                       devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_vm_sleep_watch_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_doctor_report(devx_context_t *ctx, const char *options_json,
                                     devx_error_t **err) {
  char *out = NULL;
  devx_doctor_report(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_doctor_install_plan(devx_context_t *ctx, const char *options_json,
                                           devx_error_t **err) {
  char *out = NULL;
  devx_doctor_install_plan(&out, ctx, options_json, err);
  return out;
}

devx_op_t *devxjs_doctor_install_start(devx_context_t *ctx, const char *options_json,
                                       devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_doctor_install_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_nuke_plan(devx_context_t *ctx, const char *options_json,
                                 devx_error_t **err) {
  char *out = NULL;
  devx_nuke_plan(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_nuke(devx_context_t *ctx, const char *options_json, devx_error_t **err) {
  char *out = NULL;
  devx_nuke(&out, ctx, options_json, err);
  return out;
}

/* ---- tunnels, edge proxies, mesh, sites, webhooks, mail (ABI version 5) ---- */

devx_op_t *devxjs_tunnel_expose_start(devx_context_t *ctx, const char *options_json,
                                      devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_tunnel_expose_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_tunnel_unexpose(devx_context_t *ctx, const char *options_json,
                                       devx_error_t **err) {
  char *out = NULL;
  devx_tunnel_unexpose(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_tunnel_status(devx_context_t *ctx, devx_error_t **err) {
  char *out = NULL;
  devx_tunnel_status(&out, ctx, err);
  return out;
}

devx_op_t *devxjs_tunnel_up_start(devx_context_t *ctx, const devx_project_t *project,
                                  const char *options_json, devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_tunnel_up_start(&op, ctx, project, options_json, err);
  return op;
}

devx_owned_str *devxjs_tunnel_dns_label(const char *name, devx_error_t **err) {
  char *out = NULL;
  devx_tunnel_dns_label(&out, name, err);
  return out;
}

devx_owned_str *devxjs_tunnel_machine_id(devx_context_t *ctx, devx_error_t **err) {
  char *out = NULL;
  devx_tunnel_machine_id(&out, ctx, err);
  return out;
}

devx_owned_str *devxjs_edge_proxy_plan(devx_context_t *ctx, const char *options_json,
                                       devx_error_t **err) {
  char *out = NULL;
  devx_edge_proxy_plan(&out, ctx, options_json, err);
  return out;
}

devx_edge_proxy_t *devxjs_edge_proxy_start(devx_context_t *ctx, const char *options_json,
                                           devx_error_t **err) {
  devx_edge_proxy_t *proxy = NULL;
  devx_edge_proxy_start(&proxy, ctx, options_json, err);
  return proxy;
}

devx_owned_str *devxjs_edge_proxy_status(const devx_edge_proxy_t *proxy, devx_error_t **err) {
  char *out = NULL;
  devx_edge_proxy_status(&out, proxy, err);
  return out;
}

devx_op_t *devxjs_edge_proxy_operation(devx_edge_proxy_t *proxy, devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_edge_proxy_operation(&op, proxy, err);
  return op;
}

devx_owned_str *devxjs_throttle_profile(const char *name, devx_error_t **err) {
  char *out = NULL;
  devx_throttle_profile(&out, name, err);
  return out;
}

devx_owned_str *devxjs_throttle_profile_names(devx_error_t **err) {
  char *out = NULL;
  devx_throttle_profile_names(&out, err);
  return out;
}

devx_owned_str *devxjs_inspect_sessions(devx_context_t *ctx, devx_error_t **err) {
  char *out = NULL;
  devx_inspect_sessions(&out, ctx, err);
  return out;
}

devx_owned_str *devxjs_inspect_captures(devx_context_t *ctx, const char *session,
                                        devx_error_t **err) {
  char *out = NULL;
  devx_inspect_captures(&out, ctx, session, err);
  return out;
}

devx_owned_str *devxjs_inspect_capture(devx_context_t *ctx, const char *session, const char *id,
                                       devx_error_t **err) {
  char *out = NULL;
  devx_inspect_capture(&out, ctx, session, id, err);
  return out;
}

devx_owned_str *devxjs_inspect_replay(devx_context_t *ctx, const char *session, const char *id,
                                      const char *options_json, devx_error_t **err) {
  char *out = NULL;
  devx_inspect_replay(&out, ctx, session, id, options_json, err);
  return out;
}

devx_owned_str *devxjs_inspect_remove(devx_context_t *ctx, const char *session,
                                      devx_error_t **err) {
  char *out = NULL;
  devx_inspect_remove(&out, ctx, session, err);
  return out;
}

devx_op_t *devxjs_mesh_join_start(devx_context_t *ctx, const char *options_json,
                                  devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_mesh_join_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_mesh_status(devx_context_t *ctx, const char *options_json,
                                   devx_error_t **err) {
  char *out = NULL;
  devx_mesh_status(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_mesh_leave(devx_context_t *ctx, const char *options_json,
                                  devx_error_t **err) {
  char *out = NULL;
  devx_mesh_leave(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_mesh_tailscale_argv(devx_context_t *ctx, const char *options_json,
                                           const char *args_json, devx_error_t **err) {
  char *out = NULL;
  devx_mesh_tailscale_argv(&out, ctx, options_json, args_json, err);
  return out;
}

/* has_stdin 0: no input, as for vm_exec. */
devx_owned_str *devxjs_mesh_exec(devx_context_t *ctx, const char *options_json,
                                 const char *args_json, int has_stdin, const char *stdin_data,
                                 devx_error_t **err) {
  char *out = NULL;
  devx_mesh_exec(&out, ctx, options_json, args_json, has_stdin ? stdin_data : NULL, err);
  return out;
}

devx_owned_str *devxjs_sites_init(devx_context_t *ctx, const char *options_json,
                                  devx_error_t **err) {
  char *out = NULL;
  devx_sites_init(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_sites_verify(devx_context_t *ctx, const char *options_json,
                                    devx_error_t **err) {
  char *out = NULL;
  devx_sites_verify(&out, ctx, options_json, err);
  return out;
}

devx_owned_str *devxjs_sites_status(devx_context_t *ctx, const char *options_json,
                                    devx_error_t **err) {
  char *out = NULL;
  devx_sites_status(&out, ctx, options_json, err);
  return out;
}

devx_op_t *devxjs_webhook_catch_start(devx_context_t *ctx, const char *options_json,
                                      devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_webhook_catch_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_webhook_list(devx_context_t *ctx, const char *session, devx_error_t **err) {
  char *out = NULL;
  devx_webhook_list(&out, ctx, session, err);
  return out;
}

devx_owned_str *devxjs_webhook_replay(devx_context_t *ctx, const char *id, const char *to_url,
                                      devx_error_t **err) {
  char *out = NULL;
  devx_webhook_replay(&out, ctx, id, to_url, err);
  return out;
}

devx_op_t *devxjs_mail_catcher_start(devx_context_t *ctx, const char *options_json,
                                     devx_error_t **err) {
  devx_op_t *op = NULL;
  devx_mail_catcher_start(&op, ctx, options_json, err);
  return op;
}

devx_owned_str *devxjs_mail_instances(devx_context_t *ctx, devx_error_t **err) {
  char *out = NULL;
  devx_mail_instances(&out, ctx, err);
  return out;
}

devx_owned_str *devxjs_mail_messages(devx_context_t *ctx, const char *instance,
                                     devx_error_t **err) {
  char *out = NULL;
  devx_mail_messages(&out, ctx, instance, err);
  return out;
}

devx_owned_str *devxjs_mail_message(devx_context_t *ctx, const char *instance, const char *id,
                                    devx_error_t **err) {
  char *out = NULL;
  devx_mail_message(&out, ctx, instance, id, err);
  return out;
}

devx_owned_str *devxjs_mail_message_raw(devx_context_t *ctx, const char *instance, const char *id,
                                        devx_error_t **err) {
  char *out = NULL;
  devx_mail_message_raw(&out, ctx, instance, id, err);
  return out;
}

devx_owned_str *devxjs_mail_delete(devx_context_t *ctx, const char *instance, const char *id,
                                   devx_error_t **err) {
  char *out = NULL;
  devx_mail_delete(&out, ctx, instance, id, err);
  return out;
}

devx_owned_str *devxjs_mail_environment(devx_context_t *ctx, const char *instance,
                                        devx_error_t **err) {
  char *out = NULL;
  devx_mail_environment(&out, ctx, instance, err);
  return out;
}

/* The result JSON; call after the operation ended (it would block until then). */
devx_owned_str *devxjs_op_result(devx_op_t *op, devx_error_t **err) {
  char *out = NULL;
  devx_op_result(&out, op, err);
  return out;
}
%}
