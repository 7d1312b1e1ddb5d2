"""plate reads and sightings partitioned by day on PostgreSQL (SQLite unchanged)

``plate_read`` becomes a table partitioned by range of ``time`` and
``sighting`` of ``first_time``, one partition per UTC day
(``workbench.store.partitions``). The keys hold the partition column:
primary keys (id, time) and (id, first_time), a read's source id unique per
(source, read id, time). No foreign key can point at a partitioned table by
``id`` alone, so the keys from ``plate_read.sighting_id`` and
``hit.sighting_id`` go (ingest and retention keep them together), and so do
the reads' indexes on (plate, time) and (camera, time), which no query uses
(every query reads sightings; retention drops days). The keys to ``camera``
go too: a foreign-key check is a query per row loaded, and ingest refuses a
read of an unknown camera before loading it (cameras are never deleted). Rows already
there are copied into day partitions; the id sequences are kept. Both
backends get an index on ``sighting.last_time``: the passages a late read may
join are found by it.

Revision ID: 0003_plates_partitioned
Revises: 0002_audit_append_only
"""
from datetime import date, timedelta

from alembic import op
from sqlalchemy import text

revision = "0003_plates_partitioned"
down_revision = "0002_audit_append_only"
branch_labels = None
depends_on = None

_TABLES = {  # table: (partition column, primary key, unique constraints, indexes)
    "sighting": ("first_time", "id, first_time", {},
                 {"ix_sighting_plate_time": "plate, first_time", "ix_sighting_camera_time": "camera_id, first_time",
                  "ix_sighting_last_time": "last_time"}),
    "plate_read": ("time", "id, time", {"uq_plate_read_source": "source, source_read_id, time"},
                   {"ix_plate_read_sighting": "sighting_id"}),
}
_UNPARTITIONED_ONLY = {"plate_read": {"ix_plate_read_plate_time": "plate, time",
                                      "ix_plate_read_camera_time": "camera_id, time"}}
"""Indexes the partitioned reads do without: every query reads sightings, retention drops days; each index
less is one b-tree less to write per read."""


def _days(table: str, column: str) -> list[str]:
    rows = op.get_bind().execute(text(
        f"SELECT DISTINCT date_trunc('day', {column} AT TIME ZONE 'UTC')::date FROM {table} ORDER BY 1")).scalars()
    return [str(day) for day in rows]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        # late reads find their passage; IF NOT EXISTS: a regenerated 0001 has it already
        op.execute("CREATE INDEX IF NOT EXISTS ix_sighting_last_time ON sighting (last_time)")
        return
    op.execute("ALTER TABLE plate_read DROP CONSTRAINT IF EXISTS plate_read_sighting_id_fkey")
    op.execute("ALTER TABLE hit DROP CONSTRAINT IF EXISTS hit_sighting_id_fkey")
    for table, (column, key, uniques, indexes) in _TABLES.items():
        days = _days(table, column)
        op.execute(f"CREATE TABLE {table}_partitioned (LIKE {table} INCLUDING DEFAULTS) PARTITION BY RANGE ({column})")
        for day in days:
            after = date.fromisoformat(day) + timedelta(days=1)
            op.execute(f"CREATE TABLE {table}_p{day.replace('-', '')} PARTITION OF {table}_partitioned "
                       f"FOR VALUES FROM ('{day} 00:00+00') TO ('{after} 00:00+00')")
        op.execute(f"INSERT INTO {table}_partitioned SELECT * FROM {table}")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}_partitioned.id")
        op.execute(f"DROP TABLE {table}")
        op.execute(f"ALTER TABLE {table}_partitioned RENAME TO {table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({key})")
        for name, columns in uniques.items():
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})")
        for name, columns in indexes.items():
            op.execute(f"CREATE INDEX {name} ON {table} ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_sighting_last_time")
        return
    for table, (_column, _key, uniques, indexes) in reversed(list(_TABLES.items())):
        op.execute(f"CREATE TABLE {table}_plain (LIKE {table} INCLUDING DEFAULTS)")
        op.execute(f"INSERT INTO {table}_plain SELECT * FROM {table}")
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}_plain.id")
        op.execute(f"DROP TABLE {table} CASCADE")
        op.execute(f"ALTER TABLE {table}_plain RENAME TO {table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_camera_id_fkey FOREIGN KEY (camera_id) "
                   "REFERENCES camera (id)")
        for name in uniques:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE (source, source_read_id)")
        for name, columns in {**indexes, **_UNPARTITIONED_ONLY.get(table, {})}.items():
            op.execute(f"CREATE INDEX {name} ON {table} ({columns})")
    op.execute("DROP INDEX ix_sighting_last_time")
    op.execute("ALTER TABLE plate_read ADD CONSTRAINT plate_read_sighting_id_fkey FOREIGN KEY (sighting_id) "
               "REFERENCES sighting (id)")
    op.execute("ALTER TABLE hit ADD CONSTRAINT hit_sighting_id_fkey FOREIGN KEY (sighting_id) "
               "REFERENCES sighting (id) ON DELETE CASCADE")
