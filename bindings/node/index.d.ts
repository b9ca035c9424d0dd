// Types of the devx Node package (lib/index.js).
import { EventEmitter } from 'events';

export function version(): string;
export function abiVersion(): number;

// ---- errors ----

export type ErrorCode =
  | 'internal' | 'invalid_argument' | 'config_not_found' | 'config_invalid' | 'io' | 'not_found'
  | 'already_exists' | 'timeout' | 'cancelled' | 'command_failed' | 'command_not_found' | 'http'
  | 'port_in_use' | 'locked' | 'unsupported' | 'prompt_required'
  | 'conflict' | 'unreachable' | 'permission_denied';

export interface DevxErrorOptions {
  code?: ErrorCode | string;
  status?: number;
  hint?: string;
  details?: Record<string, unknown>;
  cause?: DevxError;
}

export class DevxError extends Error {
  constructor(message: string, options?: DevxErrorOptions);
  /** Stable snake_case code name, e.g. "config_invalid". */
  code: ErrorCode | string;
  /** The code's number (devx_status_t; the CLI's exit code). */
  status: number;
  /** What to do next; "" when there is none. */
  hint: string;
  details: Record<string, unknown>;
  cause?: DevxError;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  column: number;
  message: string;
  hint: string;
}

export class ConfigError extends DevxError {
  diagnostics: Diagnostic[];
  /** Location of the first error diagnostic (null when there is none). */
  file: string | null;
  line: number | null;
  column: number | null;
}

export class InternalError extends DevxError {}
export class InvalidArgumentError extends DevxError {}
export class ConfigNotFoundError extends DevxError {}
export class ConfigInvalidError extends ConfigError {}
export class IoError extends DevxError {}
export class NotFoundError extends DevxError {}
export class AlreadyExistsError extends DevxError {}
export class TimeoutError extends DevxError {}
export class CancelledError extends DevxError {}
export class CommandFailedError extends DevxError {}
export class CommandNotFoundError extends DevxError {}
export class HttpError extends DevxError {}
export class PortInUseError extends DevxError {}
export class LockedError extends DevxError {}
export class UnsupportedError extends DevxError {}
export class PromptRequiredError extends DevxError {}
export class ConflictError extends DevxError {}
export class UnreachableError extends DevxError {}
export class PermissionDeniedError extends DevxError {}

export function errorClass(code: string): typeof DevxError;
export const errorCodes: Readonly<Record<string, typeof DevxError>>;

// ---- contexts ----

export interface ContextOptions {
  /** State directory; default $DEVX_HOME, else ~/.devx. */
  devxHome?: string;
  /** Environment seen by the library; default the process environment. */
  env?: Record<string, string>;
  dryRun?: boolean;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';
}

export class Context {
  constructor(options?: ContextOptions);
  readonly closed: boolean;
  /** Cancels and waits for this context's operations, then frees it. Idempotent. */
  close(): void;
}

export function defaultContext(): Context;

// ---- the resolved project (docs/schemas/project.schema.json) ----

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface Dependency {
  name: string;
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  [key: string]: unknown;
}

export interface HealthCheck {
  http?: string;
  tcp?: string;
  exec?: string[];
  log?: string;
  [key: string]: unknown;
}

export interface Service {
  name: string;
  runtime: 'host' | 'container' | 'kubernetes' | 'cloud' | 'bridge';
  command?: string[];
  image?: string;
  port?: number | null;
  working_dir?: string;
  env?: Record<string, string>;
  depends_on?: Dependency[];
  healthcheck?: HealthCheck | null;
  [key: string]: unknown;
}

export interface Database {
  name: string;
  engine: 'postgres' | 'redis' | 'mysql' | 'mongo';
  port: number;
  [key: string]: unknown;
}

export interface Tunnel {
  name: string;
  port: number;
  [key: string]: unknown;
}

export interface Mock {
  name: string;
  url: string;
  port: number;
  [key: string]: unknown;
}

export type MapFormat = 'mermaid' | 'dot' | 'json';

export class Project {
  /** The resolved document exactly as devx_project_to_json produced it. */
  readonly json: string;
  v: number;
  name: string;
  domain: string;
  provider: string;
  env?: string[];
  services: Service[];
  databases: Database[];
  tunnels: Tunnel[];
  mocks?: Mock[];
  profiles?: string[];
  active_profile?: string;
  root_file: string;
  files?: string[];
  [key: string]: unknown;
  /** The parsed document (so JSON.stringify(project) gives it back). */
  toJSON(): Record<string, unknown>;
  toYAML(): string;
  renderMap(format?: MapFormat): string;
  /** Frees the native project now; the fields and `json` stay usable. */
  close(): void;
}

// ---- operations ----

export interface DevxEvent {
  v: number;
  type: 'progress' | 'log' | 'state' | 'warning' | 'plan';
  time_ms: number;
  source: string;
  level?: string;
  message: string;
  data?: Record<string, unknown>;
}

export type OperationEnd<T> = { ok: true; value: T } | { ok: false; error: Error };

export class Operation<T> extends EventEmitter {
  readonly kind: string;
  readonly done: boolean;
  /** Settles with the result, or rejects with the typed DevxError. */
  readonly result: Promise<T>;
  /** Asks the work to stop; `result` then rejects with CancelledError unless it already ended. */
  cancel(): void;
  on(event: 'event' | 'progress' | 'log' | 'state' | 'warning' | 'plan',
     listener: (event: DevxEvent) => void): this;
  on(event: 'end', listener: (end: OperationEnd<T>) => void): this;
  once(event: 'event' | 'progress' | 'log' | 'state' | 'warning' | 'plan',
       listener: (event: DevxEvent) => void): this;
  once(event: 'end', listener: (end: OperationEnd<T>) => void): this;
}

// ---- functions ----

export interface LoadOptions {
  profile?: string;
  /** Overrides the user name in default values (the default domain). */
  user?: string;
  /** Default: defaultContext(). */
  context?: Context;
}

export function loadProject(path?: string, options?: LoadOptions): Promise<Project>;
export function loadProjectSync(path?: string, options?: LoadOptions): Project;
export function startLoadProject(path?: string, options?: LoadOptions): Operation<Project>;
export function validate(path?: string, options?: LoadOptions): Diagnostic[];
export function configSchema(): string;
export function findProject(dir?: string): string;

// ---- sessions (`devx up`) ----

export type ServiceState = 'pending' | 'starting' | 'running' | 'healthy' | 'unhealthy' |
  'completed' | 'failed' | 'stopping' | 'stopped';

/** One node of a session (docs/schemas/status.schema.json). */
export interface ServiceStatus {
  name: string;
  kind: 'service' | 'database';
  runtime: string;
  state: ServiceState;
  /** Host processes; 0 otherwise. */
  pid: number;
  container: string;
  /** After shifting a busy port. */
  port: number | null;
  restarts: number;
  started_at_ms: number;
  exit_code: number | null;
  message: string;
}

export interface StatusDocument {
  v: number;
  project: string;
  services: ServiceStatus[];
}

export interface UpOptions extends LoadOptions {
  /** Nodes to bring up, with what they depend on; default: all. */
  only?: string[];
  /** On a failure, keep what already runs. */
  keepGoing?: boolean;
  /** 'podman' | 'docker' | '' (detect). */
  containerEngine?: string;
}

export interface StopOptions {
  /** Remove database data/volumes too (kept by default). */
  volumes?: boolean;
  /** Stop just these nodes. */
  only?: string[];
}

/**
 * A project brought up by this process. Emits the session's events — 'state', 'log' (one per
 * output line, source = node), 'warning' (restarts, port shifts, dropped log lines), 'plan', and
 * 'event' for every one — polled on a timer (library threads never call into JS).
 */
export class Session extends EventEmitter {
  readonly closed: boolean;
  /** Resolves with the services' status once every node is ready. */
  up(): Promise<ServiceStatus[]>;
  down(options?: StopOptions): Promise<ServiceStatus[]>;
  /** Resolves with the node's status once it is ready again; NotFoundError for unknown nodes. */
  restart(name: string): Promise<ServiceStatus | undefined>;
  status(): ServiceStatus[];
  statusDocument(): StatusDocument;
  /** Stops everything, then frees the session. Idempotent. */
  close(): Promise<void>;
  on(event: 'event' | 'log' | 'state' | 'warning' | 'plan' | 'progress',
     listener: (event: DevxEvent) => void): this;
  once(event: 'event' | 'log' | 'state' | 'warning' | 'plan' | 'progress',
       listener: (event: DevxEvent) => void): this;
}

/** Brings `project` (a Project or a path) up; resolves once every node is ready. */
export function up(project: Project | string, options?: UpOptions): Promise<Session>;

export interface UpPlanNode {
  name: string;
  kind: 'service' | 'database';
  runtime: string;
  argv: string[];
  cwd: string;
  requested_port: number | null;
  port: number | null;
  /** `reason`: "api service_healthy (http http://127.0.0.1:8080/health)". */
  waits_for: Array<{ name: string; condition: string; reason?: string }>;
  env_names: string[];
  env_sources: string[];
  healthcheck: string | null;
  wave: number;
}

export interface UpPlan {
  v: number;
  project: string;
  nodes: UpPlanNode[];
  warnings: string[];
}

/** What up() would do, without starting anything (--dry-run). */
export function plan(project: Project, options?: UpOptions): UpPlan;

// ---- Kubernetes bridge (docs/schemas/bridge-*.schema.json) ----

/** How kubectl reaches the cluster; '' (or absent): kubectl's own resolution. */
export interface KubeSettings {
  kubeconfig?: string;
  /** The kubeconfig context; default the current one. */
  context?: string;
  /** The kubectl binary; default 'kubectl' on PATH. */
  kubectl?: string;
}

export interface BridgeTargetSpec {
  service: string;
  /** Default: the options' namespace, else 'default'. */
  namespace?: string;
  /** The Service port. */
  port: number;
  /** 0 or absent: chosen by kubectl. */
  localPort?: number;
}

export interface BridgeConnectOptions {
  kube?: KubeSettings;
  namespace?: string;
  targets: BridgeTargetSpec[];
  origin?: 'standalone' | 'up';
  /** Default: defaultContext(). */
  context?: Context;
}

export interface BridgePortMapping {
  /** The Service port. */
  remote: number;
  /** The local port; 0 refuses that port's connections. */
  local?: number;
}

export interface BridgeInterceptOptions {
  kube?: KubeSettings;
  service: string;
  namespace?: string;
  /** Absent or empty: every TCP Service port to the same local port. */
  ports?: BridgePortMapping[];
  agentImage?: string;
  readyTimeoutS?: number;
  graceS?: number;
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  origin?: 'standalone' | 'up';
  context?: Context;
}

export interface BridgeDoctorOptions {
  kube?: KubeSettings;
  /** Absent or '': all namespaces. */
  namespace?: string;
  repair?: boolean;
  context?: Context;
}

/** Data of a connect session's 'state' events. */
export interface BridgeForwardState {
  service: string;
  namespace: string;
  remote_port: number;
  local_port: number;
  state: string;
  attempt: number;
}

export interface BridgeStatus {
  v: number;
  active: boolean;
  sessions: Array<Record<string, unknown>>;
}

export interface BridgeDisconnectResult {
  v: number;
  sessions: Array<Record<string, unknown>>;
}

export interface BridgeDoctorResult {
  v: number;
  findings: Array<Record<string, unknown>>;
}

/** A bridge session: runs until cancelled, then leaves nothing behind. */
export class BridgeSession extends Operation<Record<string, unknown>> {
  /** Cancels the session and resolves once it has cleaned up. */
  close(): Promise<void>;
}

export const bridge: {
  connect(options: BridgeConnectOptions): BridgeSession;
  intercept(options: BridgeInterceptOptions): BridgeSession;
  doctor(options?: BridgeDoctorOptions): Operation<BridgeDoctorResult>;
  status(options?: { context?: Context }): BridgeStatus;
  /** No sessionId: every session. waitMs < 0 or absent: the library's default (30 s). */
  disconnect(options?: { sessionId?: string; waitMs?: number; context?: Context }):
    BridgeDisconnectResult;
  /** BRIDGE_<SERVICE>[_<NAMESPACE>]_{URL,HOST,PORT} of every live forward. */
  environment(options?: { context?: Context }): Record<string, string>;
  /** Role + RoleBinding in `namespace`, or ClusterRole + ClusterRoleBinding for ''. */
  rbacYaml(namespace?: string): string;
  /** 'payments-api' -> 'BRIDGE_PAYMENTS_API'; with 'team.a' -> 'BRIDGE_PAYMENTS_API_TEAM_A'. */
  envPrefix(service: string, namespace?: string, withNamespace?: boolean): string;
};

// ---- Butane / Ignition, the dev VM, doctor, nuke (docs/schemas/{butane,vm,doctor,nuke}-*) ----

/** { severity, file, line, column, message, hint } as in ConfigError.diagnostics. */
export type ButaneDiagnostic = Diagnostic;

export interface ButaneOptions {
  /** Name shown in diagnostics; default '<stdin>'. */
  sourceName?: string;
  /** Root of `local:` sources (like butane --files-dir); absent: a local source is an error. */
  filesDir?: string;
  /** Warnings are errors (butane --strict). */
  strict?: boolean;
  /** Indented output (default true). */
  pretty?: boolean;
}

export interface ButaneResult {
  v: number;
  /** The Ignition JSON document, as text. */
  ignition: string;
  ignition_version: string;
  warnings: ButaneDiagnostic[];
}

export interface ButaneVersion {
  variant: string;
  butane_version: string;
  ignition_version: string;
}

export interface DevMachineValues {
  hostname: string;
  sshAuthorizedKeys?: string[];
  runtime?: 'podman' | 'docker';
  tunnelId?: string;
  /** Secret: cloudflared's credentials file contents. */
  tunnelCredentialsJson?: string;
  tunnelHostname?: string;
  tunnelService?: string;
  /** Secret. */
  tailscaleAuthKey?: string;
}

export interface DevMachineConfig {
  v: number;
  /** The document after substitution; holds the secrets given. */
  butane: string;
  ignition: string;
  ignition_version: string;
}

export const butane: {
  /** ConfigError (diagnostics with line:column), UnsupportedError, IoError. */
  compile(document: string, options?: ButaneOptions): ButaneResult;
  versions(): ButaneVersion[];
  devMachineTemplate(): string;
  /** InvalidArgumentError names a value that fails validation. */
  devMachineConfig(values: DevMachineValues): DevMachineConfig;
};

export type VmProvider = 'podman' | 'lima' | 'colima' | 'docker' | 'orbstack' | 'host';

/** Which VM a call acts on; absent fields are resolved. */
export interface VmOptions {
  provider?: VmProvider | '';
  name?: string;
  projectDir?: string;
  /** Confirmations are granted (-y). */
  assumeYes?: boolean;
  platform?: 'linux' | 'darwin' | '';
  /** Default: defaultContext() (or pass the context as the first argument). */
  context?: Context;
}

export interface VmTunnel {
  id: string;
  credentialsFile: string;
  hostname: string;
}

export interface VmInitOptions extends VmOptions {
  recreate?: boolean;
  cpus?: number;
  memoryMb?: number;
  diskGb?: number;
  sshAuthorizedKeys?: string[];
  tunnel?: VmTunnel;
  /** Secret. */
  tailscaleAuthKey?: string;
}

export interface VmResizeOptions extends VmOptions {
  cpus?: number;
  memoryMb?: number;
  diskGb?: number;
}

export interface VmTeardownOptions extends VmOptions {
  keepAttachments?: boolean;
}

export interface VmSleepWatchOptions extends VmOptions {
  intervalS?: number;
  idlePolls?: number;
}

export interface VmExecOptions extends VmOptions {
  stdin?: string;
}

export interface VmTarget {
  v: number;
  provider: VmProvider;
  provider_source: 'option' | 'user-config' | 'project' | 'detected';
  name: string;
  name_source: 'option' | 'env' | 'recorded' | 'default';
  runtime: 'podman' | 'docker' | 'nerdctl';
}

export interface VmDetection {
  v: number;
  platform: string;
  providers: Array<{ name: string; binary: string; path: string; version: string;
    available: boolean; note: string }>;
}

export interface VmAction {
  kind: 'command' | 'file' | 'http' | 'state';
  description: string;
  argv?: string[];
  path?: string;
  method?: string;
  url?: string;
}

/** The result (or, with a dry-run context, the plan) of a call that changes something. */
export interface VmResult {
  v: number;
  operation: string;
  vm: { name: string; provider: string };
  dry_run: boolean;
  actions: VmAction[];
  [key: string]: unknown;
}

export interface VmStatus {
  v: number;
  vm: { name: string; provider: string; state: 'running' | 'stopped' | 'not-created' | 'unknown';
    exists: boolean; cpus?: number; memory_mb?: number; disk_gb?: number };
  record: Record<string, unknown> | null;
  tunnel: Record<string, unknown> | null;
  mesh: Record<string, unknown> | null;
}

export interface VmExecResult {
  v: number;
  exit_code: number;
  signal: number;
  timed_out: boolean;
  cancelled: boolean;
  out: string;
  err: string;
}

/** A sleep watch: runs until cancelled. */
export class VmSleepWatch extends Operation<Record<string, unknown>> {
  close(): Promise<void>;
}

type VmCall<O, R> = {
  (options?: O): R;
  (context: Context, options?: O): R;
};

export const vm: {
  resolve: VmCall<VmOptions, VmTarget>;
  detect: VmCall<{ platform?: string; context?: Context }, VmDetection>;
  saveDefaultProvider(provider: VmProvider, options?: { context?: Context }): void;
  saveDefaultProvider(provider: VmProvider, context: Context): void;
  init: VmCall<VmInitOptions, Operation<VmResult>>;
  start: VmCall<VmOptions, VmResult>;
  stop: VmCall<VmOptions, VmResult>;
  sleep: VmCall<VmOptions, VmResult>;
  status: VmCall<VmOptions, VmStatus>;
  resize: VmCall<VmResizeOptions, VmResult>;
  /** Needs assumeYes, else PromptRequiredError (details { confirm, plan }). */
  teardown: VmCall<VmTeardownOptions, VmResult>;
  exec(argv: string[], options?: VmExecOptions): VmExecResult;
  exec(argv: string[], context: Context, options?: VmExecOptions): VmExecResult;
  sshArgv(command?: string[], options?: VmOptions): string[];
  sshArgv(command: string[], context: Context, options?: VmOptions): string[];
  applyIgnition(ignition: string | Record<string, unknown>, options?: VmOptions): VmResult;
  applyIgnition(ignition: string | Record<string, unknown>, context: Context,
                options?: VmOptions): VmResult;
  sleepWatch: VmCall<VmSleepWatchOptions, VmSleepWatch>;
};

export interface DoctorOptions {
  platform?: 'linux' | 'darwin' | '';
  envFile?: string;
  /** Absent: all areas. */
  areas?: string[];
  /** Install commands without sudo; absent: whether this process runs as root. */
  asRoot?: boolean;
  probeTimeoutMs?: number;
  context?: Context;
}

export interface DoctorInstallOptions extends DoctorOptions {
  /** Optional tools too. */
  all?: boolean;
  assumeYes?: boolean;
}

export interface DoctorTool {
  name: string;
  binary: string;
  required: boolean;
  installed: boolean;
  version: string;
  path: string;
  install: { manager: string; argv: string[]; note: string } | null;
  [key: string]: unknown;
}

export interface DoctorReport {
  v: number;
  ok: boolean;
  system: { os: string; arch: string; package_manager: string; package_manager_version: string;
    root: boolean };
  areas: Array<{ name: string; ready: boolean; tools: DoctorTool[];
    credentials: Array<{ name: string; configured: boolean; detail: string; how_to_fix: string }>;
    [key: string]: unknown }>;
  missing_required: string[];
}

export interface DoctorInstallPlan {
  v: number;
  package_manager: string;
  steps: Array<{ tools: string[]; argv: string[]; required: boolean; status?: 'ok' | 'failed';
    error?: string }>;
  unavailable: Array<{ tool: string; reason: string; how_to_install: string }>;
}

export const doctor: {
  report: VmCall<DoctorOptions, DoctorReport>;
  installPlan: VmCall<DoctorInstallOptions, DoctorInstallPlan>;
  install: VmCall<DoctorInstallOptions, Operation<DoctorInstallPlan>>;
};

export interface NukeOptions {
  projectDir?: string;
  artifacts?: boolean;
  globalCaches?: boolean;
  assumeYes?: boolean;
  context?: Context;
}

export interface NukeItem {
  kind: 'container' | 'volume' | 'directory' | 'file';
  name?: string;
  path?: string;
  size_bytes: number;
  scope: 'project' | 'artifact' | 'global';
  reason: string;
}

export interface NukePlan {
  v: number;
  project: string;
  project_dir: string;
  items: NukeItem[];
  total_bytes: number;
  protected: Array<{ path: string; reason: string }>;
}

export interface NukeResult {
  v: number;
  removed: NukeItem[];
  failed: Array<NukeItem & { error: string }>;
  freed_bytes: number;
}

export const nuke: {
  plan: VmCall<NukeOptions, NukePlan>;
  /** Needs assumeYes; with a dry-run context, returns the plan. */
  run: VmCall<NukeOptions, NukeResult | NukePlan>;
};

// ---- tunnels, edge proxies, mesh, sites, webhooks, mail ----------------------------------------

/** A JSON document of the library (docs/schemas/{tunnel,edge,mesh,sites,webhook,mail}-*.json). */
export type Doc = { v: number; [key: string]: unknown };

/** How the Cloudflare API and cloudflared are reached; absent fields come from the environment. */
export interface CloudflareSettings {
  apiUrl?: string;
  /** Secret: $CLOUDFLARE_API_TOKEN, $CF_API_TOKEN, then envSources when absent. */
  apiToken?: string;
  accountId?: string;
  cloudflared?: string;
  envSources?: string[];
}

/** Work that serves until cancelled; close() cancels it and waits for its cleanup. */
export class ServiceOperation extends Operation<Doc> {
  close(): Promise<void>;
}

export interface TunnelExposeOptions {
  port: number;
  name?: string;
  zone?: string;
  domain?: string;
  /** "user:pass" (secret). */
  basicAuth?: string;
  throttle?: '' | '3g' | 'edge' | 'slow';
  cloudflare?: CloudflareSettings;
  context?: Context;
}

export const tunnel: {
  expose(options: TunnelExposeOptions): ServiceOperation;
  unexpose(options: { target?: string; all?: boolean; cloudflare?: CloudflareSettings;
    context?: Context }): Doc;
  /** { v, exposures, tunnels } from the records. */
  status(options?: { context?: Context }): Doc;
  up(project: Project, options?: { zone?: string; cloudflare?: CloudflareSettings;
    context?: Context }): ServiceOperation;
  dnsLabel(name: string): string;
  machineId(options?: { context?: Context }): string;
};

export interface EdgeProxyOptions {
  targetPort: number;
  bind?: string;
  listenPort?: number;
  /** "user:pass" (secret). */
  basicAuth?: string;
  throttle?: '' | '3g' | 'edge' | 'slow';
  inspect?: boolean;
  inspectOptions?: { session?: string; bodyLimit?: number };
  context?: Context;
}

export class EdgeProxy {
  readonly port: number;
  readonly url: string;
  status(): Doc;
  operation(): Operation<Doc>;
  close(): void;
}

export const edge: {
  proxy(options: EdgeProxyOptions): EdgeProxy;
  plan(options: EdgeProxyOptions): Doc;
  throttleProfile(name: string): { v: number; name: string; latency_us: number;
    jitter_us: number; bytes_per_second: number };
  throttleProfiles(): string[];
  sessions(options?: { context?: Context }): Doc;
  captures(options?: { session?: string; context?: Context }): Doc;
  capture(id: string, options?: { session?: string; context?: Context }): Doc;
  /** Synchronous: blocks this thread until the target answers (or timeoutMs), so the target must
   *  not be served by this thread's event loop (use another process or a worker thread). */
  replay(id: string, options?: { session?: string; targetPort?: number; timeoutMs?: number;
    context?: Context }): Doc;
  remove(session: string, options?: { context?: Context }): Doc;
};

export interface MeshOptions {
  provider?: VmProvider | '';
  name?: string;
  projectDir?: string;
  platform?: 'linux' | 'darwin' | '';
  context?: Context;
}

export const mesh: {
  join(options?: MeshOptions & { authKey?: string; hostname?: string; acceptRoutes?: boolean;
    timeoutS?: number; pollIntervalMs?: number }): Operation<Doc>;
  status(options?: MeshOptions): Doc;
  leave(options?: MeshOptions): Doc;
  tailscaleArgv(args?: string[], options?: MeshOptions): string[];
  exec(args: string[], options?: MeshOptions & { stdin?: string }): VmExecResult;
};

export interface SitesOptions {
  projectDir?: string;
  repo?: string;
  cloudflare?: CloudflareSettings;
  assumeYes?: boolean;
  context?: Context;
}

export const sites: {
  init(options: SitesOptions & { domain: string; zone?: string; name?: string }): Doc;
  verify(options: SitesOptions & { domain: string; zone?: string; txtName?: string;
    txtValue?: string }): Doc;
  status(options?: SitesOptions): Doc;
};

export const webhook: {
  catch(options?: { port?: number; bind?: string; session?: string; replyStatus?: number;
    replyBody?: string; bodyLimit?: number; expose?: boolean; cloudflared?: string;
    exposeTimeoutMs?: number; context?: Context }): ServiceOperation;
  list(options?: { session?: string; context?: Context }): Doc;
  /** Synchronous, like edge.replay: the target must not be served by this thread's event loop. */
  replay(id: string, toUrl: string, options?: { context?: Context }): Doc;
};

export interface MailOptions {
  instance?: string;
  context?: Context;
}

export const mail: {
  catcher(options?: MailOptions & { bind?: string; smtpPort?: number; httpPort?: number;
    maxMessageSize?: number; hostname?: string }): ServiceOperation;
  instances(options?: { context?: Context }): Doc;
  messages(options?: MailOptions): Doc;
  message(id: string, options?: MailOptions): Doc;
  raw(id: string, options?: MailOptions): string;
  delete(id?: string, options?: MailOptions): Doc;
  environment(options?: MailOptions): Record<string, string>;
};
