/* libdevx — the stable C ABI (C99).
 *
 * Conventions (docs/c-abi.md):
 *  - Every function returns devx_status_t (0 = DEVX_OK) and, on failure, sets *err when err is not
 *    NULL to an error the caller frees with devx_error_free.
 *  - Out-parameters come first; objects are opaque and each has exactly one *_free.
 *  - Structured input and output are UTF-8 JSON documents with a "v" version field; their JSON
 *    Schemas are in docs/schemas/. Strings returned by the library are freed with devx_string_free.
 *  - Functions are thread-safe unless documented otherwise; no exception crosses this boundary.
 *  - Changes are additive only; devx_abi_version() is bumped when functions are added.
 */
#ifndef DEVX_DEVX_H
#define DEVX_DEVX_H

#include <stddef.h>
#include <stdint.h>

#if defined(DEVX_STATIC)
#define DEVX_EXPORT
#elif defined(DEVX_BUILDING_LIBRARY)
#define DEVX_EXPORT __attribute__((visibility("default")))
#else
#define DEVX_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: identical to devx::ErrorCode and to the CLI's exit codes (docs/errors.md). */
typedef enum devx_status {
  DEVX_OK = 0,
  DEVX_E_INTERNAL = 1,
  DEVX_E_INVALID_ARGUMENT = 2,
  DEVX_E_CONFIG_NOT_FOUND = 3,
  DEVX_E_CONFIG_INVALID = 4,
  DEVX_E_IO = 5,
  DEVX_E_NOT_FOUND = 6,
  DEVX_E_ALREADY_EXISTS = 7,
  DEVX_E_TIMEOUT = 8,
  DEVX_E_CANCELLED = 9,
  DEVX_E_COMMAND_FAILED = 10,
  DEVX_E_COMMAND_NOT_FOUND = 11,
  DEVX_E_HTTP = 12,
  DEVX_E_PORT_IN_USE = 13,
  DEVX_E_LOCKED = 14,
  DEVX_E_UNSUPPORTED = 15,
  DEVX_E_PROMPT_REQUIRED = 16,
  DEVX_E_CONFLICT = 17,
  DEVX_E_UNREACHABLE = 18,
  DEVX_E_PERMISSION_DENIED = 19
} devx_status_t;

typedef struct devx_error devx_error_t;
typedef struct devx_context devx_context_t;
typedef struct devx_project devx_project_t;
typedef struct devx_op devx_op_t;
typedef struct devx_session devx_session_t; /* since ABI version 2 */
typedef struct devx_edge_proxy devx_edge_proxy_t; /* since ABI version 5 */

/* ---- version --------------------------------------------------------------------------------- */

/* "MAJOR.MINOR.PATCH" of the library; static storage, not freed. */
DEVX_EXPORT const char *devx_version(void);
/* Incremented whenever functions are added to this header: 1 = configuration and operations,
 * 2 = sessions (devx_session_*, devx_up_plan), 3 = Kubernetes bridge (devx_bridge_*), error codes
 * 17–19, 4 = dev VM, Ignition, doctor, nuke (devx_vm_*, devx_butane_*, devx_dev_machine_*,
 * devx_doctor_*, devx_nuke*), 5 = tunnels, edge proxies, mesh, sites, webhooks, mail
 * (devx_tunnel_*, devx_edge_proxy_*, devx_throttle_*, devx_inspect_*, devx_mesh_*, devx_sites_*,
 * devx_webhook_*, devx_mail_*). */
DEVX_EXPORT int devx_abi_version(void);

/* ---- strings and errors ---------------------------------------------------------------------- */

DEVX_EXPORT void devx_string_free(char *str);

DEVX_EXPORT devx_status_t devx_error_code(const devx_error_t *err);
/* Stable snake_case name of the code, e.g. "config_invalid". Valid while err lives. */
DEVX_EXPORT const char *devx_error_code_name(const devx_error_t *err);
DEVX_EXPORT const char *devx_error_message(const devx_error_t *err);
/* "" when there is no hint. */
DEVX_EXPORT const char *devx_error_hint(const devx_error_t *err);
/* A JSON object; "{}" when there are no details. Config errors: {"diagnostics":[…]}. */
DEVX_EXPORT const char *devx_error_details_json(const devx_error_t *err);
/* The whole error as {"code","status","message","hint","details","cause"?}. */
DEVX_EXPORT const char *devx_error_json(const devx_error_t *err);
DEVX_EXPORT void devx_error_free(devx_error_t *err);

/* ---- context --------------------------------------------------------------------------------- */

/* options_json may be NULL or {"v":1,"devx_home":…,"env":{…},"dry_run":…,"log_level":"info"}
 * (docs/schemas/context-options.schema.json). */
DEVX_EXPORT devx_status_t devx_context_new(devx_context_t **out, const char *options_json,
                                           devx_error_t **err);
/* Cancels and waits for the context's operations, then frees it. NULL is ignored. */
DEVX_EXPORT void devx_context_free(devx_context_t *ctx);
/* Readable when any operation of ctx has new events or finished (eventfd); read 8 bytes to reset. */
DEVX_EXPORT int devx_context_event_fd(const devx_context_t *ctx);

/* ---- project configuration ------------------------------------------------------------------- */

/* Loads and validates a devx.yaml. `path` is the file, or a directory to search upwards from.
 * options_json may be NULL or {"v":1,"profile":"ci","user":"alice"}
 * (docs/schemas/load-options.schema.json). Fails with DEVX_E_CONFIG_INVALID, whose details hold
 * {"diagnostics":[{"severity","file","line","column","message","hint"}]}. */
DEVX_EXPORT devx_status_t devx_project_load(devx_project_t **out, devx_context_t *ctx,
                                            const char *path, const char *options_json,
                                            devx_error_t **err);
DEVX_EXPORT void devx_project_free(devx_project_t *project);
/* The resolved project (docs/schemas/project.schema.json). */
DEVX_EXPORT devx_status_t devx_project_to_json(char **out_json, const devx_project_t *project,
                                               devx_error_t **err);
/* The resolved project as a single devx.yaml document. */
DEVX_EXPORT devx_status_t devx_project_to_yaml(char **out_yaml, const devx_project_t *project,
                                               devx_error_t **err);
/* Validates without failing on configuration problems: returns DEVX_OK and
 * {"v":1,"ok":bool,"file":…,"diagnostics":[…]} (docs/schemas/diagnostics.schema.json). */
DEVX_EXPORT devx_status_t devx_project_validate(char **out_json, devx_context_t *ctx,
                                                const char *path, const char *options_json,
                                                devx_error_t **err);
/* format: "mermaid" | "dot" | "json". */
DEVX_EXPORT devx_status_t devx_project_render_map(char **out, const devx_project_t *project,
                                                  const char *format, devx_error_t **err);
/* The JSON Schema of devx.yaml (also in docs/schemas/devx.schema.json). */
DEVX_EXPORT devx_status_t devx_config_schema(char **out_json, devx_error_t **err);
/* Path of the devx.yaml found by walking up from `start_dir`. */
DEVX_EXPORT devx_status_t devx_project_find(char **out_path, const char *start_dir,
                                            devx_error_t **err);

/* ---- operations and events ------------------------------------------------------------------- */

/* Loads a project on a context thread; the operation's result is the resolved project JSON.
 * Emits "progress" events per file. */
DEVX_EXPORT devx_status_t devx_project_load_start(devx_op_t **out, devx_context_t *ctx,
                                                  const char *path, const char *options_json,
                                                  devx_error_t **err);

typedef enum devx_next_event {
  DEVX_EVENT_READY = 0,   /* *out_json holds an event (docs/schemas/event.schema.json) */
  DEVX_EVENT_TIMEOUT = 1, /* nothing arrived within timeout_ms */
  DEVX_EVENT_END = 2      /* the operation finished and every event was taken */
} devx_next_event_t;

/* Takes the next event; timeout_ms < 0 waits forever, 0 polls. */
DEVX_EXPORT devx_status_t devx_op_next_event(devx_next_event_t *out_kind, char **out_json,
                                             devx_op_t *op, int timeout_ms, devx_error_t **err);
/* Waits up to timeout_ms (< 0: forever); *out_done is 1 when the operation finished. */
DEVX_EXPORT devx_status_t devx_op_wait(int *out_done, devx_op_t *op, int timeout_ms);
DEVX_EXPORT devx_status_t devx_op_cancel(devx_op_t *op);
/* Waits for the end; DEVX_OK with the result JSON, or the operation's error. */
DEVX_EXPORT devx_status_t devx_op_result(char **out_json, devx_op_t *op, devx_error_t **err);

/* Called with each event JSON (valid only during the call) on a library thread. Events already
 * queued are delivered before this returns. Pass NULL to go back to polling. */
/* For an operation from devx_project_load_start: waits for it, then the loaded project (freed
 * with devx_project_free) or the load's error. DEVX_E_INVALID_ARGUMENT for other operations. */
DEVX_EXPORT devx_status_t devx_op_project(devx_project_t **out, devx_op_t *op, devx_error_t **err);

typedef void (*devx_event_cb)(const char *event_json, void *user_data);
DEVX_EXPORT devx_status_t devx_op_set_callback(devx_op_t *op, devx_event_cb callback,
                                               void *user_data);
/* Does not cancel: the work goes on to its end; cancel first to stop it. Once this returns, no
 * callback set with devx_op_set_callback runs for this handle. */
DEVX_EXPORT void devx_op_free(devx_op_t *op);

/* ---- sessions: `devx up` (ABI version 2) ----------------------------------------------------- */

/* The plan `devx up` would follow, without starting anything (--dry-run): start order with the
 * reason of each wait, ports after shifting busy ones, environment variable names (never values).
 * options_json: as for devx_session_new. Result: {"v":1,"project","nodes":[…],"warnings":[…]}
 * (docs/schemas/up-plan.schema.json). */
DEVX_EXPORT devx_status_t devx_up_plan(char **out_json, devx_context_t *ctx,
                                       const devx_project_t *project, const char *options_json,
                                       devx_error_t **err);

/* A project to bring up in this process. Starts nothing yet. `project` is copied (it may be freed
 * afterwards). options_json may be NULL or
 * {"v":1,"only":["api",…],"keep_going":false,"container_engine":"podman"|"docker"|""}
 * (docs/schemas/session-options.schema.json): `only` brings up those nodes and what they depend
 * on; `keep_going` keeps what already runs when a node fails; "" detects the engine.
 * A session owns the processes and containers it starts; free it before its context. */
DEVX_EXPORT devx_status_t devx_session_new(devx_session_t **out, devx_context_t *ctx,
                                           const devx_project_t *project, const char *options_json,
                                           devx_error_t **err);

/* Starts every node as soon as its own dependencies satisfy their conditions. The operation's
 * events are the plan, state changes and warnings of the start; its result, once every node is
 * ready, is the status document (as devx_session_status). On failure the result is the error:
 * DEVX_E_COMMAND_FAILED (a node exited or failed its health check) or DEVX_E_TIMEOUT …, with
 * details {"node","exit_code","last_lines":[…],"log_file"}; everything started is stopped again
 * unless "keep_going". DEVX_E_ALREADY_EXISTS when the session is already up; DEVX_E_LOCKED when
 * another process has the project up. devx_op_cancel stops the start and what it started. */
DEVX_EXPORT devx_status_t devx_session_up_start(devx_op_t **out, devx_session_t *session,
                                                devx_error_t **err);

/* Stops in reverse dependency order (SIGTERM to each process group, grace period, SIGKILL;
 * containers removed). options_json may be NULL or {"v":1,"volumes":false,"only":[…]}
 * (docs/schemas/stop-options.schema.json): database data is kept unless "volumes"; `only` stops
 * just those nodes. Result: the status document. A session that is not up stops nothing. */
DEVX_EXPORT devx_status_t devx_session_down_start(devx_op_t **out, devx_session_t *session,
                                                  const char *options_json, devx_error_t **err);

/* Stops one node and starts it again (its restart count goes up); the result, once it is ready
 * again, is the status document. DEVX_E_NOT_FOUND for an unknown node or a session not up. */
DEVX_EXPORT devx_status_t devx_session_restart_start(devx_op_t **out, devx_session_t *session,
                                                     const char *service, devx_error_t **err);

/* {"v":1,"project":…,"services":[{"name","kind","runtime","state","pid","container","port",
 * "restarts","started_at_ms","exit_code","message"}]} (docs/schemas/status.schema.json). "state"
 * is pending | starting | running | healthy | unhealthy | completed | failed | stopping | stopped.
 * Empty "services" before the first up. Never blocks on the nodes. */
DEVX_EXPORT devx_status_t devx_session_status(char **out_json, const devx_session_t *session,
                                              devx_error_t **err);

/* Takes the next event of the session: every event from devx_session_new on, whether or not an
 * operation runs — `state` changes (data: the node's status object), `log` (one per output line,
 * source = node name, level "info" for stdout and "warn" for stderr), `warning` (restarts, port
 * shifts …); so events of a running operation are seen both here and on the operation. Events wait
 * in a bounded queue (4096): when it is full the oldest log lines are dropped, and the next event
 * taken is a `warning` from source "devx" with data {"dropped":N} (the log files under DEVX_HOME
 * keep every line). The context's event fd becomes readable when the queue gets an event; after a
 * wake-up, drain with timeout_ms = 0 until DEVX_EVENT_TIMEOUT.
 * DEVX_EVENT_END: the queue is empty, no operation started on this session runs, and no node is
 * alive (before the first up, and after down or a failed up): nothing more will arrive until
 * another operation is started. timeout_ms < 0 waits forever (or until the end), 0 polls. */
DEVX_EXPORT devx_status_t devx_session_next_event(devx_next_event_t *out_kind, char **out_json,
                                                  devx_session_t *session, int timeout_ms,
                                                  devx_error_t **err);

/* Stops everything the session still runs and frees it, synchronously: cancels and waits for the
 * operations started on it (a running up stops what it started), then stops every node as
 * devx_session_down_start does, and returns only when no process of the session is left. May
 * therefore block for the nodes' grace periods. Operation handles of the session stay valid (free
 * them with devx_op_free). Must be called before devx_context_free of its context (which, as a
 * safety net, stops sessions still up). NULL is ignored. */
DEVX_EXPORT void devx_session_free(devx_session_t *session);

/* ---- Kubernetes bridge (ABI version 3) ------------------------------------------------------- */

/* Reach remote Services from local code (connect) and route a remote Service's traffic to a local
 * process (intercept). Every options document may hold "kube":{"kubeconfig","context","kubectl"}
 * (strings; "" = kubectl's own resolution, the current context, "kubectl" on PATH). Options are
 * checked when the call is made: unknown keys and wrong types fail the call itself with
 * DEVX_E_INVALID_ARGUMENT, naming the field ("targets[0].port"). A session (connect, intercept)
 * is an operation that runs until devx_op_cancel (or devx_bridge_disconnect from any process) and
 * leaves nothing behind when it ends; while it runs it is recorded under DEVX_HOME/bridge/, so
 * devx_bridge_status and devx_bridge_environment of every process see it. With the context's
 * dry_run, the operation's result is the plan and nothing starts. */

/* Starts `kubectl port-forward` for every target and keeps each up (reconnecting with backoff)
 * until cancelled. options_json: {"v":1,"kube":{…},"namespace":"",
 * "targets":[{"service","namespace","port","local_port"}],"origin":"standalone"|"up"}
 * (docs/schemas/bridge-connect-options.schema.json); a target's "namespace" defaults to the
 * options' one, else "default"; "local_port" 0 lets kubectl choose. State events (source
 * "<namespace>/<service>:<port>") carry data {"service","namespace","remote_port","local_port",
 * "state","attempt"}; "state" is "forwarding" once the local port is served. Result, when the
 * session ends: {"v":1,"session":…}. */
DEVX_EXPORT devx_status_t devx_bridge_connect_start(devx_op_t **out, devx_context_t *ctx,
                                                    const char *options_json, devx_error_t **err);

/* Deploys the in-cluster agent, swaps the Service's selector to it and routes its connections to
 * local ports until cancelled; then restores the selector and removes the agent. options_json:
 * {"v":1,"kube":{…},"service","namespace","ports":[{"remote","local"}],"agent_image",
 * "ready_timeout_s":120,"grace_s":30,"keepalive_interval_ms":5000,"keepalive_timeout_ms":10000,
 * "origin"} (docs/schemas/bridge-intercept-options.schema.json); no "ports" = every TCP Service
 * port to the same local port. Progress events name each step; a state event "active" carries
 * {"session","service","namespace","ports":[{"remote","local"}]}. DEVX_E_CONFLICT when the
 * Service is already intercepted, DEVX_E_UNREACHABLE when the cluster cannot be reached,
 * DEVX_E_PERMISSION_DENIED when RBAC refuses a call (see devx_bridge_rbac_yaml). */
DEVX_EXPORT devx_status_t devx_bridge_intercept_start(devx_op_t **out, devx_context_t *ctx,
                                                      const char *options_json,
                                                      devx_error_t **err);

/* Every recorded session with its liveness checked (a dead owner is reported as "stale"):
 * {"v":1,"active":bool,"sessions":[…]} (docs/schemas/bridge-status.schema.json);
 * {"v":1,"active":false,"sessions":[]} when there is none. */
DEVX_EXPORT devx_status_t devx_bridge_status(char **out_json, devx_context_t *ctx,
                                             devx_error_t **err);

/* Stops the session `session_id` (NULL or "" = every session): signals each live owner, which
 * restores and cleans up itself, and waits up to wait_ms for it (< 0: the library's default,
 * 30 s); for a dead owner whose intercept is still applied, restores the Service and removes the
 * agent itself. With dry_run, the plan only. Result: {"v":1,"sessions":[…]}
 * (docs/schemas/bridge-disconnect.schema.json). */
DEVX_EXPORT devx_status_t devx_bridge_disconnect(char **out_json, devx_context_t *ctx,
                                                 const char *session_id, int wait_ms,
                                                 devx_error_t **err);

/* BRIDGE_<SERVICE>[_<NAMESPACE>]_{URL,HOST,PORT} for every live forward of every session:
 * {"v":1,"env":{"BRIDGE_PAYMENTS_API_URL":"http://127.0.0.1:9501",…}}
 * (docs/schemas/bridge-environment.schema.json). */
DEVX_EXPORT devx_status_t devx_bridge_environment(char **out_json, devx_context_t *ctx,
                                                  devx_error_t **err);

/* Finds what a crashed session can leave in the cluster (swapped selectors, agents, RBAC objects
 * without a live session) and, with "repair", restores and deletes it. options_json:
 * {"v":1,"kube":{…},"namespace":"" (all namespaces),"repair":false}
 * (docs/schemas/bridge-doctor-options.schema.json). Result: {"v":1,"findings":[…]}
 * (docs/schemas/bridge-doctor-result.schema.json). */
DEVX_EXPORT devx_status_t devx_bridge_doctor_start(devx_op_t **out, devx_context_t *ctx,
                                                   const char *options_json, devx_error_t **err);

/* Apply-able RBAC YAML granting exactly the API calls the bridge makes: Role + RoleBinding in
 * namespace_, or ClusterRole + ClusterRoleBinding when it is NULL or "". */
DEVX_EXPORT devx_status_t devx_bridge_rbac_yaml(char **out, const char *namespace_,
                                                devx_error_t **err);

/* The one formula for the prefix of a forward's environment variables: "BRIDGE_" + the Service
 * name upper-cased with every character outside [A-Z0-9] replaced by '_', plus "_" + the
 * namespace the same way when with_namespace is not 0: "payments-api" -> "BRIDGE_PAYMENTS_API";
 * with "team.a" -> "BRIDGE_PAYMENTS_API_TEAM_A". namespace_ NULL is "". */
DEVX_EXPORT devx_status_t devx_bridge_env_prefix(char **out, const char *service,
                                                 const char *namespace_, int with_namespace,
                                                 devx_error_t **err);

/* ---- dev VM, Ignition, doctor, nuke (ABI version 4) ------------------------------------------ */

/* Butane -> Ignition, the dev VM, `doctor` and `nuke`, as declared in include/devx/vm.hpp,
 * ignition.hpp, doctor.hpp and nuke.hpp (docs/vm.md, docs/ignition.md, docs/doctor.md,
 * docs/nuke.md). Options documents are decoded strictly when the call is made: an unknown key or a
 * wrong type fails the call with DEVX_E_INVALID_ARGUMENT naming the field ("tunnel.id"); NULL
 * means defaults. Every call that changes something honours the context's dry_run: it returns its
 * plan ({"v":1,"operation","vm","dry_run":true,"actions":[…]},
 * docs/schemas/vm-result.schema.json) and executes nothing. A destructive step without
 * "assume_yes" fails with DEVX_E_PROMPT_REQUIRED whose details {"confirm":"<question>",
 * "plan":{…}} let a caller ask and retry with "assume_yes":true. */

/* Compiles a Butane document (fcos variant; a drop-in for `butane --pretty --strict`).
 * options_json may be NULL or {"v":1,"source_name":"<stdin>","files_dir":"","strict":false,
 * "pretty":true} (docs/schemas/butane-compile-options.schema.json). Result:
 * {"v":1,"ignition":"<the Ignition JSON document as text>","ignition_version":"3.4.0",
 * "warnings":[{"severity","file","line","column","message","hint"}]}
 * (docs/schemas/butane-compile-result.schema.json). DEVX_E_CONFIG_INVALID whose details hold
 * {"diagnostics":[…]} (file = source_name, with line and column) for any problem,
 * DEVX_E_UNSUPPORTED for a variant/version not supported, DEVX_E_IO for an unreadable local:
 * source. */
DEVX_EXPORT devx_status_t devx_butane_compile(char **out_json, const char *document,
                                              const char *options_json, devx_error_t **err);

/* {"v":1,"versions":[{"variant","butane_version","ignition_version"}]}: what devx_butane_compile
 * accepts (docs/schemas/butane-versions.schema.json). */
DEVX_EXPORT devx_status_t devx_butane_versions(char **out_json, devx_error_t **err);

/* The built-in dev machine Butane document (fcos 1.5.0) with its ${…} placeholders. */
DEVX_EXPORT devx_status_t devx_dev_machine_template(char **out, devx_error_t **err);

/* The built-in dev machine configuration with values substituted (as data, never as YAML text),
 * compiled in strict mode. values_json: {"v":1,"hostname","ssh_authorized_keys":[…],"runtime":
 * "podman"|"docker","tunnel_id","tunnel_credentials_json","tunnel_hostname","tunnel_service",
 * "tailscale_auth_key"} (docs/schemas/butane-dev-machine-values.schema.json). Result:
 * {"v":1,"butane","ignition","ignition_version"}
 * (docs/schemas/butane-dev-machine-config.schema.json); it holds the secrets given: keep it out of
 * logs and world-readable files.
 * DEVX_E_INVALID_ARGUMENT names a value that fails validation. */
DEVX_EXPORT devx_status_t devx_dev_machine_config(char **out_json, const char *values_json,
                                                  devx_error_t **err);

/* VM options (docs/schemas/vm-options.schema.json), the base of every devx_vm_* document:
 * {"v":1,"provider":"podman"|"lima"|"colima"|"docker"|"orbstack"|"host"|"","name":"",
 *  "project_dir":"","assume_yes":false,"platform":"linux"|"darwin"|""}; "" = resolved (provider:
 * DEVX_HOME/config.yaml -> the project's devx.yaml -> detection; name: $DEVX_VM_NAME -> the VM
 * recorded by init -> "<user>-dev-machine"). */

/* Which provider and VM the options resolve to: {"v":1,"provider","provider_source","name",
 * "name_source","runtime"} (docs/schemas/vm-target.schema.json). Several providers detected ->
 * DEVX_E_PROMPT_REQUIRED with details {"candidates":[…]} (pass the choice as "provider"); none ->
 * DEVX_E_COMMAND_NOT_FOUND with install hints; an invalid name -> DEVX_E_INVALID_ARGUMENT. */
DEVX_EXPORT devx_status_t devx_vm_resolve(char **out_json, devx_context_t *ctx,
                                          const char *options_json, devx_error_t **err);

/* What each provider's detection finds on `platform` ("linux" | "darwin"; NULL or "" = this
 * machine): {"v":1,"platform","providers":[{"name","binary","path","version","available",
 * "note"}]} (docs/schemas/vm-detect.schema.json). */
DEVX_EXPORT devx_status_t devx_vm_detect(char **out_json, devx_context_t *ctx,
                                         const char *platform, devx_error_t **err);

/* Records `provider` as the default in DEVX_HOME/config.yaml (other keys are kept). */
DEVX_EXPORT devx_status_t devx_vm_save_default_provider(devx_context_t *ctx, const char *provider,
                                                        devx_error_t **err);

/* Creates the VM (idempotent: an existing VM is left alone unless "recreate", which needs
 * "assume_yes"), hands it the dev machine Ignition config (at creation where the provider accepts
 * one, else replayed), starts it and records it. options_json: the VM options plus
 * "recreate":false,"cpus":0,"memory_mb":0,"disk_gb":0 (0 = the provider's default),
 * "ssh_authorized_keys":[…],"tunnel":{"id","credentials_file","hostname"},"tailscale_auth_key"
 * (docs/schemas/vm-init-options.schema.json). Progress events name each step. Result: the result
 * document with "created":bool and "ignition":"at-creation"|"replayed"|"not-applicable". */
DEVX_EXPORT devx_status_t devx_vm_init_start(devx_op_t **out, devx_context_t *ctx,
                                             const char *options_json, devx_error_t **err);

/* Start, stop and sleep the VM (sleep: a stop where the provider can; docker and orbstack manage
 * it themselves; host: nothing to do). options_json: the VM options. Result: the result document
 * (docs/schemas/vm-result.schema.json). */
DEVX_EXPORT devx_status_t devx_vm_start(char **out_json, devx_context_t *ctx,
                                        const char *options_json, devx_error_t **err);
DEVX_EXPORT devx_status_t devx_vm_stop(char **out_json, devx_context_t *ctx,
                                       const char *options_json, devx_error_t **err);
DEVX_EXPORT devx_status_t devx_vm_sleep(char **out_json, devx_context_t *ctx,
                                        const char *options_json, devx_error_t **err);

/* {"v":1,"vm":{"name","provider","state","exists","cpus"?,"memory_mb"?,"disk_gb"?},"record",
 * "tunnel","mesh"} (docs/schemas/vm-status.schema.json); "state" is running | stopped |
 * not-created | unknown. Read-only: never prompts, never changes anything. */
DEVX_EXPORT devx_status_t devx_vm_status(char **out_json, devx_context_t *ctx,
                                         const char *options_json, devx_error_t **err);

/* Stops the VM if it runs, applies the sizes, starts it again if it was running. options_json:
 * the VM options plus "cpus","memory_mb","disk_gb" (0 = unchanged; at least one set)
 * (docs/schemas/vm-resize-options.schema.json). */
DEVX_EXPORT devx_status_t devx_vm_resize(char **out_json, devx_context_t *ctx,
                                         const char *options_json, devx_error_t **err);

/* Removes the VM and what was recorded for it (tunnel, DNS records, mesh node) unless
 * "keep_attachments". options_json: the VM options plus "keep_attachments":false
 * (docs/schemas/vm-teardown-options.schema.json). Needs "assume_yes" (else
 * DEVX_E_PROMPT_REQUIRED); DEVX_E_NOT_FOUND names the VMs that exist when this one does not;
 * every failed step is reported. */
DEVX_EXPORT devx_status_t devx_vm_teardown(char **out_json, devx_context_t *ctx,
                                           const char *options_json, devx_error_t **err);

/* Runs a command in the VM with output captured. argv_json: ["cmd","arg",…] (not empty);
 * stdin_data: NULL = no input. Result: {"v":1,"exit_code","signal","timed_out","cancelled","out",
 * "err"} (docs/schemas/vm-exec-result.schema.json); a command that fails is a result, not an
 * error. */
DEVX_EXPORT devx_status_t devx_vm_exec(char **out_json, devx_context_t *ctx,
                                       const char *options_json, const char *argv_json,
                                       const char *stdin_data, devx_error_t **err);

/* The argv that opens a shell in the VM, or runs argv_json there (NULL or [] = a shell), for
 * callers that attach a terminal: {"v":1,"argv":[…]} (docs/schemas/vm-ssh-argv.schema.json). */
DEVX_EXPORT devx_status_t devx_vm_ssh_argv(char **out_json, devx_context_t *ctx,
                                           const char *options_json, const char *argv_json,
                                           devx_error_t **err);

/* Applies an Ignition config (a JSON document, e.g. "ignition" of devx_butane_compile) to the
 * running VM: files, directories, links and units, written with base64 + `install -m`; then
 * systemd reloads and enabled units start. Result: the result document with "files",
 * "directories","links","units" counts. DEVX_E_INVALID_ARGUMENT for a document that is not a
 * valid Ignition config, DEVX_E_UNSUPPORTED for a field or source this replay cannot apply and for
 * providers without a systemd machine of their own (host, docker, orbstack). */
DEVX_EXPORT devx_status_t devx_vm_apply_ignition(char **out_json, devx_context_t *ctx,
                                                 const char *options_json,
                                                 const char *ignition_json, devx_error_t **err);

/* Polls the VM every "interval_s" (default 60, at least 1) and puts it to sleep after
 * "idle_polls" (default 3) polls in a row without user containers; runs until cancelled.
 * options_json: the VM options plus "interval_s","idle_polls"
 * (docs/schemas/vm-sleep-watch-options.schema.json). State events carry
 * {"state":"idle"|"busy"|"asleep"|"stopped","containers":N}. */
DEVX_EXPORT devx_status_t devx_vm_sleep_watch_start(devx_op_t **out, devx_context_t *ctx,
                                                    const char *options_json,
                                                    devx_error_t **err);

/* Which tools each feature area needs and has, how to install what is missing, and the state of
 * credentials (never their values). options_json may be NULL or {"v":1,"platform":"","env_file":
 * "","areas":[…],"as_root":null,"probe_timeout_ms":5000} (docs/schemas/doctor-options.schema.json):
 * no "areas" = all, an unknown area is DEVX_E_INVALID_ARGUMENT; "as_root" null = whether this
 * process runs as root (install commands then have no sudo). Result: {"v":1,"ok":bool,"system",
 * "areas":[…],"missing_required":[…]} (docs/schemas/doctor-report.schema.json); "ok" is false
 * when a required tool is missing (a finding, not an error). */
DEVX_EXPORT devx_status_t devx_doctor_report(char **out_json, devx_context_t *ctx,
                                             const char *options_json, devx_error_t **err);

/* What `doctor install` would run: the doctor options plus "all":false (optional tools too),
 * "assume_yes":false (docs/schemas/doctor-install-options.schema.json). Result:
 * {"v":1,"package_manager","steps":[{"tools","argv","required"}],"unavailable":[…]}
 * (docs/schemas/doctor-install-plan.schema.json). */
DEVX_EXPORT devx_status_t devx_doctor_install_plan(char **out_json, devx_context_t *ctx,
                                                   const char *options_json, devx_error_t **err);

/* Runs the install plan (dry_run: its result is the plan). Without "assume_yes" the operation
 * fails with DEVX_E_PROMPT_REQUIRED (details: the plan). Progress events per step. Result: the
 * plan with each step's "status" ("ok"|"failed") and "error"; DEVX_E_COMMAND_FAILED when a step
 * failed. */
DEVX_EXPORT devx_status_t devx_doctor_install_start(devx_op_t **out, devx_context_t *ctx,
                                                    const char *options_json, devx_error_t **err);

/* What `nuke` would remove for one project: its containers and volumes (by label), its state under
 * DEVX_HOME and, when asked, untracked build artefacts and global caches; never anything git
 * tracks. options_json may be NULL or {"v":1,"project_dir":"","artifacts":false,
 * "global_caches":false,"assume_yes":false} (docs/schemas/nuke-options.schema.json). Result:
 * {"v":1,"project","project_dir","items":[…],"total_bytes","protected":[…]}
 * (docs/schemas/nuke-plan.schema.json). Read-only. */
DEVX_EXPORT devx_status_t devx_nuke_plan(char **out_json, devx_context_t *ctx,
                                         const char *options_json, devx_error_t **err);

/* Removes the plan's items (dry_run: returns the plan). Needs "assume_yes" (else
 * DEVX_E_PROMPT_REQUIRED with the plan in its details). Result: {"v":1,"removed":[…],"failed":[…],
 * "freed_bytes"} (docs/schemas/nuke-result.schema.json); DEVX_E_COMMAND_FAILED, with that result
 * in its details, when an item could not be removed. */
DEVX_EXPORT devx_status_t devx_nuke(char **out_json, devx_context_t *ctx, const char *options_json,
                                    devx_error_t **err);

/* ---- tunnels, edge proxies, mesh, sites, webhooks, mail (ABI version 5) ---------------------- */

/* Cloudflare tunnels, the local edge proxies and the inspector, the VM's Tailscale node, GitHub
 * Pages sites, the webhook catcher and the mail catcher, as declared in include/devx/tunnel.hpp,
 * edge.hpp, mesh.hpp, sites.hpp, webhook.hpp and mail.hpp (docs/tunnels.md, docs/edge.md,
 * docs/mesh.md, docs/sites.md, docs/webhook.md, docs/mail.md). Options documents are decoded
 * strictly when the call is made (DEVX_E_INVALID_ARGUMENT naming the field, "cloudflare.api_url");
 * NULL means defaults and a JSON null keeps a field's default. Every call that changes something
 * honours the context's dry_run (its result is the plan: {"v":1,"operation","dry_run":true,
 * "actions":[…]}). Secrets ("api_token", "basic_auth", "auth_key") travel only inside these
 * documents: never in argv, plans, events or logs. Cloudflare API failures are DEVX_E_HTTP,
 * DEVX_E_PERMISSION_DENIED, DEVX_E_CONFLICT or DEVX_E_NOT_FOUND whose details hold
 * {"status","method","url","cloudflare_errors":[{"code","message"}]}.
 *
 * "cloudflare" (every tunnel and sites document; docs/schemas/tunnel-cloudflare.schema.json):
 * {"api_url":"" ($DEVX_CLOUDFLARE_API_URL, else https://api.cloudflare.com/client/v4),
 *  "api_token":"" ($CLOUDFLARE_API_TOKEN, $CF_API_TOKEN, then "env_sources"),"account_id":"",
 *  "cloudflared":"cloudflared","env_sources":["path/.env",…]}. */

/* Exposes a local port at https://<hostname> on this machine's tunnel (created once, reused):
 * options_json {"v":1,"cloudflare":{…},"port":3000,"name":"","zone":"","domain":"",
 * "basic_auth":"user:pass","throttle":""|"3g"|"edge"|"slow"}
 * (docs/schemas/tunnel-expose-options.schema.json); everything is validated before anything is
 * created. Without proxies the operation ends once the route is live and its result is the
 * exposure; with "basic_auth"/"throttle" it emits {"state":"exposed","exposure":{…}} and serves
 * the proxies until devx_op_cancel, then removes the exposure it made. */
DEVX_EXPORT devx_status_t devx_tunnel_expose_start(devx_op_t **out, devx_context_t *ctx,
                                                   const char *options_json, devx_error_t **err);

/* Removes an exposure's ingress rule, DNS record and record: options_json {"v":1,
 * "cloudflare":{…},"target":"<id or hostname>","all":false}
 * (docs/schemas/tunnel-unexpose-options.schema.json). Result {"v":1,"operation":
 * "tunnel.unexpose","dry_run","actions","removed":[…]}; DEVX_E_NOT_FOUND names the exposures. */
DEVX_EXPORT devx_status_t devx_tunnel_unexpose(char **out_json, devx_context_t *ctx,
                                               const char *options_json, devx_error_t **err);

/* The recorded exposures and tunnels (no API call): {"v":1,"exposures":[…],"tunnels":[…]}
 * (docs/schemas/tunnel-status.schema.json). */
DEVX_EXPORT devx_status_t devx_tunnel_status(char **out_json, devx_context_t *ctx,
                                             devx_error_t **err);

/* Brings up the project's `tunnels:` on the project's tunnel until devx_op_cancel, which removes
 * the routes it added: options_json {"v":1,"cloudflare":{…},"zone":""}
 * (docs/schemas/tunnel-up-options.schema.json). One {"state":"exposed","exposure":{…}} event
 * per entry. `project` is copied. */
DEVX_EXPORT devx_status_t devx_tunnel_up_start(devx_op_t **out, devx_context_t *ctx,
                                               const devx_project_t *project,
                                               const char *options_json, devx_error_t **err);

/* The DNS label a name becomes in a hostname ("My_App" -> "my-app"); DEVX_E_INVALID_ARGUMENT
 * when nothing is left. */
DEVX_EXPORT devx_status_t devx_tunnel_dns_label(char **out, const char *name, devx_error_t **err);

/* This machine's tunnel id (generated once, stored under DEVX_HOME/tunnel). */
DEVX_EXPORT devx_status_t devx_tunnel_machine_id(char **out, devx_context_t *ctx,
                                                 devx_error_t **err);

/* Edge proxy options (docs/schemas/edge-proxy-options.schema.json): {"v":1,"target_port":3000,
 * "bind":"127.0.0.1","listen_port":0,"basic_auth":"user:pass","throttle":""|"3g"|"edge"|"slow",
 * "inspect":false,"inspect_options":{"session":"","body_limit":1048576}}. Traffic flows
 * client -> [throttle] -> [basic auth + inspector] -> 127.0.0.1:target_port. */

/* The chain's plan, validated as devx_edge_proxy_start does. */
DEVX_EXPORT devx_status_t devx_edge_proxy_plan(char **out_json, devx_context_t *ctx,
                                               const char *options_json, devx_error_t **err);

/* Binds every listener (DEVX_E_PORT_IN_USE when "listen_port" is taken) and starts the chain on a
 * context thread. With dry_run nothing is bound: the port is 0 and the operation's result is
 * the plan. Free the proxy (which stops it) before its context. */
DEVX_EXPORT devx_status_t devx_edge_proxy_start(devx_edge_proxy_t **out, devx_context_t *ctx,
                                                const char *options_json, devx_error_t **err);
/* The port clients connect to; 0 for a dry run or NULL. */
DEVX_EXPORT int devx_edge_proxy_port(const devx_edge_proxy_t *proxy);
/* {"v":1,"listen","target","layers":[…],"session"?,"capture_dir"?,"stats":{…}}
 * (docs/schemas/edge-proxy-status.schema.json). */
DEVX_EXPORT devx_status_t devx_edge_proxy_status(char **out_json, const devx_edge_proxy_t *proxy,
                                                 devx_error_t **err);
/* A handle (freed with devx_op_free) on the operation running the chain: state "listening",
 * one "exchange" event per recorded exchange, warnings; it ends when the proxy stops. */
DEVX_EXPORT devx_status_t devx_edge_proxy_operation(devx_op_t **out, devx_edge_proxy_t *proxy,
                                                    devx_error_t **err);
/* Closes the listeners and connections and waits for the thread. Idempotent; NULL is ignored. */
DEVX_EXPORT void devx_edge_proxy_stop(devx_edge_proxy_t *proxy);
/* Stops the proxy and frees it. NULL is ignored. */
DEVX_EXPORT void devx_edge_proxy_free(devx_edge_proxy_t *proxy);

/* {"v":1,"name","latency_us","jitter_us","bytes_per_second"}; DEVX_E_INVALID_ARGUMENT naming
 * the supported profiles for an unknown name. */
DEVX_EXPORT devx_status_t devx_throttle_profile(char **out_json, const char *name,
                                                devx_error_t **err);
/* {"v":1,"names":["3g","edge","slow"]}. */
DEVX_EXPORT devx_status_t devx_throttle_profile_names(char **out_json, devx_error_t **err);

/* Inspector sessions, newest first: {"v":1,"sessions":[{"session","dir","exchanges","first",
 * "last","target_port"}]}. */
DEVX_EXPORT devx_status_t devx_inspect_sessions(char **out_json, devx_context_t *ctx,
                                                devx_error_t **err);
/* The exchanges of a session (NULL or "" = the newest): {"v":1,"session","exchanges":[…]}
 * (docs/schemas/edge-captures.schema.json); DEVX_E_NOT_FOUND for an unknown session. */
DEVX_EXPORT devx_status_t devx_inspect_captures(char **out_json, devx_context_t *ctx,
                                                const char *session, devx_error_t **err);
/* One exchange in full (headers, bodies, timing). */
DEVX_EXPORT devx_status_t devx_inspect_capture(char **out_json, devx_context_t *ctx,
                                               const char *session, const char *id,
                                               devx_error_t **err);
/* Re-sends a recorded request to 127.0.0.1: options_json {"v":1,"target_port":0 (the recorded
 * port),"timeout_ms":30000}. Result {"v":1,"session","id","request","response","duration_ms"};
 * DEVX_E_UNSUPPORTED for a request recorded truncated. */
DEVX_EXPORT devx_status_t devx_inspect_replay(char **out_json, devx_context_t *ctx,
                                              const char *session, const char *id,
                                              const char *options_json, devx_error_t **err);
/* Deletes a session's captures: {"v":1,"session","removed","dry_run"}. */
DEVX_EXPORT devx_status_t devx_inspect_remove(char **out_json, devx_context_t *ctx,
                                              const char *session, devx_error_t **err);

/* Mesh options: the VM options of devx_vm_* (docs/schemas/vm-options.schema.json). */

/* Joins the VM's node to the tailnet with a pre-auth key (written into the VM on stdin, never in
 * argv), waits until it runs and verifies it: options_json = the VM options plus
 * "auth_key":"" ($TS_AUTHKEY, then the project's env sources),"hostname":"","accept_routes":
 * false,"timeout_s":120,"poll_interval_ms":1000 (docs/schemas/mesh-join-options.schema.json).
 * Result: {"v":1,"operation":"mesh.join","vm","dry_run","actions","result","key_source","node"}. */
DEVX_EXPORT devx_status_t devx_mesh_join_start(devx_op_t **out, devx_context_t *ctx,
                                               const char *options_json, devx_error_t **err);
/* `tailscale status --json` of the VM's node: {"v":1,"vm","backend_state","auth_url","tailnet",
 * "self","peers":[…],"health","recorded"} (docs/schemas/mesh-status.schema.json). */
DEVX_EXPORT devx_status_t devx_mesh_status(char **out_json, devx_context_t *ctx,
                                           const char *options_json, devx_error_t **err);
/* Logs the node out and forgets it; the plan document with "result". */
DEVX_EXPORT devx_status_t devx_mesh_leave(char **out_json, devx_context_t *ctx,
                                          const char *options_json, devx_error_t **err);
/* The argv that runs `tailscale <args…>` in the VM (args_json ["status"]; NULL = []), for
 * callers that attach a terminal: {"v":1,"argv":[…]}. */
DEVX_EXPORT devx_status_t devx_mesh_tailscale_argv(char **out_json, devx_context_t *ctx,
                                                   const char *options_json,
                                                   const char *args_json, devx_error_t **err);
/* Runs `tailscale <args…>` in the VM with output captured: {"v":1,"exit_code","signal",
 * "timed_out","cancelled","out","err"} (docs/schemas/vm-exec-result.schema.json). */
DEVX_EXPORT devx_status_t devx_mesh_exec(char **out_json, devx_context_t *ctx,
                                         const char *options_json, const char *args_json,
                                         const char *stdin_data, devx_error_t **err);

/* Sites options (docs/schemas/sites-options.schema.json): {"v":1,"project_dir":"","repo":
 * "OWNER/NAME" ("" = gh's answer),"cloudflare":{…},"assume_yes":false}. init and verify need
 * "assume_yes" (else DEVX_E_PROMPT_REQUIRED with details {"confirm","plan"}). */

/* GitHub Pages on <name>.<domain> with its Cloudflare CNAME: the sites options plus "domain"
 * (required),"zone":"","name":"" (docs/schemas/sites-init-options.schema.json). Result: the plan
 * document with "site","pages","dns","custom_domain","https","cname_file","verification". */
DEVX_EXPORT devx_status_t devx_sites_init(char **out_json, devx_context_t *ctx,
                                          const char *options_json, devx_error_t **err);
/* The TXT record GitHub verifies the domain with: the sites options plus "domain","zone",
 * "txt_name","txt_value" (docs/schemas/sites-verify-options.schema.json). */
DEVX_EXPORT devx_status_t devx_sites_verify(char **out_json, devx_context_t *ctx,
                                            const char *options_json, devx_error_t **err);
/* Read-only: {"v":1,"repo","enabled","pages":{…}|null,"cname_file":{…}|null}. */
DEVX_EXPORT devx_status_t devx_sites_status(char **out_json, devx_context_t *ctx,
                                            const char *options_json, devx_error_t **err);

/* Records every request to DEVX_HOME/webhooks/<session>.jsonl (0600) until devx_op_cancel:
 * options_json {"v":1,"bind":"127.0.0.1","port":9999 (0 = ephemeral),"session":"",
 * "reply_status":200,"reply_body":"{\"status\":\"captured\"}","body_limit":1048576,
 * "expose":false,"cloudflared":"cloudflared","expose_timeout_ms":20000}
 * (docs/schemas/webhook-catch-options.schema.json). Events: state "listening" {"session","file",
 * "bind","port","url","env"}, state "exposed" {"public_url"}, a progress event per request (the
 * record as data). Result: {"v":1,"session","file","requests","url","public_url"?}. */
DEVX_EXPORT devx_status_t devx_webhook_catch_start(devx_op_t **out, devx_context_t *ctx,
                                                   const char *options_json, devx_error_t **err);
/* session NULL or "": {"v":1,"sessions":[…]}; else {"v":1,"session","requests":[record…]}
 * (docs/schemas/webhook-list.schema.json). */
DEVX_EXPORT devx_status_t devx_webhook_list(char **out_json, devx_context_t *ctx,
                                            const char *session, devx_error_t **err);
/* Re-sends request `id` ("<session>.<seq>", or "<seq>" of the newest session) to `to_url` + its
 * recorded target: {"v":1,"id","request":{"method","url"},"response":{…}}. */
DEVX_EXPORT devx_status_t devx_webhook_replay(char **out_json, devx_context_t *ctx,
                                              const char *id, const char *to_url,
                                              devx_error_t **err);

/* Runs the SMTP catcher and its HTTP view until devx_op_cancel: options_json {"v":1,
 * "instance":"default","bind":"127.0.0.1","smtp_port":1025,"http_port":8025,
 * "max_message_size":26214400,"hostname":"devx-mail"}
 * (docs/schemas/mail-catcher-options.schema.json). Events: state "listening" {"instance",
 * "smtp_host","smtp_port","http_url","env"}, a progress event per message. Result:
 * {"v":1,"instance","messages_received"}. */
DEVX_EXPORT devx_status_t devx_mail_catcher_start(devx_op_t **out, devx_context_t *ctx,
                                                  const char *options_json, devx_error_t **err);
/* {"v":1,"instances":[{"instance","running","pid"?,"smtp_port"?,"http_port"?,"http_url"?,
 * "messages","env"?}]} (docs/schemas/mail-instances.schema.json). */
DEVX_EXPORT devx_status_t devx_mail_instances(char **out_json, devx_context_t *ctx,
                                              devx_error_t **err);
/* Summaries, newest first (instance NULL = "default"): {"v":1,"instance","messages":[{"id",
 * "received","mail_from","rcpt_to","subject","size"}]} (docs/schemas/mail-messages.schema.json). */
DEVX_EXPORT devx_status_t devx_mail_messages(char **out_json, devx_context_t *ctx,
                                             const char *instance, devx_error_t **err);
/* One message document; DEVX_E_NOT_FOUND for an unknown id. */
DEVX_EXPORT devx_status_t devx_mail_message(char **out_json, devx_context_t *ctx,
                                            const char *instance, const char *id,
                                            devx_error_t **err);
/* The raw RFC 5322 source of one message (a NUL byte in it ends the C string). */
DEVX_EXPORT devx_status_t devx_mail_message_raw(char **out, devx_context_t *ctx,
                                                const char *instance, const char *id,
                                                devx_error_t **err);
/* Deletes message `id` (NULL or "" = all): {"v":1,"instance","deleted":[…]}. */
DEVX_EXPORT devx_status_t devx_mail_delete(char **out_json, devx_context_t *ctx,
                                           const char *instance, const char *id,
                                           devx_error_t **err);
/* {"v":1,"env":{"SMTP_HOST","SMTP_PORT","MAIL_CATCHER_URL"}} of the running catcher; {} when
 * none runs. */
DEVX_EXPORT devx_status_t devx_mail_environment(char **out_json, devx_context_t *ctx,
                                                const char *instance, devx_error_t **err);

#ifdef __cplusplus
}
#endif

#endif /* DEVX_DEVX_H */
