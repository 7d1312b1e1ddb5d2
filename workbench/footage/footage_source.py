"""Where an index worker gets a segment's footage: the archive here, or the workbench service over HTTP.

Both give the worker a local file to decode for the time of the task. On a
cluster the workers share no folder with the archive: :class:`ServedFootage`
fetches the bytes from the service (``GET /api/footage/<segment>`` with the
worker credential, which the service checks and audits), into a temporary
file checked against the catalogue's SHA-256 and removed afterwards.

    >>> source = ArchiveFootage(settings.footage_dir)                      # embedded
    >>> source = ServedFootage("https://workbench.example", worker_token)  # doctest: +SKIP
    >>> with source.local_file(segment_id, "CCTV-PZ5339-001/x.mp4", sha256) as path:   # doctest: +SKIP
    ...     index_video(path)
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from workbench.errors import AccessDenied, FootageError, NotFound, ServiceUnavailable


class FootageSource(Protocol):
    """Gives a worker a readable local file of a segment for the time of a ``with`` block."""

    def local_file(self, segment_id: int, relative: str, sha256: str) -> AbstractContextManager[Path]: ...


@dataclass(frozen=True)
class ArchiveFootage:
    """The footage archive of this machine (the embedded default): the file itself, not copied."""

    footage_dir: Path

    @contextmanager
    def local_file(self, segment_id: int, relative: str, sha256: str) -> Iterator[Path]:
        path = Path(self.footage_dir) / relative
        if not path.is_file():
            raise FootageError(f"segment {segment_id}: its file {relative} is missing from the archive")
        yield path


@dataclass(frozen=True)
class ServedFootage:
    """The workbench service's footage, fetched with an index worker's credential."""

    url: str
    token: str = field(repr=False)
    timeout_s: float = 120.0

    @contextmanager
    def local_file(self, segment_id: int, relative: str, sha256: str) -> Iterator[Path]:
        import httpx

        suffix = Path(relative).suffix
        with tempfile.NamedTemporaryFile(prefix=f"wb-segment-{segment_id}-", suffix=suffix) as out:
            digest = hashlib.sha256()
            try:
                with httpx.stream("GET", f"{self.url.rstrip('/')}/api/footage/{segment_id}",
                                  headers={"Authorization": f"token {self.token}"}, timeout=self.timeout_s) as reply:
                    if reply.status_code != 200:
                        reply.read()
                        raise _refusal(segment_id, reply)
                    for chunk in reply.iter_bytes(2**20):
                        digest.update(chunk)
                        out.write(chunk)
            except httpx.HTTPError as exc:
                raise ServiceUnavailable(f"the workbench service at {self.url} could not send segment "
                                         f"{segment_id}: {exc}") from None
            out.flush()
            if digest.hexdigest() != sha256:
                raise FootageError(f"segment {segment_id}: the bytes received do not match the archive's "
                                   "SHA-256 (cut short or altered on the way)")
            yield Path(out.name)


def _refusal(segment_id: int, reply) -> Exception:  # type: ignore[no-untyped-def]
    try:
        message = str(reply.json().get("message", reply.text))
    except ValueError:
        message = reply.text[:300]
    if reply.status_code in (401, 403):
        return AccessDenied(f"the workbench service refused the index worker segment {segment_id}: {message}")
    if reply.status_code == 404:
        return NotFound(f"the workbench service has no segment {segment_id}: {message}")
    return ServiceUnavailable(f"the workbench service answered {reply.status_code} for segment {segment_id}: "
                              f"{message}")
