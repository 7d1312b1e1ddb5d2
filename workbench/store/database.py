"""Connection to the catalogue: engine, transactions and schema migrations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from workbench.config import Settings
from workbench.errors import StorageFull, StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 20
"""How long a write waits for another writer (an ingest batch, an audit append) before a StoreError."""

AuditWriter = Callable[..., int]
"""Appends one audit event inside the caller's transaction: ``writer(session, action, **details)``.

The ingest layer receives one from its caller (``access.audit.writer``) so that
a file's rows and the event saying who loaded them commit together.
"""

_WRITE = "workbench_write"
_GATES: dict[str, threading.Lock] = {}   # per SQLite file: the writing turn of this process's threads
WRITER_PAUSE_S = 0.15   # longer than SQLite's longest sleep between two tries of a waiting writer (100 ms)


def _is_busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "locked" in text or "busy" in text or "lock timeout" in text


def _is_full(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no space left on device" in text or "disk is full" in text or "could not extend file" in text


def _store_error(store: Store, exc: BaseException, what: str = "use") -> StoreError:
    """A driver error in words: disk full, busy (after the bounded wait) or unreachable."""
    if _is_full(exc):
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return StorageFull(f"the disk of the catalogue at {store.safe_url} is full ({reason}): the transaction "
                           "was rolled back, nothing of it was written; free space (or move old partitions "
                           "away) and run it again")
    if _is_busy(exc):
        return StoreError(f"the catalogue at {store.safe_url} is busy: another process (an ingest, a purge) "
                          f"kept it locked for more than {BUSY_TIMEOUT_S} s; nothing was changed, try again "
                          "in a moment")
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StoreError(f"cannot {what} the catalogue at {store.safe_url} ({reason}); nothing was changed, "
                      "check that the database is running and try again")


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, foreign keys; writers take the write lock at BEGIN, readers never take it.

    A session opened with :meth:`Store.session` writes (an audit append at
    least): ``BEGIN IMMEDIATE`` serialises writers up front instead of failing
    on a lock upgrade halfway through. Every other connection (reads through
    :meth:`Store.snapshot` and :meth:`Store.connect`) begins a deferred
    transaction, which in WAL mode reads a snapshot without blocking or being
    blocked by a writer.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA synchronous=FULL")   # a commit (an audit event) survives a power cut
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


POOL_SIZE = 12
"""PostgreSQL connections kept open per process (the service runs 8 worker threads)."""
PING_AFTER_IDLE_S = 2.0
"""A pooled PostgreSQL connection idle longer than this is pinged before use (the server may have gone)."""


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection with a round trip only when it sat idle in the pool for a while.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round
    trip for each of the few connections a served call borrows in a row. A
    connection given back a moment ago (the previous statement of the same
    call, a busy service) is known good; one idle for :data:`PING_AFTER_IDLE_S`
    is pinged, and replaced if the server no longer answers it.
    """

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection no longer answers: {exc}") from exc


def _pg_timeouts() -> dict[str, Any]:
    """PostgreSQL: a bounded wait for a lock and for the server, like SQLite's busy timeout."""
    return {"connect_timeout": 10, "options": f"-c lock_timeout={BUSY_TIMEOUT_S * 1000}"}


class Store:
    """The catalogue database named by ``settings.db_url``.

    >>> store = Store(Settings.from_env({}, home="/tmp/wb-doc"))  # doctest: +SKIP
    >>> with store.session() as session:                          # doctest: +SKIP
    ...     session.add(...)       # committed on success, rolled back on error
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = settings.db_url
        try:
            if url.startswith("sqlite"):
                settings.home.mkdir(parents=True, exist_ok=True)
                self.engine = create_engine(url, future=True)
                _sqlite_pragmas(self.engine)
            else:
                # the service's threads each keep a connection (and a moment more for an audit append): a pool
                # smaller than that opens and closes a server process for many calls
                self.engine = create_engine(url, future=True, connect_args=_pg_timeouts(), pool_size=POOL_SIZE,
                                            max_overflow=POOL_SIZE)
                _ping_when_idle(self.engine)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open the catalogue at {self.safe_url}: {exc}") from exc
        self._sessions = sessionmaker(self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False)
        # PostgreSQL reads at READ COMMITTED: each statement sees what was committed when it began, inside a
        # transaction or not, so reads run without one (no BEGIN and ROLLBACK round trips, no lock kept past a
        # statement, so nothing waits behind a reader: an ingest creating a day's partition, say)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._reader = self.engine if self.dialect == "sqlite" else self._autocommit
        self._snapshots = sessionmaker(self._reader, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The database URL with any password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True) if hasattr(self, "engine") \
            else self.settings.db_url.split("@")[-1]

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        On SQLite it holds the write lock from its start: keep it short (read
        what you need in :meth:`snapshot` first).
        """
        with self._writer_turn():
            try:
                with self._sessions() as session, session.begin():
                    yield session
            except (OperationalError, InterfaceError) as exc:
                raise _store_error(self, exc) from exc
            except self.engine.dialect.loaded_dbapi.Error as exc:   # raised by the driver itself (COPY)
                if _is_full(exc):
                    raise _store_error(self, exc) from exc
                raise

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """On SQLite, the threads of this process write one at a time (then wait for other processes in SQLite).

        Eight analysts' audit appends in one process would otherwise compete
        with each other through SQLite's polling busy handler, and one of them
        could lose every round for longer than the busy timeout.
        """
        if self.dialect != "sqlite":
            yield
            return
        gate = _GATES.setdefault(self.engine.url.database or "", threading.Lock())
        if not gate.acquire(timeout=BUSY_TIMEOUT_S):
            raise _store_error(self, OperationalError("BEGIN IMMEDIATE", {}, Exception("database is busy")))
        try:
            yield
        finally:
            gate.release()

    def let_others_write(self) -> None:
        """Pause a long writer between two of its transactions so that waiting writers get the lock.

        SQLite has no queue for its write lock: a waiting connection retries
        after sleeps of up to 100 ms, and a writer that begins again at once
        would win every time (an analyst's audit append would starve during a
        long ingest). PostgreSQL queues lock waits fairly: nothing to do.
        """
        if self.dialect == "sqlite":
            time.sleep(WRITER_PAUSE_S)

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """Reads that never take SQLite's write lock (one snapshot on SQLite; each statement its own on PostgreSQL).

        >>> with store.snapshot() as session:                # doctest: +SKIP
        ...     cameras = session.execute(select(Camera.id)).scalars().all()
        """
        try:
            with self._snapshots() as session:   # closing it rolls the read transaction back
                yield session
        except (OperationalError, InterfaceError) as exc:
            raise _store_error(self, exc) from exc

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """PostgreSQL: a connection whose every statement commits on its own (a write that is one statement).

        >>> with store.statements() as conn:                  # doctest: +SKIP
        ...     conn.execute(one_statement_that_writes)
        """
        if self.dialect != "postgresql":
            raise StoreError("statements committed one by one are for PostgreSQL; use session() on SQLite")
        try:
            with self._autocommit.connect() as connection:
                yield connection
        except (OperationalError, InterfaceError) as exc:
            raise _store_error(self, exc) from exc
        except self.engine.dialect.loaded_dbapi.Error as exc:
            if _is_full(exc):
                raise _store_error(self, exc) from exc
            raise

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for reads (like :meth:`snapshot`); driver errors become StoreError."""
        try:
            with self._reader.connect() as connection:
                yield connection
        except (OperationalError, InterfaceError) as exc:
            raise _store_error(self, exc) from exc

    def migrate(self) -> None:
        """Bring the schema to the newest version (Alembic ``upgrade head``); idempotent."""
        from alembic import command

        try:
            with self.engine.execution_options(**{_WRITE: True}).begin() as connection:
                command.upgrade(self.alembic_config(connection), "head")
        except (OperationalError, InterfaceError) as exc:
            raise _store_error(self, exc, "migrate") from exc

    def is_migrated(self) -> bool:
        """Whether the catalogue has its tables (``workbench sample build`` creates them)."""
        try:
            with self.connect() as connection:
                return inspect(connection).has_table("alembic_version")
        except SQLAlchemyError as exc:
            raise _store_error(self, exc) from exc

    def alembic_config(self, connection=None):  # type: ignore[no-untyped-def]
        """The Alembic configuration of this store (for ``alembic`` commands from Python)."""
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.settings.db_url.replace("%", "%%"))
        cfg.attributes["connection"] = connection
        return cfg

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


@contextmanager
def scratch_database(server_url: str, prefix: str = "wb_scratch") -> Iterator[str]:
    """A new, empty PostgreSQL database on ``server_url`` for tests and benchmarks, dropped on exit.

        >>> with scratch_database("postgresql+psycopg://postgres@127.0.0.1:55432/postgres") as url:  # doctest: +SKIP
        ...     Store(Settings.from_env({}, db_url=url)).migrate()
    """
    import uuid

    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
