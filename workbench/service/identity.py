"""Who is calling the service: the user's JupyterHub token, checked by the hub (or a token table).

In a deployment the service is a JupyterHub service: every request carries the
user's hub token (``Authorization: token ...``) and :class:`HubTokens` asks the
hub who it belongs to with JupyterHub's own helper (``HubAuth``), requiring
the scope ``access:services!service=<name>``. The identity never comes from
the caller's environment (``WORKBENCH_USER``, ``JUPYTERHUB_USER``) or body.

Without a hub (tests, a demo on one machine) :class:`TokenTable` reads a file
owned by the service (mode 0600) mapping each token's SHA-256 to a user and
an optional expiry; :func:`issue_token` adds one.

    >>> token = issue_token(Path("/srv/workbench/tokens.json"), "inspector.dupont", days=1)  # doctest: +SKIP
    >>> await TokenTable(Path("/srv/workbench/tokens.json")).identify(token)                # doctest: +SKIP
    'inspector.dupont'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from workbench.errors import AccessDenied, ConfigurationError, ServiceUnavailable

_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{16,512}")


class Identities(Protocol):
    """Turns a bearer token into a workbench user name, or refuses it (AccessDenied)."""

    async def identify(self, token: str) -> str: ...


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is kept and audited; the token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_shape(token: str) -> None:
    """Refuse a token that cannot be one (empty, too short or long, spaces, control characters)."""
    if not _TOKEN.fullmatch(token):
        raise AccessDenied("the token is malformed: a workbench or JupyterHub token is 16 to 512 characters of "
                           "letters, digits and ._~+/=-")


class TokenTable:
    """Tokens of the service itself: ``{"<sha256>": {"user": "...", "expires": "ISO time or null"}}``."""

    def __init__(self, path: Path, *, clock=lambda: datetime.now(UTC)) -> None:  # type: ignore[no-untyped-def]
        self.path = Path(path)
        self.clock = clock
        self._entries = _read_table(self.path)
        self._mtime = self.path.stat().st_mtime_ns

    async def identify(self, token: str) -> str:
        check_shape(token)
        if self.path.stat().st_mtime_ns != self._mtime:   # tokens issued or revoked since: read again
            self._entries, self._mtime = _read_table(self.path), self.path.stat().st_mtime_ns
        entry = self._entries.get(token_hash(token))
        if entry is None:
            raise AccessDenied("the service does not know this token (revoked or never issued)")
        expires = entry.get("expires")
        if expires and datetime.fromisoformat(expires) <= self.clock():
            raise AccessDenied(f"the token expired on {expires}: ask for a new one")
        return str(entry["user"])


def _read_table(path: Path) -> dict[str, dict]:
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigurationError(f"the token table {path} cannot be read: {exc.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"the token table {path} is readable by others (mode "
                                 f"{stat.filemode(info.st_mode)}): chmod 600 it, as the service's own user")
    try:
        table = json.loads(path.read_text(encoding="utf-8") or "{}")
    except ValueError:
        raise ConfigurationError(f"the token table {path} is not JSON") from None
    if not isinstance(table, dict) or not all(isinstance(v, dict) and "user" in v for v in table.values()):
        raise ConfigurationError(f"the token table {path} maps token SHA-256 to {{'user': ..., 'expires': ...}}")
    return table


def issue_token(path: Path, user: str, *, days: float | None = None,
                now: datetime | None = None) -> str:
    """Create a token for ``user`` in the table at ``path`` (created mode 0600); returns the token, shown once."""
    path = Path(path)
    table = _read_table(path) if path.exists() else {}
    token = secrets.token_urlsafe(32)
    expires = None if days is None else ((now or datetime.now(UTC)) + timedelta(days=days)).isoformat()
    table[token_hash(token)] = {"user": user, "expires": expires}
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(table, out, indent=1)
    os.replace(path.with_suffix(".tmp"), path)
    return token


class HubTokens:
    """Tokens checked by JupyterHub (``HubAuth.user_for_token``), with the service's access scope required."""

    def __init__(self, api_url: str, api_token: str, service_name: str = "workbench", *,
                 cache_max_age: int = 60) -> None:
        from jupyterhub.services.auth import HubAuth

        self.scopes = {f"access:services!service={service_name}"}
        self.auth = HubAuth(api_url=api_url, api_token=api_token, access_scopes=self.scopes,
                            cache_max_age=cache_max_age)

    async def identify(self, token: str) -> str:
        from tornado.web import HTTPError

        check_shape(token)
        try:
            model = await self.auth.user_for_token(token, sync=False)
        except HTTPError as exc:
            raise ServiceUnavailable(f"JupyterHub could not check the token: {exc.log_message}") from None
        if not model:
            raise AccessDenied("JupyterHub does not know this token (expired, revoked or never issued)")
        if model.get("kind", "user") != "user":
            raise AccessDenied("the token belongs to a service, not to a user")
        if not self.auth.check_scopes(self.scopes, model):
            raise AccessDenied(f"the token does not grant access to the workbench service "
                               f"(scope {next(iter(self.scopes))})")
        return str(model["name"])


def identities_from(settings) -> Identities:  # type: ignore[no-untyped-def]
    """The hub when the service runs under JupyterHub, else the service's token table."""
    if settings.hub_api_url and settings.api_token:
        return HubTokens(settings.hub_api_url, settings.api_token, settings.service_name)
    if settings.service_tokens:
        return TokenTable(settings.service_tokens)
    raise ConfigurationError("the service needs a JupyterHub (JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN, set by "
                             "the hub for its services) or a token table (WORKBENCH_SERVICE_TOKENS)")
