"""Indexes under the hotlists' foreign keys: a list's entries, an entry's hits

``hotlist_entry.hotlist_id`` and ``hit.entry_id`` reference rows deleted with
``ON DELETE CASCADE`` and are looked up by list (a new list's matching, a
zone's own plates): without an index each deleted list reads every entry,
and each deleted entry every hit, of the region.

Revision ID: 0008_hotlist_indexes
Revises: 0007_batch_priority
"""
from alembic import op

revision = "0008_hotlist_indexes"
down_revision = "0007_batch_priority"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_hotlist_entry_hotlist_id", "hotlist_entry", ["hotlist_id"])
    op.create_index("ix_hit_entry_id", "hit", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_hit_entry_id", table_name="hit")
    op.drop_index("ix_hotlist_entry_hotlist_id", table_name="hotlist_entry")
