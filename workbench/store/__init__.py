"""Store: the SQL catalogue (SQLite or PostgreSQL) and its migrations.

    >>> from workbench.config import Settings
    >>> from workbench.store import Store
    >>> store = Store(Settings.from_env({}, home="/tmp/wb-doc"))
    >>> store.migrate()
    >>> with store.session() as s:
    ...     pass
"""

from workbench.store.database import AuditWriter, Store

__all__ = ["AuditWriter", "Store"]
