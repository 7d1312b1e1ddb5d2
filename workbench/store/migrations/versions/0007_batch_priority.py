"""A batch job's database connections at the job's priority: ``workbench_batch_priority(n)`` (PostgreSQL)

Each connection to PostgreSQL is served by a server process of its own, and
each is a session of its own: on Linux with session groups (autogroup, on by
default in Debian's and Ubuntu's kernels) it competes with every other
session at its session's priority, whatever the client's ``nice``. A plates
ingest spends about two thirds of its processor time there. The function
lets a connection lower its own server process's session to a nice value of
1 to 19 (``workbench.batch_priority.on_each_connection``); it touches no
other process, and returns ``'lowered'`` or, in words, why not.

It writes ``/proc/self/autogroup`` with a server-side COPY, which needs its
owner to be a superuser (or a member of ``pg_write_server_files``): it is
``SECURITY DEFINER`` with a fixed path and a bounded integer, executable by
no one but its owner until granted (``workbench admin db-grants`` grants it
to the service's role). Where the migrations run as an owner without that
right, a superuser hands the function over once (docs/deployment.md);
until then it answers why it could not, and the load runs at the queries'
priority. Linux rate-limits such changes to one every 100 ms for the whole
machine: the function tries again a few times.

Revision ID: 0007_batch_priority
Revises: 0006_rules_version
"""
from alembic import op

revision = "0007_batch_priority"
down_revision = "0006_rules_version"
branch_labels = None
depends_on = None

_FUNCTION = """CREATE FUNCTION workbench_batch_priority(niceness integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    failure text;
BEGIN
    IF niceness IS NULL OR niceness < 1 OR niceness > 19 THEN
        RETURN 'a batch priority is a nice value from 1 to 19, not ' || coalesce(niceness::text, 'none');
    END IF;
    FOR attempt IN 1..5 LOOP
        BEGIN
            EXECUTE format('COPY (SELECT %s) TO %L', niceness, '/proc/self/autogroup');
            RETURN 'lowered';
        EXCEPTION WHEN OTHERS THEN
            failure := SQLERRM;
            PERFORM pg_sleep(0.11);
        END;
    END LOOP;
    RETURN failure;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return   # SQLite: the job's process is the database's
    op.execute(_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION workbench_batch_priority(integer) FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION workbench_batch_priority(integer)")
