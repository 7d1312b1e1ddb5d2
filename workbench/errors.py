"""Typed errors of the workbench.

Every error a user can meet derives from :class:`WorkbenchError`, and also from
the matching built-in exception, so that ``except PermissionError`` works too::

    >>> from workbench.errors import AccessDenied
    >>> try:
    ...     raise AccessDenied("no active agreement covers camera CAM-1")
    ... except PermissionError as exc:
    ...     print(exc)
    no active agreement covers camera CAM-1

Messages speak the investigator's language: what was refused or wrong, and
what to do about it, never a library's traceback.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base of every error raised on purpose by the workbench."""


class ConfigurationError(WorkbenchError, ValueError):
    """A setting (environment variable, option, file) is missing or invalid."""


class StoreError(WorkbenchError, RuntimeError):
    """The catalogue database cannot be reached, migrated or written."""


class PartitionError(StoreError):
    """A day's partition of the plate reads is missing or detached where the data needs it (PostgreSQL)."""


class StorageFull(StoreError, OSError):
    """The catalogue's disk (or its size limit) is full: the transaction was rolled back."""


class NotFound(WorkbenchError, LookupError):
    """A user, case, camera, segment or other named thing does not exist."""


class AccessDenied(WorkbenchError, PermissionError):
    """The user may not do this; the message says which rule refused it."""


class InvalidInput(WorkbenchError, ValueError):
    """A query, file or value is malformed; the message says what and where."""


class IngestError(InvalidInput):
    """A file or record could not be ingested; the rest of the batch goes on."""


class FootageError(WorkbenchError, OSError):
    """A video file is missing, truncated, corrupt or of an unsupported kind."""


class AuditChainBroken(WorkbenchError, RuntimeError):
    """The audit trail does not verify; the message names the first bad event."""


class EvidenceError(WorkbenchError, RuntimeError):
    """An evidence package does not verify against its manifest."""


class ServiceUnavailable(WorkbenchError, ConnectionError):
    """The workbench service (or the hub that vouches for tokens) cannot be reached or did not answer in time."""
