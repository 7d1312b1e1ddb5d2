"""The facade as a client of the workbench service: the same methods, the same results, the same errors.

Inside a kernel spawned by JupyterHub, ``workbench.open()`` sees
``WORKBENCH_SERVICE_URL`` and returns a :class:`ClientWorkspace`: ``login()``
takes no name (the hub token says who you are), ``open_case`` returns a
:class:`ClientCase` whose methods are those of the embedded ``Case``, each a
thin proxy that sends the call to the service and decodes its result
(DataFrames and GeoDataFrames from Arrow IPC, frames from PNG, a Trajectory
whose route the service computed, an evidence package written by the service
and streamed into a local folder, ``./evidence/<case>/`` unless ``folder=``). A refusal raises the same
:mod:`workbench.errors` class with the service's reason; a service that does
not answer raises :class:`~workbench.errors.ServiceUnavailable` in words.

    >>> ws = workbench.open()     # WORKBENCH_SERVICE_URL set by the deployment   # doctest: +SKIP
    >>> me = ws.login()                            # doctest: +SKIP
    >>> case = me.open_case("PV-BR-2026-001234", purpose="judicial-investigation")   # doctest: +SKIP
    >>> case.plate_reads("1-ABC-23?")              # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from workbench import errors
from workbench.access import CaseInfo, CaseScope, UserInfo, UserSession
from workbench.access.admin import AdminSession
from workbench.access.session import OpenCase
from workbench.config import Settings
from workbench.errors import EvidenceError, ServiceUnavailable, WorkbenchError
from workbench.evidence.package import MANIFEST, EvidencePackage, PackageFiles
from workbench.footage.probe import sha256_of
from workbench.service import registry, wire
from workbench.workspace import Case, ResultsExport


def _error_from(response: httpx.Response) -> WorkbenchError:
    """The workbench error a service reply stands for (its class by name, its message as the service wrote it)."""
    try:
        body = response.json()
        name, message = str(body["error"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        return ServiceUnavailable(f"the workbench service answered HTTP {response.status_code} with no workbench "
                                  "error: a proxy or gateway may be in the way")
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, WorkbenchError)):
        cls = WorkbenchError
    return cls(message)


class Connection:
    """HTTP to the service, with the user's token on every request."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        headers = {"Authorization": f"token {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers,
                                  timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))

    def close(self) -> None:
        self._http.close()

    def call(self, target: str, method: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None,
             case: dict[str, Any] | None = None) -> Any:
        """Send one call and return its decoded result, or raise the service's error."""
        body = wire.encode({"target": target, "case": case, "method": method, "args": tuple(args),
                            "kwargs": dict(kwargs or {})})
        try:
            response = self._http.post("/api/call", content=body, headers={"Content-Type": wire.MEDIA_TYPE})
        except httpx.TimeoutException:
            raise ServiceUnavailable(f"the workbench service at {self.url} did not answer within {self.timeout:g} s; "
                                     "try again, or ask for less at a time") from None
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the workbench service at {self.url} cannot be reached "
                                     f"({type(exc).__name__}: {exc}); it may be down: tell the platform's "
                                     "administrators") from None
        if response.status_code != 200:
            raise _error_from(response)
        return wire.decode(response.content)

    def download(self, path: str, target: Path) -> Path:
        """Stream one file from the service into ``target`` (written as it arrives, never held in memory)."""
        try:
            with self._http.stream("GET", path) as response:
                if response.status_code != 200:
                    response.read()
                    raise _error_from(response)
                with open(target, "wb") as out:
                    out.writelines(response.iter_bytes(1 << 20))
        except httpx.TimeoutException:
            raise ServiceUnavailable(f"the workbench service at {self.url} stopped sending {target.name}") from None
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the workbench service at {self.url} cannot be reached "
                                     f"({type(exc).__name__}: {exc})") from None
        return target


def _serves(methods: dict[str, registry.Remote], embedded: type) -> Callable[[type], type]:
    """Give a client class one proxy per served method, with the embedded method's name, signature and doc."""
    def add(cls: type) -> type:
        for name in methods:
            def proxy(self: Any, *args: Any, _name: str = name, **kwargs: Any) -> Any:
                return self._call(_name, args, kwargs)
            setattr(cls, name, functools.wraps(getattr(embedded, name))(proxy))
        return cls
    return add


class ClientWorkspace:
    """The service, seen from a user's kernel: log in with the hub token."""

    def __init__(self, settings: Settings, *, timeout: float = 300.0) -> None:
        if not settings.service_url:
            raise errors.ConfigurationError("no workbench service address (WORKBENCH_SERVICE_URL)")
        self.settings = settings
        self.connection = Connection(settings.service_url, settings.api_token, timeout=timeout)

    def __repr__(self) -> str:
        return f"<workbench client of {self.connection.url}>"

    def login(self, name: str | None = None) -> ClientUserSession:
        """The session of the token's user; a ``name`` other than the token's is refused (and audited)."""
        user = self.connection.call("workspace", "login", kwargs={"name": name})
        return ClientUserSession(self, user)


@_serves(registry.SESSION, UserSession)
class ClientUserSession:
    """A logged-in user, served: the methods of the embedded ``UserSession``."""

    def __init__(self, workspace: ClientWorkspace, user: UserInfo) -> None:
        self.workspace = workspace
        self.user = user

    def __repr__(self) -> str:
        return f"<UserSession {self.user.name} ({self.user.role}, {self.user.partner}) via the workbench service>"

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = self.workspace.connection.call("session", name, args, kwargs)
        if name == "admin":
            return ClientAdminSession(self)
        return ClientCase(self, result) if name == "open_case" else result


@_serves(registry.ADMIN, AdminSession)
class ClientAdminSession:
    """Administration, served: the methods of the embedded ``AdminSession``; each call checked and audited there."""

    def __init__(self, user_session: ClientUserSession) -> None:
        self.workspace = user_session.workspace
        self.user = user_session.user

    def __repr__(self) -> str:
        return f"<AdminSession {self.user.name} via the workbench service>"

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self.workspace.connection.call("admin", name, args, kwargs)


@_serves(registry.CASE, Case)
class ClientCase(ResultsExport, OpenCase):
    """An open case, served: the methods of the embedded ``Case``; the service opens it again for every call."""

    def __init__(self, user_session: ClientUserSession, info: CaseInfo) -> None:
        self.order = next(CaseScope._opened)   # one count with the embedded cases (the audited kernel asks)
        self.workspace = user_session.workspace
        self.user = user_session.user
        self.info = info

    def __repr__(self) -> str:
        return f"<Case {self.info.reference} ({self.info.purpose}) opened by {self.user.name} via the service>"

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        folder = kwargs.pop("folder", None) if name == "export_clip" else None
        local = None
        if name == "verify_evidence":   # the service checks a copy of the folder the caller holds
            package = kwargs.pop("package") if "package" in kwargs else args[0] if args else ""
            local = None if isinstance(package, PackageFiles) else \
                package.folder if isinstance(package, EvidencePackage) else Path(package)
            args = (package if local is None else PackageFiles.read(local),)
        case = {"reference": self.info.reference, "purpose": self.info.purpose, "legal_basis": self.info.legal_basis}
        result = self.workspace.connection.call("case", name, args, kwargs, case=case)
        if name == "export_clip":
            return self._unpack(result, Path(folder) if folder else Path.cwd() / "evidence" / self.reference)
        if local is not None:
            result.folder = local
        return result

    def _unpack(self, package: dict[str, Any], parent: Path) -> EvidencePackage:
        """Copy a package the service wrote into ``parent``/<its name>; its manifest must hash as recorded."""
        name = Path(str(package["evidence_package"])).name
        target = parent / name
        target.mkdir(parents=True, exist_ok=False)
        for file_name in package["files"]:
            file_name = Path(str(file_name)).name
            self.workspace.connection.download(f"/api/evidence/{self.reference}/{name}/{file_name}",
                                               target / file_name)
        if sha256_of(target / MANIFEST) != package["manifest_sha256"]:
            raise EvidenceError(f"{name}: the copy of the manifest does not match the custody record")
        return EvidencePackage(target, package["manifest"], package["manifest_sha256"])

