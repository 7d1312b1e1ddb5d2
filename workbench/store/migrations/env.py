"""Alembic environment of the catalogue: runs on the connection the Store hands over."""

from alembic import context
from sqlalchemy import create_engine

from workbench.store.models import Base

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conn, target_metadata=Base.metadata,
                      render_as_batch=conn.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    with create_engine(str(config.get_main_option("sqlalchemy.url"))).begin() as conn:
        _run(conn)
