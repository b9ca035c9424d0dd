"""devx — Python bindings of libdevx, the embeddable local-development orchestrator.

A thin layer over the native extension ``devx._devx`` (pybind11 over the C++ API): idiomatic
names, the exception classes (one per stable error code), a synchronous ``Operation`` handle and
asyncio integration through the context's event file descriptor. No behaviour lives here.

    >>> import devx
    >>> project = devx.Project.load("path/to/project", profile="ci")
    >>> [s.name for s in project.services]
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import select
import threading
import time
import weakref
from pathlib import Path
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Generic,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypedDict,
    TypeVar,
    Union,
)

from . import _devx
from ._devx import (
    BridgeConfig,
    BridgeIntercept,
    BridgeTarget,
    CommandList,
    Database,
    DatabasePull,
    Dependency,
    Diagnostic,
    Event,
    HealthCheck,
    Mock,
    Pipeline,
    PipelineStage,
    Project,
    RestartPolicy,
    Service,
    ServiceStatus,
    SourceLocation,
    SyncMapping,
    Tunnel,
    UiTest,
)

PathLike = Union[str, "os.PathLike[str]"]
T = TypeVar("T")

__version__: str = _devx.version()


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _devx.version()


def abi_version() -> int:
    """The C ABI version of the library this package was built with."""
    return _devx.abi_version()


# ---- errors -------------------------------------------------------------------------------------


class Error(Exception):
    """A libdevx error. ``code`` is the stable snake_case name, ``status`` its number (the CLI's
    exit code), ``hint`` says what to do next and ``details`` holds structured data."""

    code: str = "internal"
    status: int = 1

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        status: Optional[int] = None,
        hint: str = "",
        details: Optional[Dict[str, Any]] = None,
        cause: Optional["Error"] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.hint = hint
        self.details: Dict[str, Any] = dict(details or {})
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ConfigError(Error):
    """devx.yaml failed to load or validate (code ``config_invalid``). ``file``, ``line`` and
    ``column`` locate the first error; ``diagnostics`` lists every problem found."""

    code = "config_invalid"
    status = 4

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.diagnostics: List[Diagnostic] = [
            _diagnostic_from_dict(d) for d in self.details.get("diagnostics", [])
        ]
        first = next((d for d in self.diagnostics if d.severity == "error"), None)
        if first is None and self.diagnostics:
            first = self.diagnostics[0]
        self.file: Optional[str] = first.file if first is not None else None
        self.line: Optional[int] = first.line if first is not None else None
        self.column: Optional[int] = first.column if first is not None else None


def _class_name(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_")) + "Error"


# The one table: the library's code table (devx::ErrorCode). Each code gets a subclass named after
# it (config_not_found -> ConfigNotFoundError); config_invalid is the richer ConfigError.
_ERROR_CLASSES: Dict[str, Type[Error]] = {"config_invalid": ConfigError}
for _status, _code in _devx.error_codes():
    if _code not in _ERROR_CLASSES:
        _cls = type(
            _class_name(_code),
            (Error,),
            {"code": _code, "status": _status, "__module__": __name__,
             "__doc__": f"libdevx error code {_code!r} ({_status})."},
        )
        _ERROR_CLASSES[_code] = _cls
    globals()[_class_name(_code)] = _ERROR_CLASSES[_code]
    _ERROR_CLASSES[_code].status = _status
ConfigInvalidError = ConfigError


def error_class(code: str) -> Type[Error]:
    """The exception class of a stable error code name (``Error`` for unknown codes)."""
    return _ERROR_CLASSES.get(code, Error)


def _error_from_dict(doc: Mapping[str, Any]) -> Error:
    cause_doc = doc.get("cause")
    cause = _error_from_dict(cause_doc) if isinstance(cause_doc, Mapping) else None
    code = str(doc.get("code", "internal"))
    return error_class(code)(
        str(doc.get("message", "")),
        code=code,
        status=int(doc.get("status", 1)),
        hint=str(doc.get("hint", "") or ""),
        details=dict(doc.get("details") or {}),
        cause=cause,
    )


def _error_from_json(text: str) -> Error:
    # Called by the native exception translator with devx::Error::to_json().
    return _error_from_dict(json.loads(text))


def _diagnostic_from_dict(d: Mapping[str, Any]) -> Diagnostic:
    return Diagnostic(
        severity=str(d.get("severity", "error")),
        file=str(d.get("file", "")),
        line=int(d.get("line", 0)),
        column=int(d.get("column", 0)),
        message=str(d.get("message", "")),
        hint=str(d.get("hint", "") or ""),
    )


_devx._error_factory = _error_from_json


# ---- contexts and operations --------------------------------------------------------------------


class Context:
    """The root object of libdevx: state directory, environment, dry-run and the threads that
    run operations. Close it (or use ``with``) to cancel and join its operations."""

    def __init__(
        self,
        devx_home: Optional[PathLike] = None,
        env: Optional[Mapping[str, str]] = None,
        dry_run: bool = False,
        log_level: str = "info",
    ) -> None:
        self._native = _devx.Context(
            devx_home=None if devx_home is None else os.fspath(devx_home),
            env=None if env is None else dict(env),
            dry_run=dry_run,
            log_level=log_level,
        )
        self._watchers: Dict[asyncio.AbstractEventLoop, _FdWatcher] = {}
        self._sessions: "weakref.WeakSet[Session]" = weakref.WeakSet()
        self._proxies: "weakref.WeakSet[EdgeProxy]" = weakref.WeakSet()

    @property
    def home(self) -> Path:
        return Path(self._native.home)

    @property
    def env(self) -> Dict[str, str]:
        return dict(self._native.env)

    @property
    def dry_run(self) -> bool:
        return bool(self._native.dry_run)

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    def event_fd(self) -> int:
        """Readable when an operation of this context has news (an eventfd)."""
        return int(self._native.event_fd())

    def close(self) -> None:
        """Stops this context's sessions, cancels and waits for its operations, then frees it.
        Idempotent."""
        for session in list(self._sessions):
            session.close()
        for proxy in list(self._proxies):
            proxy.stop()
        for watcher in list(self._watchers.values()):
            watcher.detach()
        self._watchers.clear()
        self._native.close()

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_load(self, path: PathLike, profile: Optional[str] = None, *,
                   user: Optional[str] = None) -> "Operation[Project]":
        """Starts loading a project on a context thread; see ``Operation``."""
        native = self._native.start_load(os.fspath(path), profile, user)
        return Operation(native, self, lambda op: op.project())

    def _watcher(self, loop: asyncio.AbstractEventLoop) -> "_FdWatcher":
        watcher = self._watchers.get(loop)
        if watcher is None:
            watcher = _FdWatcher(loop, self.event_fd())
            self._watchers[loop] = watcher
        return watcher


class _FdWatcher:
    """Shares the context's event fd among the coroutines waiting on one loop: asyncio allows a
    single reader per fd, and reading the eventfd resets it for everyone."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self._loop = loop
        self._fd = fd
        self._callbacks: List[Callable[[], None]] = []

    def add(self, callback: Callable[[], None]) -> None:
        if not self._callbacks:
            self._loop.add_reader(self._fd, self._on_readable)
        self._callbacks.append(callback)

    def remove(self, callback: Callable[[], None]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)
        if not self._callbacks:
            self.detach()

    def detach(self) -> None:
        if not self._loop.is_closed():
            self._loop.remove_reader(self._fd)

    def _on_readable(self) -> None:
        # Reset first, then let every waiter drain: news arriving after the reset re-arms the fd.
        readable, _, _ = select.select([self._fd], [], [], 0)
        if readable:
            try:
                os.read(self._fd, 8)
            except (BlockingIOError, InterruptedError):
                pass
        for callback in list(self._callbacks):
            callback()



async def _events_from_fd(context: "Context", next_event: Callable[[float], Any],
                          recheck: Optional[float]) -> AsyncIterator[Event]:
    """Events of an operation or session as they arrive, without a thread: polls
    ``next_event(0)`` and sleeps on the context's event fd (``loop.add_reader``) in between,
    waking at least every ``recheck`` seconds when given."""
    watcher = context._watcher(asyncio.get_running_loop())
    news = asyncio.Event()
    watcher.add(news.set)
    try:
        while True:
            status, event = next_event(0.0)
            if status == "event":
                yield event
            elif status == "end":
                return
            elif recheck is None:
                await news.wait()
                news.clear()
            else:
                try:
                    await asyncio.wait_for(news.wait(), recheck)
                except asyncio.TimeoutError:
                    pass
                news.clear()
    finally:
        watcher.remove(news.set)

class Operation(Generic[T]):
    """A handle to work running on a context thread: ``events()``, ``wait()``, ``cancel()``,
    ``result()``; in a coroutine, ``await op.result_async()`` or ``async for ev in op``."""

    def __init__(self, native: Any, context: Context,
                 convert: Callable[[Any], T]) -> None:
        self._native = native
        self._context = context
        self._convert = convert

    @property
    def kind(self) -> str:
        return str(self._native.kind)

    def done(self) -> bool:
        return bool(self._native.done())

    def cancel(self) -> None:
        """Asks the work to stop; it then fails with ``devx.CancelledError``."""
        self._native.cancel()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks (GIL released) until the work finished; False if ``timeout`` seconds passed."""
        return bool(self._native.wait(timeout))

    def next_event(self, timeout: float = 0.0) -> Tuple[str, Optional[Event]]:
        """("event", Event) | ("timeout", None) | ("end", None)."""
        status, event = self._native.next_event(timeout)
        return str(status), event

    def events(self) -> Iterator[Event]:
        """Yields every event until the operation ends (blocking, interruptible)."""
        while True:
            status, event = self._native.next_event(0.1)
            if status == "event":
                yield event
            elif status == "end":
                return

    def result(self) -> T:
        """Waits for the end; returns the result or raises the operation's ``devx.Error``."""
        self._native.result_json()
        return self._convert(self._native)

    def result_json(self) -> str:
        """The raw result document (for a load: ``project_to_json``)."""
        return str(self._native.result_json())

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._aevents()

    def _aevents(self) -> AsyncIterator[Event]:
        return _events_from_fd(self._context, self._native.next_event, recheck=None)

    async def result_async(self, on_event: Optional[Callable[[Event], None]] = None) -> T:
        """Waits without blocking the loop (no thread, no busy polling: the context's event fd is
        watched with ``loop.add_reader``). Cancelling the awaiting task cancels the operation."""
        try:
            async for event in self:
                if on_event is not None:
                    on_event(event)
        except asyncio.CancelledError:
            self.cancel()
            raise
        return self.result()

    def __enter__(self) -> "Operation[T]":
        return self

    def __exit__(self, exc_type: Optional[type], *exc: object) -> None:
        """Leaving the block waits for the end; leaving it through an exception cancels first,
        so no work outlives the block."""
        if exc_type is not None:
            self.cancel()
        self.wait()

    def __repr__(self) -> str:
        return f"<devx.Operation {self.kind!r} done={self.done()}>"


_default_context_lock = threading.Lock()
_default_context_instance: Optional[Context] = None


def default_context() -> Context:
    """The context used when a call is given none (created on first use, closed at exit)."""
    global _default_context_instance
    with _default_context_lock:
        if _default_context_instance is None or _default_context_instance.closed:
            _default_context_instance = Context()
            atexit.register(_default_context_instance.close)
        return _default_context_instance


# ---- sessions (`devx up`) ------------------------------------------------------------------------


def _as_project(project: Union[Project, PathLike]) -> Project:
    return project if isinstance(project, Project) else load(project)


class Session:
    """A project brought up by this process (``devx.up``). It owns its services: ``close()`` (or
    leaving the ``with`` block, even through an exception) stops every process it started.

        with devx.up(project) as session:      # up on enter, waits until every node is ready
            for s in session.status(): print(s.name, s.state, s.pid)
            session.restart("api")
        # everything is stopped here

    Events (state changes, one ``log`` event per output line, warnings) are queued from the
    session's creation on, bounded: a consumer that falls behind loses the oldest log lines and
    gets a ``warning`` saying how many. Read them with ``events()`` or ``async for … in
    aevents()``. The methods are not meant to be called from several threads at once."""

    def __init__(self, project: Union[Project, PathLike], *, only: Optional[List[str]] = None,
                 keep_going: bool = False, container_engine: Optional[str] = None,
                 context: Optional[Context] = None) -> None:
        self._context = context or default_context()
        self._native = _devx.Session(self._context._native, _as_project(project),
                                     None if only is None else list(only), keep_going,
                                     container_engine)
        self._context._sessions.add(self)

    @property
    def closed(self) -> bool:
        return bool(self._native.closed)

    # ---- lifecycle ----

    def up_start(self) -> "Operation[List[ServiceStatus]]":
        """Starts bringing the project up; the operation's result is ``status()`` once every
        node is ready. Its events are the plan, state changes and warnings of the start."""
        return Operation(self._native.up(), self._context, lambda _op: self.status())

    def up(self) -> List[ServiceStatus]:
        """Brings the project up and waits (GIL released) until every node is ready. Raises
        ``CommandFailedError`` (``details``: node, exit_code, last_lines, log_file) when a node
        fails; what was started is then stopped again unless ``keep_going``."""
        return self.up_start().result()

    async def up_async(self, on_event: Optional[Callable[[Event], None]] = None
                       ) -> List[ServiceStatus]:
        """``up`` awaited through the context's event fd (no thread); cancelling the task
        cancels the start, which stops what it started."""
        return await self.up_start().result_async(on_event)

    def down_start(self, *, volumes: bool = False,
                   only: Optional[List[str]] = None) -> "Operation[List[ServiceStatus]]":
        return Operation(self._native.down(volumes, None if only is None else list(only)),
                         self._context, lambda _op: self.status())

    def down(self, *, volumes: bool = False, only: Optional[List[str]] = None
             ) -> List[ServiceStatus]:
        """Stops in reverse dependency order (SIGTERM, grace period, SIGKILL); database data is
        kept unless ``volumes``; ``only`` stops just those nodes. The session can go up again."""
        return self.down_start(volumes=volumes, only=only).result()

    async def down_async(self, *, volumes: bool = False,
                         only: Optional[List[str]] = None) -> List[ServiceStatus]:
        return await self.down_start(volumes=volumes, only=only).result_async()

    def restart_start(self, name: str) -> "Operation[ServiceStatus]":
        return Operation(self._native.restart(name), self._context,
                         lambda _op: self.service(name))

    def restart(self, name: str) -> ServiceStatus:
        """Stops one node and starts it again; returns its status once it is ready again.
        Raises ``NotFoundError`` for an unknown node."""
        return self.restart_start(name).result()

    async def restart_async(self, name: str) -> ServiceStatus:
        return await self.restart_start(name).result_async()

    def close(self) -> None:
        """Stops everything the session still runs and releases it, synchronously (a running
        start is cancelled first). Idempotent."""
        self._native.close()

    def __enter__(self) -> "Session":
        try:
            self.up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Session":
        try:
            await self.up_async()
        except BaseException:
            self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self.closed:
            await self.down_async()
        self.close()

    # ---- state ----

    def status(self) -> List[ServiceStatus]:
        """One ``ServiceStatus`` per node (name, kind, runtime, state, pid, container, port,
        restarts, started_at_ms, exit_code, message); empty before the first up."""
        return list(self._native.status())

    def service(self, name: str) -> ServiceStatus:
        for s in self.status():
            if s.name == name:
                return s
        raise error_class("not_found")(f"no node named {name!r} in this session",
                                       code="not_found")

    def status_dict(self) -> Dict[str, Any]:
        """The status document (docs/schemas/status.schema.json)."""
        result: Dict[str, Any] = json.loads(self._native.status_json())
        return result

    def recent_output(self, name: str) -> List[str]:
        """The last output lines of a node (up to ~20, oldest first)."""
        return list(self._native.recent_output(name))

    # ---- events ----

    def next_event(self, timeout: float = 0.0) -> Tuple[str, Optional[Event]]:
        """("event", Event) | ("timeout", None) | ("end", None). "end": nothing is queued, no
        operation of the session runs and no node is alive (before up, after down)."""
        status, event = self._native.next_event(timeout)
        return str(status), event

    def events(self, timeout: Optional[float] = None) -> Iterator[Event]:
        """Yields the session's events (blocking, GIL released, interruptible) until the end
        (see ``next_event``) or, with ``timeout``, until no event came for that many seconds."""
        idle_since = time.monotonic()
        while True:
            status, event = self._native.next_event(0.1)
            if status == "event":
                idle_since = time.monotonic()
                yield event
            elif status == "end":
                return
            elif timeout is not None and time.monotonic() - idle_since >= timeout:
                return

    def aevents(self) -> AsyncIterator[Event]:
        """``async for event in session.aevents()``: the session's events without a thread (the
        context's event fd is watched with ``loop.add_reader``); ends like ``events()``."""
        return self._aevents()

    def _aevents(self) -> AsyncIterator[Event]:
        # The fd only signals new events; a session's end (an operation finishing, the last node
        # stopping) is noticed by re-checking at a modest pace.
        return _events_from_fd(self._context, self._native.next_event, recheck=0.25)

    def __repr__(self) -> str:
        states = ", ".join(f"{s.name}={s.state}" for s in self.status()) if not self.closed else ""
        return f"<devx.Session {states or ('closed' if self.closed else 'not up')}>"


def up(project: Union[Project, PathLike], only: Optional[List[str]] = None,
       keep_going: bool = False, *, container_engine: Optional[str] = None,
       context: Optional[Context] = None) -> Session:
    """A ``Session`` for ``project`` (a Project, or a path to load). Nothing starts until it is
    entered (``with devx.up(p) as session:``, ``async with``) or ``session.up()`` is called."""
    return Session(project, only=only, keep_going=keep_going,
                   container_engine=container_engine, context=context)


def plan(project: Union[Project, PathLike], only: Optional[List[str]] = None,
         keep_going: bool = False, *, container_engine: Optional[str] = None,
         context: Optional[Context] = None) -> Dict[str, Any]:
    """What ``up`` would do, without starting anything (``--dry-run``): {"v":1,"project","nodes",
    "warnings"} (docs/schemas/up-plan.schema.json). Ports are shifted against the machine now."""
    ctx = context or default_context()
    text = _devx.plan_up(ctx._native, _as_project(project),
                         None if only is None else list(only), keep_going, container_engine)
    result: Dict[str, Any] = json.loads(text)
    return result


# ---- Kubernetes bridge --------------------------------------------------------------------------


class KubeSettings(TypedDict, total=False):
    """How kubectl reaches the cluster; "" (or absent) is kubectl's own resolution ($KUBECONFIG or
    ~/.kube/config), the current context, and ``kubectl`` on PATH."""

    kubeconfig: str
    context: str
    kubectl: str


class _BridgeTargetRequired(TypedDict):
    service: str
    port: int


class BridgeTargetSpec(_BridgeTargetRequired, total=False):
    """One remote Service port made local: ``namespace`` defaults to the call's, ``local_port`` 0
    lets kubectl choose."""

    namespace: str
    local_port: int


class BridgePortMapping(TypedDict, total=False):
    """A Service port (``remote``) routed to a local port (``local``; 0 refuses it)."""

    remote: int
    local: int


def _result_dict(native: Any) -> Dict[str, Any]:
    result: Dict[str, Any] = json.loads(native.result_json())
    return result


def _given(**options: Any) -> Dict[str, Any]:
    # Absent options keep the library's defaults.
    return {key: value for key, value in options.items() if value is not None}


class BridgeSession(Operation[Dict[str, Any]]):
    """A bridge session (``devx.bridge.connect`` / ``intercept``): an ``Operation`` that runs until
    it is cancelled, then leaves nothing behind. Leaving the ``with`` block (even through an
    exception) cancels it and waits for its cleanup.

        with devx.bridge.connect([{"service": "payments-api", "port": 8080}]) as session:
            for ev in session.events():
                if ev.type == "state" and ev.data["state"] == "forwarding":
                    print(ev.data["local_port"])
    """

    def __enter__(self) -> "BridgeSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()
        self.wait()


class _Bridge:
    """``devx.bridge``: reach remote Services from local code (``connect``) and route a remote
    Service's traffic to a local process (``intercept``). Options are checked like the C ABI's
    documents (docs/schemas/bridge-*-options.schema.json): an unknown key or a wrong type raises
    ``InvalidArgumentError`` naming the field ("targets[1].port")."""

    @staticmethod
    def connect(targets: Sequence[BridgeTargetSpec], *, namespace: Optional[str] = None,
                kube: Optional[KubeSettings] = None, origin: Optional[str] = None,
                context: Optional[Context] = None) -> BridgeSession:
        """Starts ``kubectl port-forward`` for every target and keeps each up until cancelled.
        State events carry data {"service","namespace","remote_port","local_port","state",
        "attempt"}; "state" is "forwarding" once the local port is served. With the context's
        dry_run the result is the plan and nothing starts."""
        ctx = context or default_context()
        options = _given(targets=targets, namespace=namespace, kube=kube, origin=origin)
        return BridgeSession(_devx.bridge_connect(ctx._native, options), ctx, _result_dict)

    @staticmethod
    def intercept(service: str, *, namespace: Optional[str] = None,
                  ports: Optional[Sequence[BridgePortMapping]] = None,
                  kube: Optional[KubeSettings] = None, agent_image: Optional[str] = None,
                  ready_timeout_s: Optional[int] = None, grace_s: Optional[int] = None,
                  keepalive_interval_ms: Optional[int] = None,
                  keepalive_timeout_ms: Optional[int] = None, origin: Optional[str] = None,
                  context: Optional[Context] = None) -> BridgeSession:
        """Deploys the agent, swaps the Service's selector and routes its connections to local
        ports until cancelled; then restores the Service and removes the agent. No ``ports``:
        every TCP Service port to the same local port. Raises (through the operation)
        ``ConflictError``, ``UnreachableError``, ``PermissionDeniedError`` …"""
        ctx = context or default_context()
        options = _given(service=service, namespace=namespace, ports=ports, kube=kube,
                         agent_image=agent_image, ready_timeout_s=ready_timeout_s,
                         grace_s=grace_s, keepalive_interval_ms=keepalive_interval_ms,
                         keepalive_timeout_ms=keepalive_timeout_ms, origin=origin)
        return BridgeSession(_devx.bridge_intercept(ctx._native, options), ctx, _result_dict)

    @staticmethod
    def status(*, context: Optional[Context] = None) -> Dict[str, Any]:
        """{"v":1,"active":bool,"sessions":[…]}: every recorded session, dead owners as "stale"
        (docs/schemas/bridge-status.schema.json)."""
        ctx = context or default_context()
        result: Dict[str, Any] = json.loads(_devx.bridge_status(ctx._native))
        return result

    @staticmethod
    def disconnect(session_id: Optional[str] = None, *, wait: Optional[float] = None,
                   context: Optional[Context] = None) -> Dict[str, Any]:
        """Stops one session (None: all) and waits up to ``wait`` seconds (None: the library's
        default) for each owner's cleanup. {"v":1,"sessions":[…]}."""
        ctx = context or default_context()
        seconds = None if wait is None else float(wait)  # the native side takes float seconds
        result: Dict[str, Any] = json.loads(
            _devx.bridge_disconnect(ctx._native, session_id or "", seconds))
        return result

    @staticmethod
    def environment(*, context: Optional[Context] = None) -> Dict[str, str]:
        """BRIDGE_<SERVICE>[_<NAMESPACE>]_{URL,HOST,PORT} for every live forward."""
        ctx = context or default_context()
        return dict(_devx.bridge_environment(ctx._native))

    @staticmethod
    def doctor(*, namespace: Optional[str] = None, kube: Optional[KubeSettings] = None,
               repair: Optional[bool] = None,
               context: Optional[Context] = None) -> Operation[Dict[str, Any]]:
        """Finds (and with ``repair`` removes) what crashed sessions left in the cluster;
        result {"v":1,"findings":[…]}. No namespace: all of them."""
        ctx = context or default_context()
        options = _given(namespace=namespace, kube=kube, repair=repair)
        return Operation(_devx.bridge_doctor(ctx._native, options), ctx, _result_dict)

    @staticmethod
    def rbac_yaml(namespace: str = "") -> str:
        """Apply-able RBAC granting exactly the calls the bridge makes: Role + RoleBinding in
        ``namespace``, or ClusterRole + ClusterRoleBinding for ""."""
        return str(_devx.bridge_rbac_yaml(namespace))

    @staticmethod
    def env_prefix(service: str, namespace: str = "", with_namespace: bool = False) -> str:
        """The one naming formula: "payments-api" -> "BRIDGE_PAYMENTS_API"; with namespace
        "team.a" -> "BRIDGE_PAYMENTS_API_TEAM_A"."""
        return str(_devx.bridge_env_prefix(service, namespace, with_namespace))


bridge = _Bridge()


# ---- Butane / Ignition, the dev VM, doctor, nuke ------------------------------------------------


def _json_dict(text: str) -> Dict[str, Any]:
    result: Dict[str, Any] = json.loads(text)
    return result


def _optional_path(path: Optional[PathLike]) -> Optional[str]:
    return None if path is None else os.fspath(path)


class _Butane:
    """``devx.butane``: a native Butane → Ignition compiler for the Fedora CoreOS variant (a
    drop-in for ``butane --pretty --strict``) and the dev machine's built-in configuration."""

    @staticmethod
    def compile(document: Union[str, bytes], *, source_name: Optional[str] = None,
                files_dir: Optional[PathLike] = None, strict: Optional[bool] = None,
                pretty: Optional[bool] = None) -> Dict[str, Any]:
        """{"ignition": <the Ignition JSON text>, "ignition_version", "warnings": [diagnostic
        dicts]}. Raises ``ConfigError`` whose ``diagnostics`` locate every problem
        (``source_name``:line:col), ``UnsupportedError`` for an unsupported variant/version,
        ``IoError`` for an unreadable ``local:`` source under ``files_dir``."""
        result: Dict[str, Any] = _devx.butane_compile(
            document, source_name, _optional_path(files_dir), strict, pretty)
        return result

    @staticmethod
    def versions() -> List[Dict[str, str]]:
        """[{"variant","butane_version","ignition_version"}]: what ``compile`` accepts."""
        return list(_devx.butane_versions())

    @staticmethod
    def dev_machine_template() -> str:
        """The built-in dev machine Butane document with its ${…} placeholders."""
        return str(_devx.dev_machine_template())

    @staticmethod
    def dev_machine_config(hostname: str, *, ssh_authorized_keys: Optional[Sequence[str]] = None,
                           runtime: Optional[str] = None, tunnel_id: Optional[str] = None,
                           tunnel_credentials_json: Optional[str] = None,
                           tunnel_hostname: Optional[str] = None,
                           tunnel_service: Optional[str] = None,
                           tailscale_auth_key: Optional[str] = None) -> Dict[str, Any]:
        """The built-in configuration with these values substituted as data, compiled in strict
        mode: {"butane", "ignition", "ignition_version"}. It contains the secrets given. Raises
        ``InvalidArgumentError`` naming a value that fails validation."""
        result: Dict[str, Any] = _devx.dev_machine_config(
            hostname, None if ssh_authorized_keys is None else list(ssh_authorized_keys),
            runtime, tunnel_id, tunnel_credentials_json, tunnel_hostname, tunnel_service,
            tailscale_auth_key)
        return result


butane = _Butane()


class VmTunnel(TypedDict, total=False):
    """The Cloudflare Tunnel routed into the VM by ``vm.init``: its UUID, cloudflared's
    credentials file (read, never put on a command line) and the public hostname."""

    id: str
    credentials_file: str
    hostname: str


def _vm_options(provider: Optional[str], name: Optional[str], project_dir: Optional[PathLike],
                assume_yes: bool, platform: Optional[str]) -> Any:
    return _devx.VmOptions(provider=provider or "", name=name or "",
                           project_dir=os.fspath(project_dir) if project_dir is not None else "",
                           assume_yes=assume_yes, platform=platform or "")


class VmSleepWatch(Operation[Dict[str, Any]]):
    """``devx.vm.sleep_watch``: runs until cancelled; leaving the ``with`` block cancels it and
    waits for its end. State events carry {"state": "idle"|"busy"|"asleep"|"stopped",
    "containers": N}."""

    def __enter__(self) -> "VmSleepWatch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()
        self.wait()


class _Vm:
    """``devx.vm``: the dev VM, whichever provider runs it (podman machine, Lima, Colima, Docker
    Desktop, OrbStack, or "host": containers on this machine's engine). Every call takes the
    same selection keywords — ``provider``, ``name``, ``project_dir``, ``assume_yes``,
    ``platform``; None/"" is resolved (``resolve`` says how) — and ``context``. Calls that change
    something return the library's result document, which is the plan when the context is a
    dry run; a destructive step without ``assume_yes=True`` raises ``PromptRequiredError`` whose
    ``details`` hold {"confirm": question, "plan": {…}}."""

    @staticmethod
    def resolve(*, provider: Optional[str] = None, name: Optional[str] = None,
                project_dir: Optional[PathLike] = None, assume_yes: bool = False,
                platform: Optional[str] = None,
                context: Optional[Context] = None) -> Dict[str, str]:
        """{"provider","provider_source","name","name_source","runtime"}. Several providers
        detected → ``PromptRequiredError`` with details {"candidates": […]}; none →
        ``CommandNotFoundError``."""
        ctx = context or default_context()
        result: Dict[str, str] = _devx.vm_resolve(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform))
        return result

    @staticmethod
    def detect(platform: Optional[str] = None, *,
               context: Optional[Context] = None) -> Dict[str, Any]:
        """{"platform","providers":[{"name","binary","path","version","available","note"}]}."""
        ctx = context or default_context()
        return _json_dict(_devx.vm_detect(ctx._native, platform or ""))

    @staticmethod
    def save_default_provider(provider: str, *, context: Optional[Context] = None) -> None:
        """Records ``provider`` as the default in DEVX_HOME/config.yaml."""
        ctx = context or default_context()
        _devx.vm_save_default_provider(ctx._native, provider)

    @staticmethod
    def init(*, provider: Optional[str] = None, name: Optional[str] = None,
             project_dir: Optional[PathLike] = None, assume_yes: bool = False,
             platform: Optional[str] = None, recreate: bool = False, cpus: int = 0,
             memory_mb: int = 0, disk_gb: int = 0,
             ssh_authorized_keys: Optional[Sequence[str]] = None,
             tunnel: Optional[VmTunnel] = None, tailscale_auth_key: Optional[str] = None,
             context: Optional[Context] = None) -> Operation[Dict[str, Any]]:
        """Creates (idempotently), provisions and starts the VM; progress events name each step.
        Result: the result document with "created" and "ignition". 0 sizes: the provider's
        defaults. ``recreate`` replaces an existing VM (needs ``assume_yes``)."""
        ctx = context or default_context()
        native = _devx.vm_init(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform),
            recreate, cpus, memory_mb, disk_gb,
            None if ssh_authorized_keys is None else list(ssh_authorized_keys),
            None if tunnel is None else dict(tunnel), tailscale_auth_key)
        return Operation(native, ctx, _result_dict)

    @staticmethod
    def start(*, provider: Optional[str] = None, name: Optional[str] = None,
              project_dir: Optional[PathLike] = None, assume_yes: bool = False,
              platform: Optional[str] = None,
              context: Optional[Context] = None) -> Dict[str, Any]:
        """Starts the VM; the result document."""
        ctx = context or default_context()
        return _json_dict(_devx.vm_start(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform)))

    @staticmethod
    def stop(*, provider: Optional[str] = None, name: Optional[str] = None,
             project_dir: Optional[PathLike] = None, assume_yes: bool = False,
             platform: Optional[str] = None,
             context: Optional[Context] = None) -> Dict[str, Any]:
        """Stops the VM (only that VM); the result document."""
        ctx = context or default_context()
        return _json_dict(_devx.vm_stop(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform)))

    @staticmethod
    def sleep(*, provider: Optional[str] = None, name: Optional[str] = None,
              project_dir: Optional[PathLike] = None, assume_yes: bool = False,
              platform: Optional[str] = None,
              context: Optional[Context] = None) -> Dict[str, Any]:
        """Suspends the VM where the provider can; the result document."""
        ctx = context or default_context()
        return _json_dict(_devx.vm_sleep(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform)))

    @staticmethod
    def status(*, provider: Optional[str] = None, name: Optional[str] = None,
               project_dir: Optional[PathLike] = None, assume_yes: bool = False,
               platform: Optional[str] = None,
               context: Optional[Context] = None) -> Dict[str, Any]:
        """{"vm":{"name","provider","state","exists",…},"record","tunnel","mesh"}; read-only."""
        ctx = context or default_context()
        return _json_dict(_devx.vm_status(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform)))

    @staticmethod
    def resize(*, cpus: int = 0, memory_mb: int = 0, disk_gb: int = 0,
               provider: Optional[str] = None, name: Optional[str] = None,
               project_dir: Optional[PathLike] = None, assume_yes: bool = False,
               platform: Optional[str] = None,
               context: Optional[Context] = None) -> Dict[str, Any]:
        """Applies new sizes (0 = unchanged; at least one), restarting a running VM."""
        ctx = context or default_context()
        return _json_dict(_devx.vm_resize(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform),
            cpus, memory_mb, disk_gb))

    @staticmethod
    def teardown(*, keep_attachments: bool = False, provider: Optional[str] = None,
                 name: Optional[str] = None, project_dir: Optional[PathLike] = None,
                 assume_yes: bool = False, platform: Optional[str] = None,
                 context: Optional[Context] = None) -> Dict[str, Any]:
        """Removes the VM and, unless ``keep_attachments``, its tunnel, DNS records and mesh node.
        Needs ``assume_yes`` (else ``PromptRequiredError``); ``NotFoundError`` for a VM that does
        not exist."""
        ctx = context or default_context()
        return _json_dict(_devx.vm_teardown(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform),
            keep_attachments))

    @staticmethod
    def exec(command: Sequence[str], *, stdin: Optional[Union[str, bytes]] = None,
             provider: Optional[str] = None, name: Optional[str] = None,
             project_dir: Optional[PathLike] = None, assume_yes: bool = False,
             platform: Optional[str] = None,
             context: Optional[Context] = None) -> Dict[str, Any]:
        """Runs ``command`` in the VM with output captured: {"exit_code","signal","timed_out",
        "cancelled","out","err"}. A failing command is a result, not an exception."""
        ctx = context or default_context()
        result: Dict[str, Any] = _devx.vm_exec(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform),
            list(command), stdin)
        return result

    @staticmethod
    def ssh_argv(command: Sequence[str] = (), *, provider: Optional[str] = None,
                 name: Optional[str] = None, project_dir: Optional[PathLike] = None,
                 assume_yes: bool = False, platform: Optional[str] = None,
                 context: Optional[Context] = None) -> List[str]:
        """The argv that opens a shell in the VM (or runs ``command`` there), for a terminal."""
        ctx = context or default_context()
        return list(_devx.vm_ssh_argv(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform),
            list(command)))

    @staticmethod
    def apply_ignition(ignition: Union[str, Mapping[str, Any]], *,
                       provider: Optional[str] = None, name: Optional[str] = None,
                       project_dir: Optional[PathLike] = None, assume_yes: bool = False,
                       platform: Optional[str] = None,
                       context: Optional[Context] = None) -> Dict[str, Any]:
        """Writes an Ignition config's files, directories, links and units into the running VM
        and starts its enabled units; the result document with their counts."""
        ctx = context or default_context()
        text = ignition if isinstance(ignition, str) else json.dumps(ignition)
        return _json_dict(_devx.vm_apply_ignition(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform), text))

    @staticmethod
    def sleep_watch(*, interval_s: Optional[int] = None, idle_polls: Optional[int] = None,
                    provider: Optional[str] = None, name: Optional[str] = None,
                    project_dir: Optional[PathLike] = None, assume_yes: bool = False,
                    platform: Optional[str] = None,
                    context: Optional[Context] = None) -> VmSleepWatch:
        """Puts the VM to sleep after ``idle_polls`` polls (default 3) ``interval_s`` apart
        (default 60) without user containers; runs until cancelled."""
        ctx = context or default_context()
        native = _devx.vm_sleep_watch(
            ctx._native, _vm_options(provider, name, project_dir, assume_yes, platform),
            interval_s, idle_polls)
        return VmSleepWatch(native, ctx, _result_dict)


vm = _Vm()


def _milliseconds(seconds: Optional[float]) -> Optional[int]:
    return None if seconds is None else int(round(seconds * 1000))


class _Doctor:
    """``devx.doctor``: which tools each feature area needs and has (with versions), how to
    install what is missing on this platform, and which credentials are configured (never their
    values). ``platform``: "linux" | "darwin" | None (this machine); ``areas``: None = all;
    ``as_root``: whether install commands run without sudo (None: whether this process is
    root); ``probe_timeout``: seconds a ``<tool> --version`` probe may take."""

    @staticmethod
    def report(*, platform: Optional[str] = None, env_file: Optional[PathLike] = None,
               areas: Optional[Sequence[str]] = None, as_root: Optional[bool] = None,
               probe_timeout: Optional[float] = None,
               context: Optional[Context] = None) -> Dict[str, Any]:
        """{"ok","system","areas":[{"name","ready","tools","credentials"}],"missing_required"};
        ``ok`` is False when a required tool is missing."""
        ctx = context or default_context()
        return _json_dict(_devx.doctor_report(
            ctx._native, platform, _optional_path(env_file),
            None if areas is None else list(areas), as_root, _milliseconds(probe_timeout)))

    @staticmethod
    def install_plan(*, all: bool = False, assume_yes: bool = False,
                     platform: Optional[str] = None, env_file: Optional[PathLike] = None,
                     areas: Optional[Sequence[str]] = None, as_root: Optional[bool] = None,
                     probe_timeout: Optional[float] = None,
                     context: Optional[Context] = None) -> Dict[str, Any]:
        """What ``install`` would run: {"package_manager","steps":[{"tools","argv","required"}],
        "unavailable":[…]}. ``all`` adds the optional tools."""
        ctx = context or default_context()
        return _json_dict(_devx.doctor_install_plan(
            ctx._native, platform, _optional_path(env_file),
            None if areas is None else list(areas), as_root, _milliseconds(probe_timeout), all,
            assume_yes))

    @staticmethod
    def install(*, all: bool = False, assume_yes: bool = False, platform: Optional[str] = None,
                env_file: Optional[PathLike] = None, areas: Optional[Sequence[str]] = None,
                as_root: Optional[bool] = None, probe_timeout: Optional[float] = None,
                context: Optional[Context] = None) -> Operation[Dict[str, Any]]:
        """Runs the install plan (a dry-run context: the result is the plan). Needs
        ``assume_yes`` (else ``PromptRequiredError`` with the plan). Result: the plan with each
        step's "status" and "error"; ``CommandFailedError`` when a step failed."""
        ctx = context or default_context()
        native = _devx.doctor_install(
            ctx._native, platform, _optional_path(env_file),
            None if areas is None else list(areas), as_root, _milliseconds(probe_timeout), all,
            assume_yes)
        return Operation(native, ctx, _result_dict)


doctor = _Doctor()


class _Nuke:
    """``devx.nuke``: removes what devx created for one project — its containers and volumes, its
    run state, logs and caches — and, only when asked, untracked build artefacts
    (``artifacts``) and global caches (``global_caches``). Nothing git tracks is removed."""

    @staticmethod
    def plan(project_dir: Optional[PathLike] = None, *, artifacts: bool = False,
             global_caches: bool = False, assume_yes: bool = False,
             context: Optional[Context] = None) -> Dict[str, Any]:
        """What would be removed: {"project","project_dir","items","total_bytes","protected"}.
        Read-only."""
        ctx = context or default_context()
        return _json_dict(_devx.nuke_plan(ctx._native, _optional_path(project_dir), artifacts,
                                          global_caches, assume_yes))

    @staticmethod
    def run(project_dir: Optional[PathLike] = None, *, artifacts: bool = False,
            global_caches: bool = False, assume_yes: bool = False,
            context: Optional[Context] = None) -> Dict[str, Any]:
        """Removes the plan's items (a dry-run context: returns the plan). Needs ``assume_yes``
        (else ``PromptRequiredError`` with the plan). {"removed","failed","freed_bytes"};
        ``CommandFailedError`` (that result in ``details``) when an item could not be removed."""
        ctx = context or default_context()
        return _json_dict(_devx.nuke(ctx._native, _optional_path(project_dir), artifacts,
                                     global_caches, assume_yes))


nuke = _Nuke()


# ---- tunnels, edge proxies, mesh, sites, webhooks, mail -----------------------------------------


class CloudflareSettings(TypedDict, total=False):
    """How the Cloudflare API and cloudflared are reached; absent fields are resolved from the
    environment (``api_token``: $CLOUDFLARE_API_TOKEN, $CF_API_TOKEN, then ``env_sources``)."""

    api_url: str
    api_token: str
    account_id: str
    cloudflared: str
    env_sources: List[str]


def _options(**options: Any) -> str:
    # The C ABI's options document: absent (None) keys keep the library's defaults, and the
    # library's decoder names any wrong key or type.
    return json.dumps({"v": 1, **_given(**options)})


def _vm_json(provider: Optional[str], name: Optional[str], project_dir: Optional[PathLike],
             assume_yes: bool, platform: Optional[str], **extra: Any) -> str:
    return _options(provider=provider, name=name, project_dir=_optional_path(project_dir),
                    assume_yes=assume_yes or None, platform=platform, **extra)


class ServiceOperation(Operation[Dict[str, Any]]):
    """Work that serves until it is cancelled (a catcher, a tunnel route with its proxies):
    leaving the ``with`` block cancels it and waits for its cleanup."""

    def __enter__(self) -> "ServiceOperation":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()
        self.wait()


class _Tunnel:
    """``devx.tunnel``: public URLs for local ports through this machine's Cloudflare Tunnel
    (created once, reused). Routes and DNS records are recorded; ``status`` reads the records."""

    @staticmethod
    def expose(port: int, *, name: Optional[str] = None, zone: Optional[str] = None,
               domain: Optional[str] = None, basic_auth: Optional[str] = None,
               throttle: Optional[str] = None, cloudflare: Optional[CloudflareSettings] = None,
               context: Optional[Context] = None) -> ServiceOperation:
        """Routes https://<name>.<zone> to 127.0.0.1:``port``. Without proxies the operation ends
        once the route is live (result: the exposure); with ``basic_auth`` ("user:pass") or
        ``throttle`` ("3g" | "edge" | "slow") it serves them until cancelled, then removes the
        exposure."""
        ctx = context or default_context()
        native = _devx.tunnel_expose(ctx._native, _options(
            cloudflare=cloudflare, port=port, name=name, zone=zone, domain=domain,
            basic_auth=basic_auth, throttle=throttle))
        return ServiceOperation(native, ctx, _result_dict)

    @staticmethod
    def unexpose(target: Optional[str] = None, *, all: bool = False,
                 cloudflare: Optional[CloudflareSettings] = None,
                 context: Optional[Context] = None) -> Dict[str, Any]:
        """Removes an exposure (id or hostname; ``all``: every one of this machine): its route,
        DNS record and record. ``NotFoundError`` names the exposures."""
        ctx = context or default_context()
        return _json_dict(_devx.tunnel_unexpose(ctx._native, _options(
            cloudflare=cloudflare, target=target, all=all or None)))

    @staticmethod
    def status(*, context: Optional[Context] = None) -> Dict[str, Any]:
        """{"exposures":[…],"tunnels":[…]} from the records (no API call)."""
        ctx = context or default_context()
        return _json_dict(_devx.tunnel_status(ctx._native))

    @staticmethod
    def up(project: Union[Project, PathLike], *, zone: Optional[str] = None,
           cloudflare: Optional[CloudflareSettings] = None,
           context: Optional[Context] = None) -> ServiceOperation:
        """Routes the project's ``tunnels:`` until cancelled (then removes the routes)."""
        ctx = context or default_context()
        native = _devx.tunnel_up(ctx._native, _as_project(project),
                                 _options(cloudflare=cloudflare, zone=zone))
        return ServiceOperation(native, ctx, _result_dict)

    @staticmethod
    def dns_label(name: str) -> str:
        """The label a name becomes in a hostname ("My_App" -> "my-app")."""
        return str(_devx.tunnel_dns_label(name))

    @staticmethod
    def machine_id(*, context: Optional[Context] = None) -> str:
        ctx = context or default_context()
        return str(_devx.tunnel_machine_id(ctx._native))


tunnel = _Tunnel()


class EdgeProxy:
    """A running proxy chain in front of 127.0.0.1:<target_port> (``devx.edge.proxy``). Leaving
    the ``with`` block (or ``stop()``, or closing its context) closes it."""

    def __init__(self, native: Any, context: Context) -> None:
        self._native = native
        self._context = context
        context._proxies.add(self)

    @property
    def port(self) -> int:
        """The port clients connect to (0 in a dry run)."""
        return int(self._native.port)

    @property
    def url(self) -> str:
        return str(self._native.url)

    @property
    def session(self) -> str:
        """The inspector's capture session ("" without ``inspect``)."""
        return str(self._native.session)

    def status(self) -> Dict[str, Any]:
        """{"listen","target","layers","session"?,"capture_dir"?,"stats"}."""
        return _json_dict(self._native.status())

    @property
    def operation(self) -> Operation[Dict[str, Any]]:
        """The operation running the chain: "listening", one event per recorded exchange."""
        return Operation(self._native.operation(), self._context, _result_dict)

    def stop(self) -> None:
        self._native.stop()

    def __enter__(self) -> "EdgeProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Edge:
    """``devx.edge``: basic auth, throttle and the capturing inspector on 127.0.0.1, and the
    inspector's captures (list, get, replay, remove)."""

    @staticmethod
    def _document(target_port: int, bind: Optional[str], listen_port: Optional[int],
                  basic_auth: Optional[str], throttle: Optional[str], inspect: bool,
                  session: Optional[str], body_limit: Optional[int]) -> str:
        inspect_options = _given(session=session, body_limit=body_limit) or None
        return _options(target_port=target_port, bind=bind, listen_port=listen_port,
                        basic_auth=basic_auth, throttle=throttle, inspect=inspect or None,
                        inspect_options=inspect_options)

    @staticmethod
    def proxy(target_port: int, *, bind: Optional[str] = None, listen_port: Optional[int] = None,
              basic_auth: Optional[str] = None, throttle: Optional[str] = None,
              inspect: bool = False, session: Optional[str] = None,
              body_limit: Optional[int] = None, context: Optional[Context] = None) -> EdgeProxy:
        """Binds and starts a chain: client -> [throttle] -> [basic auth + inspector] -> target.
        ``PortInUseError`` when ``listen_port`` is taken."""
        ctx = context or default_context()
        native = _devx.edge_proxy_start(ctx._native, _Edge._document(
            target_port, bind, listen_port, basic_auth, throttle, inspect, session, body_limit))
        return EdgeProxy(native, ctx)

    @staticmethod
    def plan(target_port: int, *, bind: Optional[str] = None, listen_port: Optional[int] = None,
             basic_auth: Optional[str] = None, throttle: Optional[str] = None,
             inspect: bool = False, session: Optional[str] = None,
             body_limit: Optional[int] = None,
             context: Optional[Context] = None) -> Dict[str, Any]:
        """The chain's plan, validated like ``proxy``."""
        ctx = context or default_context()
        return _json_dict(_devx.edge_proxy_plan(ctx._native, _Edge._document(
            target_port, bind, listen_port, basic_auth, throttle, inspect, session, body_limit)))

    @staticmethod
    def throttle_profile(name: str) -> Dict[str, Any]:
        """{"name","latency_us","jitter_us","bytes_per_second"}."""
        result: Dict[str, Any] = _devx.throttle_profile(name)
        return result

    @staticmethod
    def throttle_profiles() -> List[str]:
        return list(_devx.throttle_profile_names())

    @staticmethod
    def sessions(*, context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.inspect_sessions(ctx._native))

    @staticmethod
    def captures(session: Optional[str] = None, *,
                 context: Optional[Context] = None) -> Dict[str, Any]:
        """{"session","exchanges":[…]} of ``session`` (None: the newest)."""
        ctx = context or default_context()
        return _json_dict(_devx.inspect_captures(ctx._native, session or ""))

    @staticmethod
    def capture(id: str, *, session: Optional[str] = None,
                context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.inspect_capture(ctx._native, session or "", id))

    @staticmethod
    def replay(id: str, *, session: Optional[str] = None, target_port: Optional[int] = None,
               timeout_ms: Optional[int] = None,
               context: Optional[Context] = None) -> Dict[str, Any]:
        """Re-sends a recorded request (to its recorded port unless ``target_port``)."""
        ctx = context or default_context()
        return _json_dict(_devx.inspect_replay(ctx._native, session or "", id, _options(
            target_port=target_port, timeout_ms=timeout_ms)))

    @staticmethod
    def remove(session: str, *, context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.inspect_remove(ctx._native, session))


edge = _Edge()


class _Mesh:
    """``devx.mesh``: the dev VM's Tailscale node. The VM is selected as for ``devx.vm``
    (``provider``, ``name``, ``project_dir``, ``platform``)."""

    @staticmethod
    def join(*, auth_key: Optional[str] = None, hostname: Optional[str] = None,
             accept_routes: Optional[bool] = None, timeout_s: Optional[int] = None,
             poll_interval_ms: Optional[int] = None, provider: Optional[str] = None,
             name: Optional[str] = None, project_dir: Optional[PathLike] = None,
             assume_yes: bool = False, platform: Optional[str] = None,
             context: Optional[Context] = None) -> Operation[Dict[str, Any]]:
        """Joins the tailnet (key: ``auth_key``, else $TS_AUTHKEY, else the project's env files;
        never on a command line), waits until the node runs and verifies it."""
        ctx = context or default_context()
        native = _devx.mesh_join(ctx._native, _vm_json(
            provider, name, project_dir, assume_yes, platform, auth_key=auth_key,
            hostname=hostname, accept_routes=accept_routes, timeout_s=timeout_s,
            poll_interval_ms=poll_interval_ms))
        return Operation(native, ctx, _result_dict)

    @staticmethod
    def status(*, provider: Optional[str] = None, name: Optional[str] = None,
               project_dir: Optional[PathLike] = None, platform: Optional[str] = None,
               context: Optional[Context] = None) -> Dict[str, Any]:
        """`tailscale status --json` of the node: {"backend_state","self","peers",…}."""
        ctx = context or default_context()
        return _json_dict(_devx.mesh_status(
            ctx._native, _vm_json(provider, name, project_dir, False, platform)))

    @staticmethod
    def leave(*, provider: Optional[str] = None, name: Optional[str] = None,
              project_dir: Optional[PathLike] = None, platform: Optional[str] = None,
              context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.mesh_leave(
            ctx._native, _vm_json(provider, name, project_dir, False, platform)))

    @staticmethod
    def tailscale_argv(args: Sequence[str] = (), *, provider: Optional[str] = None,
                       name: Optional[str] = None, project_dir: Optional[PathLike] = None,
                       platform: Optional[str] = None,
                       context: Optional[Context] = None) -> List[str]:
        """The argv that runs ``tailscale <args>`` in the VM, for a terminal."""
        ctx = context or default_context()
        return list(_devx.mesh_tailscale_argv(
            ctx._native, _vm_json(provider, name, project_dir, False, platform), list(args)))

    @staticmethod
    def exec(args: Sequence[str], *, stdin: Optional[str] = None, provider: Optional[str] = None,
             name: Optional[str] = None, project_dir: Optional[PathLike] = None,
             platform: Optional[str] = None,
             context: Optional[Context] = None) -> Dict[str, Any]:
        """Runs ``tailscale <args>`` in the VM: {"exit_code","signal","timed_out","cancelled",
        "out","err"}."""
        ctx = context or default_context()
        result: Dict[str, Any] = _devx.mesh_exec(
            ctx._native, _vm_json(provider, name, project_dir, False, platform), list(args),
            stdin)
        return result


mesh = _Mesh()


class _Sites:
    """``devx.sites``: a repository's GitHub Pages site on <name>.<domain> with its Cloudflare
    DNS record. ``init`` and ``verify`` need ``assume_yes`` (else ``PromptRequiredError`` whose
    details hold {"confirm","plan"}); a dry-run context returns the plan."""

    @staticmethod
    def init(domain: str, *, zone: Optional[str] = None, name: Optional[str] = None,
             repo: Optional[str] = None, project_dir: Optional[PathLike] = None,
             cloudflare: Optional[CloudflareSettings] = None, assume_yes: bool = False,
             context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.sites_init(ctx._native, _options(
            domain=domain, zone=zone, name=name, repo=repo,
            project_dir=_optional_path(project_dir), cloudflare=cloudflare,
            assume_yes=assume_yes or None)))

    @staticmethod
    def verify(domain: str, *, txt_value: Optional[str] = None, txt_name: Optional[str] = None,
               zone: Optional[str] = None, repo: Optional[str] = None,
               project_dir: Optional[PathLike] = None,
               cloudflare: Optional[CloudflareSettings] = None, assume_yes: bool = False,
               context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.sites_verify(ctx._native, _options(
            domain=domain, txt_value=txt_value, txt_name=txt_name, zone=zone, repo=repo,
            project_dir=_optional_path(project_dir), cloudflare=cloudflare,
            assume_yes=assume_yes or None)))

    @staticmethod
    def status(*, repo: Optional[str] = None, project_dir: Optional[PathLike] = None,
               cloudflare: Optional[CloudflareSettings] = None,
               context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.sites_status(ctx._native, _options(
            repo=repo, project_dir=_optional_path(project_dir), cloudflare=cloudflare)))


sites = _Sites()


class _Webhook:
    """``devx.webhook``: a local receiver recording every request (DEVX_HOME/webhooks/*.jsonl,
    0600), its sessions, and replay."""

    @staticmethod
    def catch(*, port: Optional[int] = None, bind: Optional[str] = None,
              session: Optional[str] = None, reply_status: Optional[int] = None,
              reply_body: Optional[str] = None, body_limit: Optional[int] = None,
              expose: Optional[bool] = None, cloudflared: Optional[str] = None,
              expose_timeout_ms: Optional[int] = None,
              context: Optional[Context] = None) -> ServiceOperation:
        """Serves until cancelled; state "listening" carries {"url","port","session","file"},
        a progress event per request carries its record."""
        ctx = context or default_context()
        native = _devx.webhook_catch(ctx._native, _options(
            port=port, bind=bind, session=session, reply_status=reply_status,
            reply_body=reply_body, body_limit=body_limit, expose=expose,
            cloudflared=cloudflared, expose_timeout_ms=expose_timeout_ms))
        return ServiceOperation(native, ctx, _result_dict)

    @staticmethod
    def list(session: Optional[str] = None, *,
             context: Optional[Context] = None) -> Dict[str, Any]:
        """{"sessions":[…]}, or {"session","requests":[record…]} of one session."""
        ctx = context or default_context()
        return _json_dict(_devx.webhook_list(ctx._native, session or ""))

    @staticmethod
    def replay(id: str, to_url: str, *, context: Optional[Context] = None) -> Dict[str, Any]:
        """Re-sends request ``id`` ("<session>.<seq>" or "<seq>") to ``to_url``."""
        ctx = context or default_context()
        return _json_dict(_devx.webhook_replay(ctx._native, id, to_url))


webhook = _Webhook()


class _Mail:
    """``devx.mail``: a local SMTP catcher with a JSON/HTTP view, and its stored messages."""

    @staticmethod
    def catcher(*, instance: Optional[str] = None, bind: Optional[str] = None,
                smtp_port: Optional[int] = None, http_port: Optional[int] = None,
                max_message_size: Optional[int] = None, hostname: Optional[str] = None,
                context: Optional[Context] = None) -> ServiceOperation:
        """Serves SMTP and HTTP until cancelled; state "listening" carries the ports and env."""
        ctx = context or default_context()
        native = _devx.mail_catcher(ctx._native, _options(
            instance=instance, bind=bind, smtp_port=smtp_port, http_port=http_port,
            max_message_size=max_message_size, hostname=hostname))
        return ServiceOperation(native, ctx, _result_dict)

    @staticmethod
    def instances(*, context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.mail_instances(ctx._native))

    @staticmethod
    def messages(instance: str = "default", *,
                 context: Optional[Context] = None) -> Dict[str, Any]:
        """{"instance","messages":[…]}, newest first."""
        ctx = context or default_context()
        return _json_dict(_devx.mail_messages(ctx._native, instance))

    @staticmethod
    def message(id: str, *, instance: str = "default",
                context: Optional[Context] = None) -> Dict[str, Any]:
        ctx = context or default_context()
        return _json_dict(_devx.mail_message(ctx._native, instance, id))

    @staticmethod
    def raw(id: str, *, instance: str = "default", context: Optional[Context] = None) -> bytes:
        """The message source as received."""
        ctx = context or default_context()
        return bytes(_devx.mail_message_raw(ctx._native, instance, id))

    @staticmethod
    def delete(id: Optional[str] = None, *, instance: str = "default",
               context: Optional[Context] = None) -> Dict[str, Any]:
        """Deletes message ``id`` (None: all): {"instance","deleted":[…]}."""
        ctx = context or default_context()
        return _json_dict(_devx.mail_delete(ctx._native, instance, id or ""))

    @staticmethod
    def environment(instance: str = "default", *,
                    context: Optional[Context] = None) -> Dict[str, str]:
        """SMTP_HOST, SMTP_PORT, MAIL_CATCHER_URL of the running catcher ({} when none runs)."""
        ctx = context or default_context()
        return dict(_devx.mail_environment(ctx._native, instance))


mail = _Mail()


# ---- project configuration ----------------------------------------------------------------------


def load(path: PathLike = ".", profile: Optional[str] = None, *,
         user: Optional[str] = None) -> Project:
    """Loads and validates a devx.yaml (a file, or a directory searched upwards).
    Raises ``ConfigError`` (with diagnostics) or ``ConfigNotFoundError``."""
    return _devx.load_project(os.fspath(path), profile, user)


async def load_async(path: PathLike = ".", profile: Optional[str] = None, *,
                     context: Optional[Context] = None, user: Optional[str] = None,
                     on_event: Optional[Callable[[Event], None]] = None) -> Project:
    """``load`` on a context thread, awaited through the context's event fd."""
    op = (context or default_context()).start_load(path, profile, user=user)
    return await op.result_async(on_event)


def load_start(path: PathLike = ".", profile: Optional[str] = None, *,
               context: Optional[Context] = None,
               user: Optional[str] = None) -> Operation[Project]:
    """Starts a load and returns its ``Operation`` at once."""
    return (context or default_context()).start_load(path, profile, user=user)


def validate(path: PathLike = ".", profile: Optional[str] = None, *,
             user: Optional[str] = None) -> List[Diagnostic]:
    """Every diagnostic (errors and warnings, sorted by file, line, column) without raising for
    configuration problems. Raises ``ConfigNotFoundError`` when there is no devx.yaml."""
    return list(_devx.validate(os.fspath(path), profile, user))


def find_project(start: PathLike = ".") -> Path:
    """The devx.yaml found by walking up from ``start``; raises ``ConfigNotFoundError``."""
    return Path(_devx.find_project(os.fspath(start)))


def config_schema() -> str:
    """The JSON Schema of devx.yaml (the document in docs/schemas/devx.schema.json)."""
    return str(_devx.config_schema())


def _project_to_dict(self: Project) -> Dict[str, Any]:
    result: Dict[str, Any] = json.loads(self.to_json())
    return result


# Idiomatic entry points on the Project class itself.
Project.load = staticmethod(load)  # type: ignore[attr-defined]
Project.load_async = staticmethod(load_async)  # type: ignore[attr-defined]
Project.load_start = staticmethod(load_start)  # type: ignore[attr-defined]
Project.validate = staticmethod(validate)  # type: ignore[attr-defined]
Project.find = staticmethod(find_project)  # type: ignore[attr-defined]
Project.to_dict = _project_to_dict  # type: ignore[attr-defined]

for _cls in (Project, Service, Dependency, HealthCheck, Database, Tunnel, Mock, Diagnostic, Event,
             SourceLocation, RestartPolicy, SyncMapping, BridgeTarget, BridgeIntercept,
             DatabasePull, CommandList, PipelineStage, Pipeline, BridgeConfig, UiTest,
             ServiceStatus):
    _cls.__module__ = __name__

__all__ = [
    "version", "abi_version", "Error", "ConfigError", "ConfigInvalidError", "error_class",
    "Context", "Operation", "default_context", "load", "load_async", "load_start", "validate",
    "find_project", "config_schema", "Project", "Service", "Dependency", "HealthCheck",
    "RestartPolicy", "SyncMapping", "BridgeTarget", "BridgeIntercept", "Database",
    "DatabasePull", "Tunnel", "Mock", "CommandList", "PipelineStage", "Pipeline", "BridgeConfig",
    "UiTest", "Diagnostic", "SourceLocation", "Event", "Session", "ServiceStatus", "up", "plan",
    "bridge", "BridgeSession", "KubeSettings", "BridgeTargetSpec", "BridgePortMapping",
    "butane", "vm", "VmTunnel", "VmSleepWatch", "doctor", "nuke", "CloudflareSettings",
    "ServiceOperation", "tunnel", "EdgeProxy", "edge", "mesh", "sites", "webhook", "mail",
] + sorted(_class_name(code) for code in _ERROR_CLASSES if code != "config_invalid")
