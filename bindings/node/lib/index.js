'use strict';
// devx for Node: the public API over the SWIG module `devx_native` (the C ABI, see swig/devx.i).
// Everything forwards to libdevx; this file adds classes, typed errors, Promises and an
// EventEmitter per operation. Threads: libdevx's worker threads never call into JS. Operations
// are observed by polling devx_op_next_event with a zero timeout on a backing-off timer.
const { EventEmitter } = require('events');
const fs = require('fs');
const path = require('path');

const native = loadNative();

function loadNative() {
  const build = path.join(__dirname, '..', 'build');
  const candidates = [
    process.env.DEVX_NODE_ADDON,
    path.join(build, 'Release', 'devx_native.node'),
    path.join(build, 'Debug', 'devx_native.node'),
  ].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(`devx: the native addon is not built (looked for ${candidates.join(', ')}); ` +
      'run `npm rebuild devx`');
  }
  return require(found);
}

// ---- errors ------------------------------------------------------------------------------------

class DevxError extends Error {
  constructor(message, { code = 'internal', status = 1, hint = '', details = {}, cause } = {}) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.hint = hint;
    this.details = details || {};
  }
}

function normalizeDiagnostic(d) {
  return {
    severity: d.severity || 'error',
    file: d.file || '',
    line: d.line || 0,
    column: d.column || 0,
    message: d.message || '',
    hint: d.hint || '',
  };
}

class ConfigError extends DevxError {
  constructor(message, options = {}) {
    super(message, { code: 'config_invalid', status: 4, ...options });
    this.diagnostics = (this.details.diagnostics || []).map(normalizeDiagnostic);
    const first = this.diagnostics.find((d) => d.severity === 'error') || this.diagnostics[0];
    this.file = first ? first.file : null;
    this.line = first ? first.line : null;
    this.column = first ? first.column : null;
  }
}

function className(code) {
  return code.split('_').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('') + 'Error';
}

// The one table: devx.h's devx_status_t, exported by the SWIG module as DEVX_E_* constants.
// Each code gets a subclass named after it (config_not_found -> ConfigNotFoundError);
// config_invalid is the richer ConfigError.
const errorClasses = { config_invalid: ConfigError };
const errors = { DevxError, ConfigError };
for (const key of Object.keys(native).filter((k) => k.startsWith('DEVX_E_')).sort(
  (a, b) => native[a] - native[b])) {
  const code = key.slice('DEVX_E_'.length).toLowerCase();
  const status = native[key];
  if (!errorClasses[code]) {
    const name = className(code);
    const cls = {
      [name]: class extends DevxError {
        constructor(message, options = {}) {
          super(message, { code, status, ...options });
        }
      },
    }[name];
    errorClasses[code] = cls;
  }
  errors[className(code)] = errorClasses[code];
}

function errorClass(code) {
  return errorClasses[code] || DevxError;
}

function errorFromObject(doc) {
  const cause = doc.cause && typeof doc.cause === 'object' ? errorFromObject(doc.cause) : undefined;
  const Cls = errorClass(doc.code);
  return new Cls(doc.message || '', {
    code: doc.code || 'internal',
    status: doc.status === undefined ? 1 : doc.status,
    hint: doc.hint || '',
    details: doc.details || {},
    cause,
  });
}

// SWIG-thrown errors carry devx_error_json(); anything else (a bad argument type caught by SWIG)
// passes through unchanged.
function translate(err) {
  if (err && typeof err.devxErrorJson === 'string') {
    const typed = errorFromObject(JSON.parse(err.devxErrorJson));
    return typed;
  }
  return err;
}

function call(fn, ...args) {
  try {
    return fn(...args);
  } catch (err) {
    throw translate(err);
  }
}

function invalidArgument(message, hint = '') {
  return new (errorClass('invalid_argument'))(message, { hint });
}

// ---- handles -----------------------------------------------------------------------------------

// SWIG does not own the library's handles: they are freed explicitly (close()) and, as a safety
// net, when their JS owner is collected.
const finalizer = new FinalizationRegistry(({ free, handle }) => free(handle));

let defaultContextInstance = null;

function defaultContext() {
  if (!defaultContextInstance || defaultContextInstance.closed) {
    defaultContextInstance = new Context();
  }
  return defaultContextInstance;
}

class Context {
  constructor({ devxHome, env, dryRun, logLevel } = {}) {
    const options = { v: 1 };
    if (devxHome !== undefined && devxHome !== null) options.devx_home = String(devxHome);
    if (env !== undefined && env !== null) options.env = { ...env };
    if (dryRun !== undefined) options.dry_run = Boolean(dryRun);
    if (logLevel !== undefined) options.log_level = String(logLevel);
    this._handle = call(native.context_new, JSON.stringify(options));
    this._operations = new Set();
    this._sessions = new Set();
    this._proxies = new Set();
    this._token = {};
    finalizer.register(this, { free: native.context_free, handle: this._handle }, this._token);
  }

  get closed() {
    return this._handle === null;
  }

  get handle() {
    if (this._handle === null) throw invalidArgument('the context is closed');
    return this._handle;
  }

  // Cancels and waits for this context's operations, then frees it. Idempotent.
  close() {
    if (this._handle === null) return;
    // Proxies and sessions first: freeing them stops their threads and processes.
    for (const proxy of [...this._proxies]) proxy.close();
    this._proxies.clear();
    // Sessions: freeing one stops its processes synchronously (devx_session_free).
    for (const session of this._sessions) session._free();
    this._sessions.clear();
    for (const op of this._operations) op._abandon();
    this._operations.clear();
    finalizer.unregister(this._token);
    native.context_free(this._handle);
    this._handle = null;
  }
}
if (typeof Symbol.dispose === 'symbol') {
  Context.prototype[Symbol.dispose] = Context.prototype.close;
}

function loadOptionsJson({ profile, user } = {}) {
  const options = { v: 1 };
  if (profile !== undefined && profile !== null && profile !== '') options.profile = String(profile);
  if (user !== undefined && user !== null) options.user = String(user);
  return JSON.stringify(options);
}

function pathArg(p, what) {
  if (p === undefined || p === null) return '.';
  if (typeof p !== 'string') throw invalidArgument(`${what} must be a string, got ${typeof p}`);
  return p;
}

// The resolved project: the fields of the resolved JSON document (name, domain, services, …, as
// in docs/schemas/project.schema.json), `json` (the document exactly as devx_project_to_json
// produced it), and the renderers.
class Project {
  constructor(handle, json) {
    const doc = JSON.parse(json);
    Object.assign(this, doc);
    Object.defineProperty(this, 'json', { value: json, enumerable: false });
    Object.defineProperty(this, '_doc', { value: doc, enumerable: false });
    Object.defineProperty(this, '_handle', { value: handle, enumerable: false, writable: true });
    Object.defineProperty(this, '_token', { value: {}, enumerable: false });
    if (handle) finalizer.register(this, { free: native.project_free, handle }, this._token);
  }

  static fromHandle(handle) {
    let json;
    try {
      json = call(native.project_to_json, handle);
    } catch (err) {
      native.project_free(handle);
      throw err;
    }
    return new Project(handle, json);
  }

  _nativeHandle() {
    if (!this._handle) throw invalidArgument('the project is closed');
    return this._handle;
  }

  toJSON() {
    return this._doc;
  }

  toYAML() {
    return call(native.project_to_yaml, this._nativeHandle());
  }

  renderMap(format = 'mermaid') {
    return call(native.project_render_map, this._nativeHandle(), String(format));
  }

  // Frees the native project now; the parsed fields and `json` stay usable.
  close() {
    if (!this._handle) return;
    finalizer.unregister(this._token);
    native.project_free(this._handle);
    this._handle = null;
  }
}

// ---- operations --------------------------------------------------------------------------------

const EVENT_TYPES = new Set(['progress', 'log', 'state', 'warning', 'plan']);
const POLL_MIN_MS = 1;
const POLL_MAX_MS = 25;

// A long-running libdevx call. Emits 'event' for every event and also the event's type
// ('progress', 'log', 'state', 'warning', 'plan'), then 'end' ({ ok, error?, value? }).
// `result` settles with the converted result or the typed error.
class Operation extends EventEmitter {
  constructor(context, handle, kind, convert) {
    super();
    this.kind = kind;
    this._context = context;
    this._handle = handle;
    this._convert = convert;
    this._delay = POLL_MIN_MS;
    this._timer = null;
    this._done = false;
    this._token = {};
    finalizer.register(this, { free: native.op_free, handle }, this._token);
    context._operations.add(this);
    this.result = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    // A caller listening only to 'end' must not get an unhandled-rejection crash.
    this.result.catch(() => {});
    // First poll after the caller had a chance to attach listeners.
    this._timer = setImmediate(() => this._poll());
  }

  get done() {
    return this._done;
  }

  // Asks the work to stop; `result` then rejects with CancelledError (unless it already ended).
  cancel() {
    if (this._handle) native.op_cancel(this._handle);
  }

  _poll() {
    this._timer = null;
    if (!this._handle) return;
    let progressed = false;
    for (;;) {
      let next;
      try {
        next = native.op_next_event(this._handle, 0);
      } catch (err) {
        this._settle(null, translate(err));
        return;
      }
      if (typeof next === 'string') {
        progressed = true;
        this._dispatch(JSON.parse(next));
        if (!this._handle) return;
        continue;
      }
      if (next === native.DEVX_EVENT_END) {
        this._finish();
        return;
      }
      break;
    }
    this._delay = progressed ? POLL_MIN_MS : Math.min(this._delay * 2, POLL_MAX_MS);
    this._timer = setTimeout(() => this._poll(), this._delay);
  }

  _dispatch(event) {
    this.emit('event', event);
    if (EVENT_TYPES.has(event.type)) this.emit(event.type, event);
  }

  _finish() {
    let json;
    try {
      json = call(native.op_result, this._handle);
    } catch (err) {
      this._settle(null, err);
      return;
    }
    let value;
    try {
      value = this._convert(json, this._handle);
    } catch (err) {
      this._settle(null, err);
      return;
    }
    this._settle(value, null);
  }

  _release() {
    if (this._timer) {
      clearTimeout(this._timer);
      clearImmediate(this._timer);
      this._timer = null;
    }
    if (this._handle) {
      finalizer.unregister(this._token);
      native.op_free(this._handle);
      this._handle = null;
    }
    this._context._operations.delete(this);
  }

  _settle(value, error) {
    if (this._done) return;
    this._done = true;
    this._release();
    if (error) {
      this._reject(error);
      this.emit('end', { ok: false, error });
    } else {
      this._resolve(value);
      this._resolve = null;
      this.emit('end', { ok: true, value });
    }
  }

  // The context is closing under this operation: it is cancelled and joined by the library.
  _abandon() {
    if (this._done) return;
    if (this._handle) native.op_cancel(this._handle);
    this._settle(null, new (errorClass('cancelled'))('the context was closed'));
  }
}

// ---- project configuration ---------------------------------------------------------------------

function contextOf(options) {
  return (options && options.context) || defaultContext();
}

// Loads and validates a devx.yaml (a file, or a directory searched upwards), synchronously.
function loadProjectSync(projectPath, options = {}) {
  const context = contextOf(options);
  const file = pathArg(projectPath, 'path');
  const optionsJson = loadOptionsJson(options);
  const handle = call(native.project_load, context.handle, file, optionsJson);
  return Project.fromHandle(handle);
}

// Starts loading on a library thread; returns the Operation (an EventEmitter with `result`).
function startLoadProject(projectPath, options = {}) {
  const context = contextOf(options);
  const file = pathArg(projectPath, 'path');
  const optionsJson = loadOptionsJson(options);
  const handle = call(native.project_load_start, context.handle, file, optionsJson);
  return new Operation(context, handle, 'project.load',
    (json, opHandle) => new Project(call(native.op_project, opHandle), json));
}

// Promise<Project>; rejects with ConfigError, ConfigNotFoundError, …
function loadProject(projectPath, options = {}) {
  try {
    return startLoadProject(projectPath, options).result;
  } catch (err) {
    return Promise.reject(err);
  }
}

// Every diagnostic ({severity, file, line, column, message, hint}), without throwing for
// configuration problems. Throws ConfigNotFoundError when there is no devx.yaml.
function validate(projectPath, options = {}) {
  const context = contextOf(options);
  const report = JSON.parse(call(native.project_validate, context.handle,
    pathArg(projectPath, 'path'), loadOptionsJson(options)));
  return (report.diagnostics || []).map(normalizeDiagnostic);
}

// The JSON Schema of devx.yaml, as a string.
function configSchema() {
  return call(native.config_schema);
}

// The path of the devx.yaml found by walking up from `dir`.
function findProject(dir = '.') {
  return call(native.project_find, pathArg(dir, 'dir'));
}

// ---- sessions (`devx up`) ------------------------------------------------------------------------

const SESSION_POLL_MIN_MS = 1;
const SESSION_POLL_MAX_MS = 50;

function sessionOptionsJson({ only, keepGoing, containerEngine } = {}) {
  const options = { v: 1 };
  if (only !== undefined && only !== null) {
    if (!Array.isArray(only)) throw invalidArgument('only must be an array of node names');
    options.only = only.map(String);
  }
  if (keepGoing !== undefined) options.keep_going = Boolean(keepGoing);
  if (containerEngine !== undefined && containerEngine !== null) {
    options.container_engine = String(containerEngine);
  }
  return JSON.stringify(options);
}

function stopOptionsJson({ volumes, only } = {}) {
  const options = { v: 1 };
  if (volumes !== undefined) options.volumes = Boolean(volumes);
  if (only !== undefined && only !== null) {
    if (!Array.isArray(only)) throw invalidArgument('only must be an array of node names');
    options.only = only.map(String);
  }
  return JSON.stringify(options);
}

async function projectArg(project, options) {
  if (project instanceof Project) return project;
  return loadProject(project, options);
}

// A project brought up by this process (devx.up). An EventEmitter of every event of the session
// since it was created (listeners attached right after `await devx.up()` get the start's too) —
// 'state' (data: the node's status), 'log' (one per output line, source = node), 'warning'
// (restarts, port shifts, dropped log lines), 'plan', and 'event' for every one — read by polling
// devx_session_next_event on a timer: library threads never call into JS. The poll timer does not
// keep Node alive on its own. close() stops everything; so does closing the context.
class Session extends EventEmitter {
  constructor(context, handle) {
    super();
    this._context = context;
    this._handle = handle;
    this._token = {};
    this._timer = null;
    this._delay = SESSION_POLL_MIN_MS;
    this._polling = false;
    finalizer.register(this, { free: native.session_free, handle }, this._token);
    context._sessions.add(this);
  }

  // The library queues the session's events from its creation on; polling starts only once the
  // caller holds the session (after `await devx.up()`), so listeners attached right then still
  // see every event of the start.
  _startPolling() {
    if (this._polling) return;
    this._polling = true;
    this._schedule(0);
  }

  get closed() {
    return this._handle === null;
  }

  _nativeHandle() {
    if (this._handle === null) throw invalidArgument('the session is closed');
    return this._handle;
  }

  _schedule(delay) {
    if (this._handle === null) return;
    this._timer = setTimeout(() => this._poll(), delay);
    this._timer.unref();
  }

  _poll() {
    this._timer = null;
    if (this._handle === null) return;
    let progressed = false;
    for (let i = 0; i < 1000 && this._handle !== null; i++) {
      let next;
      try {
        next = call(native.session_next_event, this._handle, 0);
      } catch (err) {
        break;
      }
      if (typeof next !== 'string') break;
      progressed = true;
      const event = JSON.parse(next);
      this.emit('event', event);
      if (EVENT_TYPES.has(event.type)) this.emit(event.type, event);
    }
    this._delay = progressed ? SESSION_POLL_MIN_MS : Math.min(this._delay * 2, SESSION_POLL_MAX_MS);
    this._schedule(this._delay);
  }

  _operation(kind, handle, convert) {
    // Events seen on the operation are also in the session's stream; the session emits them.
    return new Operation(this._context, handle, kind, convert).result;
  }

  // Brings the project up; resolves with the services' status once every node is ready.
  up() {
    try {
      return this._operation('up', call(native.session_up_start, this._nativeHandle()),
        (json) => JSON.parse(json).services);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // Stops in reverse dependency order; { volumes, only }. Resolves with the services' status.
  down(options = {}) {
    try {
      return this._operation('down', call(native.session_down_start, this._nativeHandle(),
        stopOptionsJson(options)), (json) => JSON.parse(json).services);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // Stops one node and starts it again; resolves with its status once it is ready again.
  restart(name) {
    try {
      return this._operation('restart', call(native.session_restart_start, this._nativeHandle(),
        String(name)), (json) => JSON.parse(json).services.find((s) => s.name === name));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // The status document {v, project, services: [...]} (docs/schemas/status.schema.json).
  statusDocument() {
    return JSON.parse(call(native.session_status, this._nativeHandle()));
  }

  // One object per node: { name, kind, runtime, state, pid, container, port, restarts,
  // started_at_ms, exit_code, message }.
  status() {
    return this.statusDocument().services;
  }

  _free() {
    if (this._handle === null) return;
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    finalizer.unregister(this._token);
    const handle = this._handle;
    this._handle = null;
    this._context._sessions.delete(this);
    native.session_free(handle); // stops what still runs, synchronously
  }

  // Stops everything (down, awaited without blocking the event loop), then frees the session.
  // Idempotent; resolves once no process of the session is left.
  async close() {
    if (this._handle === null) return;
    try {
      await this.down();
    } catch (_) {
      // session_free below stops whatever down could not.
    }
    if (this._handle !== null) this._poll();
    this._free();
  }
}
if (typeof Symbol.asyncDispose === 'symbol') {
  Session.prototype[Symbol.asyncDispose] = Session.prototype.close;
}

// Promise<Session>: brings `project` (a Project, or a path to load) up and resolves once every
// node is ready. options: { only, keepGoing, containerEngine, context, profile }. On failure the
// session is closed and the promise rejects (CommandFailedError with details {node, exit_code,
// last_lines, log_file}, …).
async function up(project, options = {}) {
  const context = contextOf(options);
  const optionsJson = sessionOptionsJson(options);
  const proj = await projectArg(project, options);
  const session = new Session(context,
    call(native.session_new, context.handle, proj._nativeHandle(), optionsJson));
  try {
    await session.up();
  } catch (err) {
    await session.close();
    throw err;
  }
  // The first poll runs after the caller's continuation, which may attach listeners.
  session._startPolling();
  return session;
}

// The plan `up` would follow, without starting anything: {v, project, nodes, warnings}
// (docs/schemas/up-plan.schema.json). `project` must be a loaded Project.
function plan(project, options = {}) {
  const context = contextOf(options);
  if (!(project instanceof Project)) throw invalidArgument('plan() needs a loaded Project');
  return JSON.parse(call(native.up_plan, context.handle, project._nativeHandle(),
    sessionOptionsJson(options)));
}

// ---- Kubernetes bridge -------------------------------------------------------------------------

// Options use camelCase keys; this renames them to the keys of the C ABI's documents
// (docs/schemas/bridge-*-options.schema.json) and passes every value, and every key it does not
// know, through unchanged, so the library's strict decoding names any mistake
// (InvalidArgumentError: "targets[0].port" must be an integer).
const BRIDGE_KEYS = {
  localPort: 'local_port',
  agentImage: 'agent_image',
  readyTimeoutS: 'ready_timeout_s',
  graceS: 'grace_s',
  keepaliveIntervalMs: 'keepalive_interval_ms',
  keepaliveTimeoutMs: 'keepalive_timeout_ms',
};

function bridgeDocument(value) {
  if (Array.isArray(value)) return value.map(bridgeDocument);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined) out[BRIDGE_KEYS[key] || key] = bridgeDocument(entry);
  }
  return out;
}

// `context` (the devx Context) is not part of the document.
function bridgeOptionsJson({ context, ...options } = {}) {
  return JSON.stringify({ v: 1, ...bridgeDocument(options) });
}

// A bridge session (connect, intercept): an Operation that runs until cancelled, then leaves
// nothing behind.
class BridgeSession extends Operation {
  // Cancels the session and resolves once it has cleaned up, however its result settled.
  async close() {
    this.cancel();
    await this.result.catch(() => {});
  }
}
if (typeof Symbol.asyncDispose === 'symbol') {
  BridgeSession.prototype[Symbol.asyncDispose] = BridgeSession.prototype.close;
}

function startBridge(kind, start, options, Cls) {
  const context = contextOf(options);
  const handle = call(start, context.handle, bridgeOptionsJson(options));
  return new Cls(context, handle, kind, (json) => JSON.parse(json));
}

const bridge = Object.freeze({
  // Port-forwards every target until cancelled; state events carry data {service, namespace,
  // remote_port, local_port, state, attempt}, state "forwarding" once the local port is served.
  connect(options = {}) {
    return startBridge('bridge.connect', native.bridge_connect_start, options, BridgeSession);
  },
  // Routes a Service's traffic to local ports until cancelled, then restores the Service.
  intercept(options = {}) {
    return startBridge('bridge.intercept', native.bridge_intercept_start, options, BridgeSession);
  },
  // Finds (with `repair`, removes) what crashed sessions left; result {v, findings}.
  doctor(options = {}) {
    return startBridge('bridge.doctor', native.bridge_doctor_start, options, Operation);
  },
  // {v, active, sessions}: every recorded session, dead owners as "stale".
  status(options = {}) {
    return JSON.parse(call(native.bridge_status, contextOf(options).handle));
  },
  // Stops one session (no sessionId: all), waiting up to waitMs (default 30 s) for each
  // owner's cleanup; {v, sessions}.
  disconnect({ sessionId = '', waitMs = -1, ...options } = {}) {
    return JSON.parse(call(native.bridge_disconnect, contextOf(options).handle, sessionId,
      waitMs));
  },
  // BRIDGE_<SERVICE>[_<NAMESPACE>]_{URL,HOST,PORT} of every live forward.
  environment(options = {}) {
    return JSON.parse(call(native.bridge_environment, contextOf(options).handle)).env;
  },
  rbacYaml(namespace = '') {
    return call(native.bridge_rbac_yaml, namespace);
  },
  envPrefix(service, namespace = '', withNamespace = false) {
    return call(native.bridge_env_prefix, service, namespace, withNamespace ? 1 : 0);
  },
});

// ---- Butane / Ignition, the dev VM, doctor, nuke -----------------------------------------------

// Options use camelCase keys; as for the bridge, they are renamed to the keys of the C ABI's
// documents (docs/schemas/{vm,butane,doctor,nuke}-*.schema.json) and every value, and every key
// not known here, passes through unchanged, so the library's strict decoding names any mistake.
const MACHINE_KEYS = {
  projectDir: 'project_dir',
  assumeYes: 'assume_yes',
  memoryMb: 'memory_mb',
  diskGb: 'disk_gb',
  sshAuthorizedKeys: 'ssh_authorized_keys',
  credentialsFile: 'credentials_file',
  tailscaleAuthKey: 'tailscale_auth_key',
  keepAttachments: 'keep_attachments',
  intervalS: 'interval_s',
  idlePolls: 'idle_polls',
  envFile: 'env_file',
  asRoot: 'as_root',
  probeTimeoutMs: 'probe_timeout_ms',
  globalCaches: 'global_caches',
  sourceName: 'source_name',
  filesDir: 'files_dir',
  tunnelId: 'tunnel_id',
  tunnelCredentialsJson: 'tunnel_credentials_json',
  tunnelHostname: 'tunnel_hostname',
  tunnelService: 'tunnel_service',
};

function machineDocument(value) {
  if (Array.isArray(value)) return value.map(machineDocument);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined) out[MACHINE_KEYS[key] || key] = machineDocument(entry);
  }
  return out;
}

// `context` (the devx Context) is not part of the document.
function machineOptionsJson({ context, ...options } = {}) {
  return JSON.stringify({ v: 1, ...machineDocument(options) });
}

// (context, options) or (options with a `context` key): both calling styles name the context.
function contextAndOptions(first, second) {
  if (first instanceof Context) return { context: first, options: second || {} };
  const options = first || {};
  return { context: contextOf(options), options };
}

function argvJson(command, what) {
  if (!Array.isArray(command)) throw invalidArgument(`${what} must be an array of strings`);
  return JSON.stringify(command);
}

// A call that takes one options document and returns one (parsed) document.
function machineCall(fn, first, second) {
  const { context, options } = contextAndOptions(first, second);
  return JSON.parse(call(fn, context.handle, machineOptionsJson(options)));
}

function machineOperation(kind, fn, first, second, Cls = Operation) {
  const { context, options } = contextAndOptions(first, second);
  const handle = call(fn, context.handle, machineOptionsJson(options));
  return new Cls(context, handle, kind, (json) => JSON.parse(json));
}

// Butane -> Ignition (fcos variant; a drop-in for `butane --pretty --strict`) and the dev
// machine's built-in configuration. Errors: ConfigError (diagnostics with line and column),
// UnsupportedError, IoError.
const butane = Object.freeze({
  // { v, ignition: <the Ignition JSON text>, ignition_version, warnings: [diagnostics] };
  // options { sourceName, filesDir, strict, pretty }.
  compile(document, options = {}) {
    if (typeof document !== 'string') throw invalidArgument('document must be a string');
    return JSON.parse(call(native.butane_compile, document, machineOptionsJson(options)));
  },
  // [{ variant, butane_version, ignition_version }]
  versions() {
    return JSON.parse(call(native.butane_versions)).versions;
  },
  devMachineTemplate() {
    return call(native.dev_machine_template);
  },
  // { v, butane, ignition, ignition_version }, which holds the secrets given; values
  // { hostname, sshAuthorizedKeys, runtime, tunnelId, tunnelCredentialsJson, tunnelHostname,
  // tunnelService, tailscaleAuthKey }.
  devMachineConfig(values = {}) {
    return JSON.parse(call(native.dev_machine_config, machineOptionsJson(values)));
  },
});

// A sleep watch: runs until cancelled.
class VmSleepWatch extends Operation {
  // Cancels the watch and resolves once it ended.
  async close() {
    this.cancel();
    await this.result.catch(() => {});
  }
}
if (typeof Symbol.asyncDispose === 'symbol') {
  VmSleepWatch.prototype[Symbol.asyncDispose] = VmSleepWatch.prototype.close;
}

// The dev VM. Every call takes (context, options) or (options with `context`); the options
// select the VM — { provider, name, projectDir, assumeYes, platform }, absent = resolved — plus
// the call's own keys. Calls that change something return the result document (the plan with a
// dry-run context); a destructive step without assumeYes throws PromptRequiredError whose details
// hold { confirm, plan }.
const vm = Object.freeze({
  // { v, provider, provider_source, name, name_source, runtime }
  resolve(first, second) {
    return machineCall(native.vm_resolve, first, second);
  },
  // { v, platform, providers: [{ name, binary, path, version, available, note }] }
  detect(first, second) {
    const { context, options } = contextAndOptions(first, second);
    return JSON.parse(call(native.vm_detect, context.handle, String(options.platform || '')));
  },
  saveDefaultProvider(provider, first, second) {
    const { context } = contextAndOptions(first, second);
    call(native.vm_save_default_provider, context.handle, String(provider));
  },
  // Operation; options + { recreate, cpus, memoryMb, diskGb, sshAuthorizedKeys,
  // tunnel: { id, credentialsFile, hostname }, tailscaleAuthKey }.
  init(first, second) {
    return machineOperation('vm.init', native.vm_init_start, first, second);
  },
  start(first, second) {
    return machineCall(native.vm_start, first, second);
  },
  stop(first, second) {
    return machineCall(native.vm_stop, first, second);
  },
  sleep(first, second) {
    return machineCall(native.vm_sleep, first, second);
  },
  // { v, vm: { name, provider, state, exists, … }, record, tunnel, mesh }; read-only.
  status(first, second) {
    return machineCall(native.vm_status, first, second);
  },
  // options + { cpus, memoryMb, diskGb } (0 = unchanged).
  resize(first, second) {
    return machineCall(native.vm_resize, first, second);
  },
  // options + { keepAttachments }; needs assumeYes.
  teardown(first, second) {
    return machineCall(native.vm_teardown, first, second);
  },
  // Runs argv in the VM: { v, exit_code, signal, timed_out, cancelled, out, err }; options +
  // { stdin } (a string).
  exec(argv, first, second) {
    const { context, options } = contextAndOptions(first, second);
    const { stdin, ...rest } = options;
    const hasStdin = stdin !== undefined && stdin !== null;
    return JSON.parse(call(native.vm_exec, context.handle, machineOptionsJson(rest),
      argvJson(argv, 'argv'), hasStdin ? 1 : 0, hasStdin ? String(stdin) : ''));
  },
  // The argv that opens a shell in the VM (or runs `command` there), for a terminal.
  sshArgv(command = [], first, second) {
    const { context, options } = contextAndOptions(first, second);
    return JSON.parse(call(native.vm_ssh_argv, context.handle, machineOptionsJson(options),
      argvJson(command, 'command'))).argv;
  },
  // Writes an Ignition config (a JSON string or object) into the running VM.
  applyIgnition(ignition, first, second) {
    const { context, options } = contextAndOptions(first, second);
    const text = typeof ignition === 'string' ? ignition : JSON.stringify(ignition);
    return JSON.parse(call(native.vm_apply_ignition, context.handle,
      machineOptionsJson(options), text));
  },
  // VmSleepWatch (runs until cancelled); options + { intervalS, idlePolls }.
  sleepWatch(first, second) {
    return machineOperation('vm.sleep-watch', native.vm_sleep_watch_start, first, second,
      VmSleepWatch);
  },
});

// Tools per feature area, install plans, credentials. Options { platform, envFile, areas, asRoot,
// probeTimeoutMs } (+ { all, assumeYes } to install).
const doctor = Object.freeze({
  // { v, ok, system, areas: [...], missing_required }; ok is false when a required tool is missing.
  report(first, second) {
    return machineCall(native.doctor_report, first, second);
  },
  // { v, package_manager, steps: [{ tools, argv, required }], unavailable }
  installPlan(first, second) {
    return machineCall(native.doctor_install_plan, first, second);
  },
  // Operation running the plan; needs assumeYes.
  install(first, second) {
    return machineOperation('doctor.install', native.doctor_install_start, first, second);
  },
});

// What devx created for one project. Options { projectDir, artifacts, globalCaches, assumeYes }.
const nuke = Object.freeze({
  // { v, project, project_dir, items, total_bytes, protected }; read-only.
  plan(first, second) {
    return machineCall(native.nuke_plan, first, second);
  },
  // Removes the plan's items (needs assumeYes): { v, removed, failed, freed_bytes }.
  run(first, second) {
    return machineCall(native.nuke, first, second);
  },
});

// ---- tunnels, edge proxies, mesh, sites, webhooks, mail ----------------------------------------

// Options use camelCase keys; as for the VM, they are renamed to the keys of the C ABI's
// documents (docs/schemas/{tunnel,edge,mesh,sites,webhook,mail}-*.schema.json) and every value,
// and every key not known here, passes through unchanged, so the library's strict decoding names
// any mistake.
const NET_KEYS = {
  ...MACHINE_KEYS,
  apiUrl: 'api_url',
  apiToken: 'api_token',
  accountId: 'account_id',
  envSources: 'env_sources',
  basicAuth: 'basic_auth',
  targetPort: 'target_port',
  listenPort: 'listen_port',
  inspectOptions: 'inspect_options',
  bodyLimit: 'body_limit',
  timeoutMs: 'timeout_ms',
  authKey: 'auth_key',
  acceptRoutes: 'accept_routes',
  timeoutS: 'timeout_s',
  pollIntervalMs: 'poll_interval_ms',
  txtName: 'txt_name',
  txtValue: 'txt_value',
  replyStatus: 'reply_status',
  replyBody: 'reply_body',
  exposeTimeoutMs: 'expose_timeout_ms',
  smtpPort: 'smtp_port',
  httpPort: 'http_port',
  maxMessageSize: 'max_message_size',
};

function netDocument(value) {
  if (Array.isArray(value)) return value.map(netDocument);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined) out[NET_KEYS[key] || key] = netDocument(entry);
  }
  return out;
}

// `context` (the devx Context) is not part of the document.
function netOptionsJson({ context, ...options } = {}) {
  return JSON.stringify({ v: 1, ...netDocument(options) });
}

function netCall(fn, options = {}) {
  return JSON.parse(call(fn, contextOf(options).handle, netOptionsJson(options)));
}

// Work that serves until it is cancelled (a catcher, a tunnel route with its proxies).
class ServiceOperation extends Operation {
  // Cancels it and resolves once it cleaned up, however its result settled.
  async close() {
    this.cancel();
    await this.result.catch(() => {});
  }
}
if (typeof Symbol.asyncDispose === 'symbol') {
  ServiceOperation.prototype[Symbol.asyncDispose] = ServiceOperation.prototype.close;
}

function netOperation(kind, fn, options = {}, Cls = ServiceOperation) {
  const context = contextOf(options);
  const handle = call(fn, context.handle, netOptionsJson(options));
  return new Cls(context, handle, kind, (json) => JSON.parse(json));
}

// Public URLs for local ports through this machine's Cloudflare Tunnel. Options hold
// `cloudflare: { apiUrl, apiToken, accountId, cloudflared, envSources }` (absent: from the
// environment).
const tunnel = Object.freeze({
  // ServiceOperation; options { port, name, zone, domain, basicAuth, throttle, cloudflare }.
  // Without proxies its result is the exposure once the route is live; with basicAuth/throttle
  // it serves them until cancelled, then removes the exposure.
  expose(options = {}) {
    return netOperation('tunnel.expose', native.tunnel_expose_start, options);
  },
  // { v, operation, dry_run, actions, removed }; options { target, all, cloudflare }.
  unexpose(options = {}) {
    return netCall(native.tunnel_unexpose, options);
  },
  // { v, exposures, tunnels } from the records.
  status(options = {}) {
    return JSON.parse(call(native.tunnel_status, contextOf(options).handle));
  },
  // Routes a loaded Project's tunnels: until cancelled; options { zone, cloudflare }.
  up(project, options = {}) {
    if (!(project instanceof Project)) throw invalidArgument('tunnel.up() needs a loaded Project');
    const context = contextOf(options);
    const handle = call(native.tunnel_up_start, context.handle, project._nativeHandle(),
      netOptionsJson(options));
    return new ServiceOperation(context, handle, 'tunnel.up', (json) => JSON.parse(json));
  },
  dnsLabel(name) {
    return call(native.tunnel_dns_label, String(name));
  },
  machineId(options = {}) {
    return call(native.tunnel_machine_id, contextOf(options).handle);
  },
});

// A running proxy chain; close() stops and frees it (closing its context does too).
class EdgeProxy {
  constructor(context, handle) {
    this._context = context;
    this._handle = handle;
    this._token = {};
    finalizer.register(this, { free: native.edge_proxy_free, handle }, this._token);
    context._proxies.add(this);
  }

  get _live() {
    if (this._handle === null) throw invalidArgument('the proxy is closed');
    return this._handle;
  }

  // The port clients connect to (0 in a dry run).
  get port() {
    return native.edge_proxy_port(this._live);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  // { v, listen, target, layers, session?, capture_dir?, stats }
  status() {
    return JSON.parse(call(native.edge_proxy_status, this._live));
  }

  // The Operation running the chain: 'state' (listening), one event per recorded exchange.
  operation() {
    const handle = call(native.edge_proxy_operation, this._live);
    return new Operation(this._context, handle, 'edge.proxy', (json) => JSON.parse(json));
  }

  close() {
    if (this._handle === null) return;
    finalizer.unregister(this._token);
    native.edge_proxy_free(this._handle);
    this._handle = null;
    this._context._proxies.delete(this);
  }
}
if (typeof Symbol.dispose === 'symbol') {
  EdgeProxy.prototype[Symbol.dispose] = EdgeProxy.prototype.close;
}

// Basic auth, throttle and the capturing inspector on 127.0.0.1, and the captures. Proxy options
// { targetPort, bind, listenPort, basicAuth: 'user:pass', throttle, inspect,
// inspectOptions: { session, bodyLimit } }.
const edge = Object.freeze({
  proxy(options = {}) {
    const context = contextOf(options);
    return new EdgeProxy(context, call(native.edge_proxy_start, context.handle,
      netOptionsJson(options)));
  },
  plan(options = {}) {
    return netCall(native.edge_proxy_plan, options);
  },
  // { v, name, latency_us, jitter_us, bytes_per_second }
  throttleProfile(name) {
    return JSON.parse(call(native.throttle_profile, String(name)));
  },
  throttleProfiles() {
    return JSON.parse(call(native.throttle_profile_names)).names;
  },
  sessions(options = {}) {
    return JSON.parse(call(native.inspect_sessions, contextOf(options).handle));
  },
  // { v, session, exchanges } of options.session (absent: the newest).
  captures(options = {}) {
    return JSON.parse(call(native.inspect_captures, contextOf(options).handle,
      String(options.session || '')));
  },
  capture(id, options = {}) {
    return JSON.parse(call(native.inspect_capture, contextOf(options).handle,
      String(options.session || ''), String(id)));
  },
  // options { session, targetPort, timeoutMs }
  replay(id, { session, ...options } = {}) {
    return JSON.parse(call(native.inspect_replay, contextOf(options).handle,
      String(session || ''), String(id), netOptionsJson(options)));
  },
  remove(session, options = {}) {
    return JSON.parse(call(native.inspect_remove, contextOf(options).handle, String(session)));
  },
});

// The dev VM's Tailscale node; options select the VM as for `vm` ({ provider, name, projectDir,
// platform }).
const mesh = Object.freeze({
  // Operation; options + { authKey, hostname, acceptRoutes, timeoutS, pollIntervalMs }.
  join(options = {}) {
    return netOperation('mesh.join', native.mesh_join_start, options, Operation);
  },
  status(options = {}) {
    return netCall(native.mesh_status, options);
  },
  leave(options = {}) {
    return netCall(native.mesh_leave, options);
  },
  tailscaleArgv(args = [], options = {}) {
    return JSON.parse(call(native.mesh_tailscale_argv, contextOf(options).handle,
      netOptionsJson(options), argvJson(args, 'args'))).argv;
  },
  // { v, exit_code, signal, timed_out, cancelled, out, err }; options + { stdin }.
  exec(args, { stdin, ...options } = {}) {
    const hasStdin = stdin !== undefined && stdin !== null;
    return JSON.parse(call(native.mesh_exec, contextOf(options).handle, netOptionsJson(options),
      argvJson(args, 'args'), hasStdin ? 1 : 0, hasStdin ? String(stdin) : ''));
  },
});

// GitHub Pages on <name>.<domain> with its Cloudflare DNS record. Options { projectDir, repo,
// cloudflare, assumeYes } (+ init: { domain, zone, name }; verify: { domain, zone, txtName,
// txtValue }). init and verify need assumeYes (else PromptRequiredError with { confirm, plan }).
const sites = Object.freeze({
  init(options = {}) {
    return netCall(native.sites_init, options);
  },
  verify(options = {}) {
    return netCall(native.sites_verify, options);
  },
  status(options = {}) {
    return netCall(native.sites_status, options);
  },
});

// The webhook catcher. catch options { port, bind, session, replyStatus, replyBody, bodyLimit,
// expose, cloudflared, exposeTimeoutMs }.
const webhook = Object.freeze({
  catch(options = {}) {
    return netOperation('webhook.catch', native.webhook_catch_start, options);
  },
  // { v, sessions } or, with options.session, { v, session, requests }.
  list(options = {}) {
    return JSON.parse(call(native.webhook_list, contextOf(options).handle,
      String(options.session || '')));
  },
  replay(id, toUrl, options = {}) {
    return JSON.parse(call(native.webhook_replay, contextOf(options).handle, String(id),
      String(toUrl)));
  },
});

// The mail catcher. catcher options { instance, bind, smtpPort, httpPort, maxMessageSize,
// hostname }; the others take { instance } (default "default").
const mail = Object.freeze({
  catcher(options = {}) {
    return netOperation('mail.start', native.mail_catcher_start, options);
  },
  instances(options = {}) {
    return JSON.parse(call(native.mail_instances, contextOf(options).handle));
  },
  messages(options = {}) {
    return JSON.parse(call(native.mail_messages, contextOf(options).handle,
      String(options.instance || 'default')));
  },
  message(id, options = {}) {
    return JSON.parse(call(native.mail_message, contextOf(options).handle,
      String(options.instance || 'default'), String(id)));
  },
  raw(id, options = {}) {
    return call(native.mail_message_raw, contextOf(options).handle,
      String(options.instance || 'default'), String(id));
  },
  // Deletes message `id` (absent: all): { v, instance, deleted }.
  delete(id = '', options = {}) {
    return JSON.parse(call(native.mail_delete, contextOf(options).handle,
      String(options.instance || 'default'), String(id || '')));
  },
  environment(options = {}) {
    return JSON.parse(call(native.mail_environment, contextOf(options).handle,
      String(options.instance || 'default'))).env;
  },
});

function version() {
  return native.version();
}

function abiVersion() {
  return native.abi_version();
}

module.exports = {
  version,
  abiVersion,
  Context,
  defaultContext,
  Project,
  Operation,
  loadProject,
  loadProjectSync,
  startLoadProject,
  validate,
  configSchema,
  findProject,
  Session,
  up,
  plan,
  bridge,
  BridgeSession,
  butane,
  vm,
  VmSleepWatch,
  doctor,
  nuke,
  tunnel,
  EdgeProxy,
  edge,
  mesh,
  sites,
  webhook,
  mail,
  ServiceOperation,
  errorClass,
  errorCodes: Object.freeze(Object.fromEntries(
    Object.entries(errorClasses).map(([code, cls]) => [code, cls]))),
  ...errors,
};
