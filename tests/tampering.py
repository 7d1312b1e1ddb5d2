"""What an attacker who owns the database does first: drop the audit trail's guard triggers.

The tests that prove tampering is *detected* (hash chain, anchors, custody)
tamper inside :func:`without_guards`; the tests that prove tampering is
*refused* do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from workbench.store import Store

SQLITE_GUARDS = ("audit_event_no_update", "audit_event_no_delete", "audit_head_forward", "audit_head_no_delete")


@contextmanager
def without_guards(store: Store) -> Iterator[Session]:
    """A transaction on ``store`` with the append-only triggers of the audit tables out of the way."""
    with store.session() as session:
        if store.dialect == "sqlite":
            for name in SQLITE_GUARDS:
                session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        else:
            for table in ("audit_event", "audit_head"):
                session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        yield session
