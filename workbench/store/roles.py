"""PostgreSQL roles of a deployment: who may write what, the audit trail append-only.

Three roles (names are the deployment's choice; docs/deployment.md):

- the **owner** runs the migrations and owns the tables (no one logs in as it day to day);
- the **service** role is the one the workbench service connects with: it reads
  and writes the catalogue, may INSERT audit events but never UPDATE, DELETE or
  TRUNCATE them, and deletes no plate read or sighting (only the footage row of an
  ingest that failed);
- the **maintenance** role runs ``workbench retention purge``: it deletes
  expired footage segments, plate reads, sightings and their hits, and audits
  the purge like any other action.

The triggers of migration ``0002_audit_append_only`` refuse UPDATE, DELETE and
TRUNCATE of audit events to everyone, the owner included, as a second wall.

    >>> print(grant_statements("wb_service", "wb_maintenance")[0])
    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, "wb_service", "wb_maintenance"
"""

from __future__ import annotations

import re

from workbench.errors import InvalidInput
from workbench.store.models import Base

AUDIT_TABLES = ("audit_event", "audit_head")
RETAINED_TABLES = ("footage_segment", "plate_read", "sighting", "hit")   # retention purges delete from these
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _role(name: str) -> str:
    if not _ROLE.match(name):
        raise InvalidInput(f"{name!r} is not a plain PostgreSQL role name (lower-case letters, digits, _)")
    return f'"{name}"'


def grant_statements(service: str, maintenance: str) -> list[str]:
    """The GRANT/REVOKE statements giving ``service`` and ``maintenance`` their rights (run as the owner)."""
    svc, mnt = _role(service), _role(maintenance)
    tables = sorted(Base.metadata.tables)
    plain = [t for t in tables if t not in AUDIT_TABLES]
    keep = [t for t in plain if t not in RETAINED_TABLES]
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, {svc}, {mnt}",
        f"GRANT USAGE ON SCHEMA public TO {svc}, {mnt}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {svc}",
        f"GRANT SELECT ON {', '.join(tables)}, alembic_version TO {svc}, {mnt}",
        f"GRANT INSERT, UPDATE, DELETE ON {', '.join(keep)} TO {svc}",
        f"GRANT INSERT, UPDATE ON {', '.join(RETAINED_TABLES)} TO {svc}",
        # an ingest that fails after its row is written removes that row again (footage_ingest)
        f"GRANT DELETE ON footage_segment TO {svc}",
        f"GRANT DELETE ON {', '.join(RETAINED_TABLES)} TO {mnt}",
        # plates ingests run from the service's account, their connections at the job's priority (0007)
        f"GRANT EXECUTE ON FUNCTION workbench_batch_priority(integer) TO {svc}",
    ]
    for role in (svc, mnt):
        statements += [f"GRANT INSERT ON audit_event TO {role}",
                       f"GRANT INSERT, UPDATE ON audit_head TO {role}",
                       f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM {role}",
                       f"REVOKE DELETE, TRUNCATE ON audit_head FROM {role}"]
    return statements
