"""The workbench service: the facade served over HTTP to users identified by their hub token.

The service process alone holds the catalogue's URL and credentials, the
footage archive, the indexes and the evidence store. A user's kernel reaches
the data only through it::

    POST /api/call     Authorization: token <JupyterHub token>
                       body: a wire message {"target": "session"|"case", "case": {...}, "method": ..., "args", "kwargs"}
                       reply: the method's result as a wire message (Arrow IPC tables, PNG frames, package files)
    GET  /api/evidence/<case>/<package>/<file>   a file of a package the caller exported, streamed
    GET  /api/footage/<segment>   for an index worker of the cluster (a worker token, WORKBENCH_WORKER_TOKENS):
                       the segment's archived file, streamed; every fetch audited (index-footage-read)
    GET  /api/health   whether the service is up (no data, no identity)

The user is whoever the token belongs to (``identity``); for every call the
service logs that user in (a session kept a minute at most) and, for a case
method, opens the case again for that user and purpose (``reopen_case``: the
checks of ``open_case``, refusals audited; the opening itself was audited when
the client opened the case), so nothing the caller sends can speak for another
user, partner or case. A method is served only if
:mod:`workbench.service.registry` names it, with its arguments bound to the
embedded signature. Errors come back as ``{"error": <class>, "message": ...}``
and are raised again on the client as the same :mod:`workbench.errors` class.
Refusals of the service itself (no or bad token, malformed or oversized
request, a method not served) are written to the audit trail.

    >>> app = create_app(Settings.from_env())                         # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8765)                 # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from workbench import __version__
from workbench.access import CaseScope, UserSession, call_snapshot
from workbench.access.admin import AdminSession
from workbench.access.audit import Actor, record
from workbench.access.session import Clock, _utcnow
from workbench.config import Settings
from workbench.errors import AccessDenied, InvalidInput, NotFound, ServiceUnavailable, StoreError, WorkbenchError
from workbench.evidence.package import MANIFEST, EvidencePackage
from workbench.service import registry, wire
from workbench.service.identity import Identities, TokenTable, identities_from, token_hash
from workbench.service.throttle import RefusalThrottle
from workbench.store import counters
from workbench.store.models import FootageSegment
from workbench.workspace import open_workspace

log = logging.getLogger("workbench.service")
SERVICE_ACTION = "service-request"   # the audit action of a request the service itself refuses
SERVED_MARK = "served-by-service.json"   # in the home: written by `workbench serve`
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_STATUS = [(ServiceUnavailable, 503), (StoreError, 503), (AccessDenied, 403), (NotFound, 404), (InvalidInput, 400)]


@dataclass(frozen=True)
class Limits:
    """How much the service accepts from one request, and how long it waits for it."""

    max_request_bytes: int = 16 * 2**20
    body_timeout_s: float = 30.0
    session_ttl_s: float = 60.0
    threads: int = 8
    call_timeout_s: float = 300.0      # a call still running then is answered 504 (and abandoned)
    refused_burst: int = 20            # refused tokens per address audited one by one before 429s
    refused_per_minute: float = 12.0   # how fast that allowance comes back
    summary_window_s: float = 60.0     # requests held back (429) are audited as one event per address and window
    accepted_memory_s: float = 3600.0  # a token accepted this recently is never held back


class _HeldBack(Exception):
    """A request from an address that sent too many refused tokens: answered 429, counted, not checked."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        error = AccessDenied(f"too many requests with a refused token from this address: wait {self.retry_after} s "
                             "and use your own JupyterHub token (these requests are counted in the audit trail)")
        reply = error_response(error, 429)
        reply.headers["Retry-After"] = str(self.retry_after)
        return reply


class _Refusal(Exception):
    """A request the service refuses before any facade method runs (audited, then answered)."""

    def __init__(self, error: WorkbenchError, status: int, audit_reason: str | None = None,
                 outcome: str = "denied") -> None:
        super().__init__(str(error))
        self.error, self.status, self.audit_reason = error, status, audit_reason or str(error)
        self.outcome = outcome


def mark_served(home: Path, address: str, now: datetime) -> Path:
    """Note in the service's home that a service serves it: administration then refuses to bypass the service."""
    mark = home / SERVED_MARK
    mark.write_text(json.dumps({"address": address, "since": now.isoformat()}), encoding="utf-8")
    return mark


def served_by(home: Path) -> str | None:
    """The address of the service that serves ``home`` (None when no service ever served it)."""
    try:
        return str(json.loads((home / SERVED_MARK).read_text(encoding="utf-8"))["address"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return "(unreadable mark)"


def error_response(error: WorkbenchError, status: int | None = None) -> JSONResponse:
    """The JSON body the client turns back into the same :mod:`workbench.errors` class."""
    if status is None:
        status = next((code for cls, code in _STATUS if isinstance(error, cls)), 422)
    return JSONResponse({"error": type(error).__name__, "message": str(error)}, status_code=status)


class Service:
    """The workspace, the identities and the short-lived sessions behind the routes."""

    def __init__(self, settings: Settings, identities: Identities, clock: Clock, limits: Limits) -> None:
        self.workspace = open_workspace(settings, clock=clock)
        self.identities = identities
        self.workers: Identities | None = TokenTable(settings.worker_tokens) if settings.worker_tokens else None
        self.limits = limits
        self.limiter = anyio.CapacityLimiter(limits.threads)
        self._sessions: dict[str, tuple[float, UserSession, int]] = {}   # name: (when, session, rules' counter)
        self._lock = threading.Lock()
        self.throttle = RefusalThrottle(limits.refused_burst, limits.refused_per_minute, limits.summary_window_s)
        self._accepted: dict[str, float] = {}   # token SHA-256 -> when last accepted (never held back)

    # -- identity ----------------------------------------------------------------------------------
    async def user_of(self, request: Request, identities: Identities | None = None) -> str:
        """The token's user; refusals cost the caller's address (:class:`RefusalThrottle`), a flood gets 429."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        digest = token_hash(token) if token else ""
        address = request.client.host if request.client else "(unknown address)"
        now = time.monotonic()
        if now - self._accepted.get(digest, -1e18) > self.limits.accepted_memory_s \
                and not self.throttle.allows(address):
            raise _HeldBack(self.throttle.retry_after(address))
        try:
            if not header:
                raise _Refusal(AccessDenied("no token: the workbench service answers only calls that carry the "
                                            "user's JupyterHub token (Authorization: token ...)"), 401)
            if scheme.lower() not in ("token", "bearer") or not token:
                raise _Refusal(AccessDenied("the Authorization header is malformed: expected 'token <JupyterHub "
                                            "token>'"), 401)
            try:
                user = await (identities or self.identities).identify(token)
            except AccessDenied as exc:
                raise _Refusal(AccessDenied(f"the workbench service did not accept the token: {exc}"), 401,
                               f"{exc} (token SHA-256 {digest[:12]}...)") from None
        except _Refusal:
            self.throttle.refused(address)
            raise
        if len(self._accepted) > 100_000:   # bounded: forget the oldest half
            for old in sorted(self._accepted, key=self._accepted.__getitem__)[:50_000]:
                del self._accepted[old]
        self._accepted[digest] = now
        return user

    def summarise_held_back(self, *, force: bool = False) -> None:
        """One audit event per address for the requests held back (429) since the last summary."""
        for address, count in self.throttle.held_back(force=force):
            self.refuse(None, f"{count} requests from {address} held back unread (429): too many refused tokens "
                              f"from that address within {self.limits.summary_window_s:g} s",
                        {"address": address, "held_back": count})

    async def run_call(self, user: str, call: dict[str, Any]) -> bytes:
        """The call's answer from the thread pool; one still running after the time limit is answered, abandoned."""
        try:
            with anyio.fail_after(self.limits.call_timeout_s):
                return await anyio.to_thread.run_sync(self.answer, user, call, limiter=self.limiter,
                                                      abandon_on_cancel=True)
        except TimeoutError:
            raise _Refusal(ServiceUnavailable(
                f"the call {call['method']}() ran longer than the service allows ({self.limits.call_timeout_s:g} "
                "s) and was abandoned: ask for less at a time (a shorter window, fewer cameras) or try again "
                "later"), 504, f"{call['method']}() stopped after {self.limits.call_timeout_s:g} s",
                "error") from None

    def session_for(self, name: str) -> UserSession:
        """The user's session: logged in (audited) again once a minute, and at once when the access rule's tables
        changed since (the rules' counter moved: an account switched off, a role changed). The counter is the
        call's own reading (:func:`~workbench.access.call_snapshot.one_reading`), shared with its other steps."""
        now = time.monotonic()
        rules = call_snapshot.counter(self.workspace.store, counters.RULES)   # 0: no counter, nothing kept
        with self._lock:
            cached = self._sessions.get(name)
            if cached and rules and cached[2] == rules and now - cached[0] < self.limits.session_ttl_s:
                return cached[1]
        session = self.workspace.login(name)
        with self._lock:
            self._sessions[name] = (now, session, rules)
        return session

    # -- calls -------------------------------------------------------------------------------------
    def dispatch(self, user: str, call: dict[str, Any]) -> Any:
        """Run one call, checked against the registry, as ``user``: the session or a case opened again for it."""
        target, method = call["target"], call["method"]
        if target == "workspace" and method == "login":
            with self._lock:
                self._sessions.pop(user, None)
            return self.session_for(user).user
        me = self.session_for(user)
        if target == "case":
            case = call.get("case")
            if not isinstance(case, dict) or not isinstance(case.get("reference"), str) \
                    or not isinstance(case.get("purpose"), str):
                raise InvalidInput("a case call names the case's reference and purpose")
            subject: Any = me.reopen_case(case["reference"], purpose=case["purpose"],
                                          legal_basis=case.get("legal_basis"))
        elif target == "admin":
            subject = me.admin()   # administrators only; refusals and sessions audited
        else:
            subject = me
        result = getattr(subject, method)(*call["args"], **call["kwargs"])
        return self._plain(result)

    def answer(self, user: str, call: dict[str, Any]) -> bytes:
        """The wire message of a call's result (run and encoded in one worker thread); the catalogue's counters
        are read once for all the steps of the call."""
        with call_snapshot.one_reading(self.workspace.store):
            result = self.dispatch(user, call)
        return wire.encode(result)

    @staticmethod
    def _plain(result: Any) -> Any:
        """Results as plain data: an opened case as its CaseInfo, a package as its files."""
        if isinstance(result, CaseScope):
            return result.info
        if isinstance(result, AdminSession):
            return {"admin_session": result.user.name}
        if isinstance(result, EvidencePackage):   # its files are fetched one by one, streamed (evidence_file)
            return {"evidence_package": result.folder.name, "manifest": result.manifest,
                    "manifest_sha256": result.manifest_sha256,
                    "files": sorted(p.name for p in result.folder.iterdir() if p.is_file())}
        return result

    def evidence_file(self, user: str, reference: str, package: str, name: str) -> Path:
        """A file of a package ``user`` exported for ``reference``, while still a member of the open case."""
        if not all(_SAFE_NAME.fullmatch(part) for part in (reference, package, name)):
            raise InvalidInput("an evidence file is named by its case, package and file name, without paths")
        folder = self.workspace.settings.evidence_dir / reference / package
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            case, exporter, items = manifest["case"], manifest["exported_by"]["user"], manifest["items"]
        except (OSError, ValueError, KeyError, TypeError):
            raise NotFound(f"no evidence package {package!r} of case {reference!r}") from None
        if case.get("reference") != reference or exporter != user:
            raise AccessDenied(f"the package {package} was exported by {exporter}: only they download it")
        with call_snapshot.one_reading(self.workspace.store):   # still a member, case open
            self.session_for(user).reopen_case(reference, purpose=case["purpose"])
        path = folder / name
        if not isinstance(items, list) or not path.is_file() or path.is_symlink():
            raise NotFound(f"{name!r} is not a file of the package {package}")
        return path

    async def worker_of(self, request: Request) -> str:
        """The index worker a request comes from (``worker:<name>``), by its token in the worker table."""
        if self.workers is None:
            raise _Refusal(AccessDenied("this service serves no index workers (WORKBENCH_WORKER_TOKENS is not set)"),
                           403)
        return f"worker:{await self.user_of(request, self.workers)}"

    def footage_file(self, worker: str, segment_id: int) -> Path:
        """The archived file of a segment for an index worker; the fetch is audited before it is answered."""
        with self.workspace.store.snapshot() as session:
            segment = session.get(FootageSegment, segment_id)
            facts = None if segment is None else (segment.camera_id, segment.path, segment.sha256)
        if facts is None:
            raise NotFound(f"no footage segment {segment_id} in the archive")
        path = self.workspace.settings.footage_dir / facts[1]
        if not path.is_file():
            raise NotFound(f"the file of segment {segment_id} is missing from the archive")
        record(self.workspace.store, Actor(worker), "index-footage-read", time=self.workspace.now(),
               resource={"segment": segment_id, "camera": facts[0], "sha256": facts[2]}, result_count=1)
        return path

    def refuse(self, user: str | None, reason: str, resource: dict[str, Any], outcome: str = "denied") -> None:
        """Write a refusal of the service itself (or a call it cut off: ``error``) to the audit trail."""
        try:
            record(self.workspace.store, Actor(user or "unauthenticated"), SERVICE_ACTION,
                   time=self.workspace.now(), outcome=outcome, reason=reason[:500], resource=resource)
        except WorkbenchError:
            log.exception("could not audit a refused request")

    async def read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        limit = self.limits.max_request_bytes
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise _Refusal(InvalidInput(f"the request is larger than the service accepts ({limit // 2**20} MiB): "
                                        "ask for less at a time"), 413)
        chunks, size = [], 0

        async def receive_all() -> None:
            nonlocal size
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _Refusal(InvalidInput(f"the request is larger than the service accepts "
                                                f"({limit // 2**20} MiB): ask for less at a time"), 413)
                chunks.append(chunk)

        try:
            await asyncio.wait_for(receive_all(), self.limits.body_timeout_s)
        except TimeoutError:
            raise _Refusal(InvalidInput(f"the request did not arrive within {self.limits.body_timeout_s:g} s: "
                                        "the connection is too slow"), 408) from None
        except ClientDisconnect:
            raise _Refusal(InvalidInput("the client went away before its request arrived"), 400) from None
        return b"".join(chunks)


def _parse_call(body: bytes) -> dict[str, Any]:
    call = wire.decode(body)
    if not isinstance(call, dict) or not {"target", "method", "args", "kwargs"} <= set(call):
        raise InvalidInput("a call names its target, method, args and kwargs")
    if not isinstance(call["args"], tuple) or not isinstance(call["kwargs"], dict):
        raise InvalidInput("a call's arguments are a tuple and a mapping of names")
    return call


def _check(call: dict[str, Any], user: str) -> None:
    """Refuse a call the registry does not serve, or a login under another name than the token's."""
    if call["target"] != "workspace":
        try:
            registry.check_call(call["target"], call["method"], call["args"], call["kwargs"])
        except InvalidInput as exc:
            raise _Refusal(exc, 400) from None
        return
    if call["method"] != "login" or call["args"] or set(call["kwargs"]) - {"name"}:
        raise _Refusal(InvalidInput("the workspace serves login(), and only that, through the service"), 400)
    name = call["kwargs"].get("name")
    if name is not None and name != user:
        raise _Refusal(AccessDenied(f"the token belongs to {user}: in a deployment you cannot log in as {name!r} "
                                    "(login() takes no name there: the hub token says who you are)"), 403)


def _file_route(service: Service, pattern: str, identify: Callable[[Request], Awaitable[str]],
                find: Callable[[str, dict[str, Any]], Path]) -> Route:
    """A route streaming the file ``find(caller, path_params)`` to the caller ``identify`` names; refusals audited."""
    async def serve(request: Request) -> Response:
        caller: str | None = None
        resource = {"path": request.url.path[:300]}
        try:
            caller = await identify(request)
            path = await anyio.to_thread.run_sync(find, caller, request.path_params, limiter=service.limiter)
        except _HeldBack as held:
            return held.response()
        except _Refusal as refusal:
            await anyio.to_thread.run_sync(service.refuse, caller, refusal.audit_reason, resource)
            return error_response(refusal.error, refusal.status)
        except (AccessDenied, InvalidInput, NotFound) as exc:
            await anyio.to_thread.run_sync(service.refuse, caller, str(exc), resource)
            return error_response(exc)
        except WorkbenchError as exc:
            return error_response(exc)
        return FileResponse(path, media_type="application/octet-stream")

    return Route(pattern, serve)


def _route_evidence(service: Service) -> Route:
    return _file_route(service, "/api/evidence/{reference}/{package}/{name}", service.user_of,
                       lambda user, p: service.evidence_file(user, p["reference"], p["package"], p["name"]))


def _route_footage(service: Service) -> Route:
    return _file_route(service, "/api/footage/{segment_id:int}", service.worker_of,
                       lambda worker, p: service.footage_file(worker, p["segment_id"]))


def create_app(settings: Settings, *, identities: Identities | None = None, clock: Clock | None = None,
               limits: Limits = Limits()) -> Starlette:
    """The ASGI application of the service (run it with uvicorn, or ``workbench serve``)."""
    service = Service(settings, identities or identities_from(settings), clock or _utcnow, limits)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"service": "workbench", "version": __version__})

    async def call(request: Request) -> Response:
        user: str | None = None
        resource: dict[str, Any] = {"path": request.url.path}
        try:
            user = await service.user_of(request)
            body = await service.read_body(request)
            try:
                parsed = _parse_call(body)
            except InvalidInput as exc:
                raise _Refusal(exc, 400) from None
            resource.update(target=str(parsed["target"])[:40], method=str(parsed["method"])[:80])
            _check(parsed, user)
            payload = await service.run_call(user, parsed)
        except _HeldBack as held:
            return held.response()
        except _Refusal as refusal:
            await anyio.to_thread.run_sync(service.refuse, user, refusal.audit_reason, resource, refusal.outcome)
            return error_response(refusal.error, refusal.status)
        except WorkbenchError as exc:   # the facade has audited its own refusals and errors
            return error_response(exc)
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("internal error %s in %s", incident, resource)
            return error_response(WorkbenchError(f"the workbench service met an internal error (incident "
                                                 f"{incident}); the administrators can find it in its log"), 500)
        return Response(payload, media_type=wire.MEDIA_TYPE)

    @asynccontextmanager
    async def summaries(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            async def every_window() -> None:
                while True:
                    await anyio.sleep(limits.summary_window_s)
                    await anyio.to_thread.run_sync(service.summarise_held_back)

            tasks.start_soon(every_window)
            yield
            tasks.cancel_scope.cancel()
        service.summarise_held_back(force=True)

    app = Starlette(routes=[Route("/api/health", health), Route("/api/call", call, methods=["POST"]),
                            _route_evidence(service), _route_footage(service)], lifespan=summaries)
    app.state.service = service
    return app
