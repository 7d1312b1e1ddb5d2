"""Connection to the catalogue: engine, transactions and schema migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from workbench.config import Settings
from workbench.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, foreign keys, and writer transactions that take their lock at BEGIN.

    Every user transaction appends to the audit chain, so each one writes:
    ``BEGIN IMMEDIATE`` serialises them up front instead of failing on a lock
    upgrade halfway through.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
                self.engine = create_engine(url, future=True, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open the catalogue at {self.safe_url}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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
        """One transaction: committed when the block ends, rolled back if it raises."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise StoreError(f"the catalogue at {self.safe_url} could not be used: {exc.orig}") from exc

    def migrate(self) -> None:
        """Bring the schema to the newest version (Alembic ``upgrade head``); idempotent."""
        from alembic import command

        try:
            with self.engine.begin() as connection:
                command.upgrade(self.alembic_config(connection), "head")
        except OperationalError as exc:
            raise StoreError(f"cannot migrate the catalogue at {self.safe_url}: {exc.orig}") from exc

    def is_migrated(self) -> bool:
        """Whether the catalogue has its tables (``workbench sample build`` creates them)."""
        return inspect(self.engine).has_table("alembic_version")

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
