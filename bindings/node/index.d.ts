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
