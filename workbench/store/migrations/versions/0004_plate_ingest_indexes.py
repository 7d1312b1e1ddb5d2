"""PostgreSQL: two b-trees less to write per read loaded (SQLite unchanged)

Each index is a b-tree written for every row loaded. Two served nothing a
query asks:

* ``plate_read``'s primary key (id, time): no query reads a read by its id;
  a read is found by its source id (``uq_plate_read_source``, which stays:
  it makes re-deliveries idempotent) or by its sighting;
* ``ix_sighting_last_time``: ingest now finds the passages late reads may
  join in SQL, joining the batch's (camera, plate) pairs with the sightings
  of its days (one scan of those partitions).

``plate_read.id`` keeps its sequence (a row's number, as on SQLite).

Revision ID: 0004_plate_ingest_indexes
Revises: 0003_plates_partitioned
"""
from alembic import op

revision = "0004_plate_ingest_indexes"
down_revision = "0003_plates_partitioned"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE plate_read DROP CONSTRAINT IF EXISTS plate_read_pkey")
    op.execute("DROP INDEX IF EXISTS ix_sighting_last_time")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_sighting_last_time ON sighting (last_time)")
    op.execute("ALTER TABLE plate_read ADD CONSTRAINT plate_read_pkey PRIMARY KEY (id, time)")
