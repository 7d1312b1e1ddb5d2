"""What the access rule reads of the catalogue, kept while the rules' counter does not move.

The rule's facts (cameras and their owners, agreements, retention, cases,
their members and holds) change when an administrator or an investigator
changes them, seldom; they are read at every access. Migration 0006 keeps a
counter (``catalogue_counter``, row ``rules``) that a trigger on each of
these tables raises in the transaction of the change, whoever writes it.
Each access reads that counter (one row) and uses the facts read at the same
value, or reads them again: a revocation, a new member, a closed case or a
new hold is seen by the first access that begins after it committed, as
before. A call of the workbench service reads the counter once for all its
steps (:mod:`~workbench.access.call_snapshot`): there, by the first call that
begins after it committed. Only rows are kept: the rule itself (:func:`~workbench.access.policy.decide`,
the agreements' validity and the retention horizon against the current time)
is applied at every access.

    >>> facts = RuleFacts(store)                                    # doctest: +SKIP
    >>> with facts.reading() as read:                               # doctest: +SKIP
    ...     rows = read("retention", lambda conn: conn.execute(_RETENTIONS).all())
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from workbench.access import call_snapshot
from workbench.store import Store, counters


class FactReader(Protocol):
    """``read(name, load, *key)``: the value ``load(connection)`` for ``name`` and ``key`` at this rules version."""

    def __call__(self, name: str, load: Callable[[Connection], Any], *key: Hashable) -> Any: ...


class RuleFacts:
    """Rows of the rule's tables, kept for one value of the rules' counter (shared by the service's threads).

    ``limit`` bounds how many distinct (name, key) values are kept; past it
    they are all dropped and read again.
    """

    def __init__(self, store: Store, limit: int = 4096) -> None:
        self.store = store
        self.limit = limit
        self._lock = threading.Lock()
        self._version = -1
        self._values: dict[tuple[Hashable, ...], Any] = {}

    @contextmanager
    def reading(self) -> Iterator[FactReader]:
        """One reading of the counter (or the value the call in progress read: :mod:`call_snapshot`); yields a
        reader of facts at that version. A connection is taken only for facts not kept yet."""
        with ExitStack() as stack:
            conn: Connection | None = None

            def connection() -> Connection:
                nonlocal conn
                if conn is None:
                    conn = stack.enter_context(self.store.connect())
                return conn

            # 0: a catalogue without the counter, nothing kept
            version = call_snapshot.counter(self.store, counters.RULES, connection)
            with self._lock:
                if version > self._version:   # the rule changed: what was kept is dropped
                    self._version, self._values = version, {}
                current = version > 0 and version == self._version   # else a thread already saw a newer one

            def read(name: str, load: Callable[[Connection], Any], *key: Hashable) -> Any:
                slot = (name, *key)
                with self._lock:
                    if current and version == self._version and slot in self._values:
                        return self._values[slot]
                value = load(connection())
                with self._lock:
                    if current and version == self._version:
                        if len(self._values) >= self.limit:
                            self._values = {}
                        self._values[slot] = value
                return value

            yield read
