"""audit trail append-only: triggers refuse UPDATE, DELETE and TRUNCATE of audit events

The grants (docs/deployment.md, ``workbench.store.roles``) keep the service's
role from changing the trail; these triggers are the second wall, also against
the table's owner and on SQLite (where they guard against accidents: whoever
holds the file can drop them, which the signed anchors then reveal). The head
row may only move forward.

Revision ID: 0002_audit_append_only
Revises: 0001
"""
from alembic import op

revision = "0002_audit_append_only"
down_revision = "0001"
branch_labels = None
depends_on = None

_MESSAGE = "audit events are append-only: UPDATE, DELETE and TRUNCATE are refused"

_SQLITE = [
    f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    f"CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head WHEN NEW.seq < OLD.seq "
    "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END",
]

_POSTGRES = [
    f"""CREATE FUNCTION workbench_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_MESSAGE} (% by %)', TG_OP, current_user USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """CREATE FUNCTION workbench_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' OR NEW.seq < OLD.seq THEN
            RAISE EXCEPTION 'the audit head only moves forward (% by %)', TG_OP, current_user
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION workbench_audit_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION workbench_audit_append_only()",
    "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION workbench_audit_head_forward()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION workbench_audit_append_only()",
]


def upgrade() -> None:
    for statement in _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (("audit_event_append_only", "audit_event"), ("audit_event_no_truncate", "audit_event"),
                               ("audit_head_forward", "audit_head"), ("audit_head_no_truncate", "audit_head")):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS workbench_audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS workbench_audit_head_forward()")
    else:
        for trigger in ("audit_event_no_update", "audit_event_no_delete", "audit_head_forward",
                        "audit_head_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
