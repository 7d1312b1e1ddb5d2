"""The catalogue's counters read once for a whole served call, instead of once by each step of it.

A call the workbench service serves goes through several steps that each ask
whether the catalogue moved: the login kept for the caller, the case opened
again, the access (the rule's facts, :mod:`workbench.access.rule_facts`) and
the plate index (new sightings). Each used to read a counter on a connection
of its own. Inside :func:`one_reading` they all take the values read at its
start, in one statement: the rules' counter and the newest sighting id. The
rule itself is still applied at every access, against the current time, and
every call is still audited; what changes is when a change of the rule's
tables is seen: by the first *call* that begins after it committed (before:
the first access). Outside :func:`one_reading` (the embedded facade) every
step reads the counter itself, as before.

    >>> with one_reading(store):                       # doctest: +SKIP
    ...     counter(store, counters.RULES)             # the same value for every step of this call
    42
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from workbench.store import Store, counters

NAMES = (counters.RULES, counters.SIGHTINGS)   # the counters a call's steps ask for


@dataclass(frozen=True)
class Snapshot:
    """The counters of ``store`` as one call saw them at its start (0: a catalogue that never set one)."""

    store: Store
    values: dict[str, int]


_CURRENT: ContextVar[Snapshot | None] = ContextVar("workbench_call_snapshot", default=None)


@contextmanager
def one_reading(store: Store) -> Iterator[Snapshot]:
    """Read ``store``'s counters once (one statement, one connection) for every step of the block."""
    with store.connect() as conn:
        snapshot = Snapshot(store, counters.values(conn, NAMES))
    token = _CURRENT.set(snapshot)
    try:
        yield snapshot
    finally:
        _CURRENT.reset(token)


def current(store: Store) -> Snapshot | None:
    """The snapshot of the call in progress on ``store`` (None outside :func:`one_reading`, or for another store)."""
    snapshot = _CURRENT.get()
    return snapshot if snapshot is not None and snapshot.store is store else None


def counter(store: Store, name: str, connection: Callable[[], Connection] | None = None) -> int:
    """Counter ``name`` (one of :data:`NAMES`) as the call in progress read it; outside a call, read now (on
    ``connection()`` if given, else on a connection of its own)."""
    snapshot = current(store)
    if snapshot is not None:
        return snapshot.values[name]
    if connection is not None:
        return counters.value(connection(), name)
    with store.connect() as conn:
        return counters.value(conn, name)
