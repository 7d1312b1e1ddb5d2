"""The access rule's version: a counter every change of the rule's tables raises (both backends)

``catalogue_counter`` gains the row ``rules``. A trigger on each table the
access rule reads (partners and their retention, users, cameras, agreements,
cases, their members and holds) raises it in the transaction of the change,
whoever writes it (the service, an administrator's session, a hand-written
statement): a change and the new number commit together. The service keeps
what it read of these tables for one value of the counter and reads them
again as soon as it moves (``access/rule_facts.py``); the time limits of the
rule (an agreement's validity) are applied at every call, not cached.

Revision ID: 0006_rules_version
Revises: 0005_plate_ingest_cheaper
"""
from alembic import op

revision = "0006_rules_version"
down_revision = "0005_plate_ingest_cheaper"
branch_labels = None
depends_on = None

RULE_TABLES = ("partner", "retention", "app_user", "camera", "agreement", "investigation_case", "case_member",
               "hold")
_BUMP = "UPDATE catalogue_counter SET value = value + 1 WHERE name = 'rules'"


def upgrade() -> None:
    op.execute("INSERT INTO catalogue_counter (name, value) VALUES ('rules', 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION rules_changed() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {_BUMP}; RETURN NULL; END $$")
        for table in RULE_TABLES:
            op.execute(f"CREATE TRIGGER rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION rules_changed()")
        return
    for table in RULE_TABLES:   # SQLite: row triggers only, one per kind of statement
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER rules_changed_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"BEGIN {_BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in RULE_TABLES:
            op.execute(f"DROP TRIGGER rules_changed ON {table}")
        op.execute("DROP FUNCTION rules_changed()")
    else:
        for table in RULE_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER rules_changed_{table}_{event}")
    op.execute("DELETE FROM catalogue_counter WHERE name = 'rules'")
