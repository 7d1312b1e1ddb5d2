"""Small hand-made worlds for access tests, written straight into an empty catalogue.

Writing the world is administration (like ingest); every read in the tests
goes through the public, audited API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workbench.store import Store, counters, partitions
from workbench.store.models import (
    Agreement,
    Camera,
    Case,
    CaseMember,
    Hold,
    Partner,
    PlateRead,
    Retention,
    Sighting,
    User,
)


@dataclass
class AgreementRow:
    owner: str
    recipient: str
    kinds: list[str]
    purposes: list[str]
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    scope: list[str] | None = None
    reference: str = "AGR"


@dataclass
class World:
    partners: list[str]
    cameras: dict[str, str]                      # camera id -> owner
    users: dict[str, tuple[str, str]]            # name -> (partner, role)
    agreements: list[AgreementRow] = field(default_factory=list)
    retention: dict[tuple[str, str], int] = field(default_factory=dict)
    holds: list[tuple[str, datetime, datetime]] = field(default_factory=list)  # camera, start, end
    case_purpose: str = "judicial-investigation"
    case_status: str = "open"
    training: bool = False
    reads: list[tuple[str, datetime, str]] = field(default_factory=list)  # camera, time, plate


CASE = "CASE-TEST-1"


def write_world(store: Store, world: World, *, opened: datetime) -> None:
    """Write ``world`` (one case, every user a member) into a migrated, empty catalogue."""
    store.migrate()
    if world.reads:   # PostgreSQL: the days' partitions, as ingest creates them
        with store.engine.begin() as connection:
            partitions.ensure(connection, min(r[1] for r in world.reads), max(r[1] for r in world.reads))
    with store.session() as s:
        partners = {code: Partner(code=code, name=code, kind="police_zone") for code in world.partners}
        s.add_all(partners.values())
        s.flush()
        s.add_all(Retention(partner_id=partners[p].id, data_kind=k, days=d) for (p, k), d in world.retention.items())
        users = {n: User(name=n, full_name=n, partner_id=partners[p].id, role=r) for n, (p, r) in world.users.items()}
        s.add_all(users.values())
        s.add_all(Camera(id=c, partner_id=partners[o].id, kind="fixed", name=c, lon=4.35, lat=50.85)
                  for c, o in world.cameras.items())
        for i, a in enumerate(world.agreements):
            s.add(Agreement(owner_id=partners[a.owner].id, recipient_id=partners[a.recipient].id,
                            data_kinds=a.kinds, purposes=a.purposes, camera_scope=a.scope, valid_from=a.valid_from,
                            valid_until=a.valid_until, revoked_at=a.revoked_at, authorisation_ref=f"{a.reference}-{i}"))
        s.flush()
        case = Case(reference=CASE, title="test", purpose=world.case_purpose, legal_basis="test",
                    status=world.case_status, is_training=world.training, opened_at=opened,
                    members=[CaseMember(user_id=u.id) for u in users.values()])
        s.add(case)
        s.flush()
        s.add_all(Hold(case_id=case.id, camera_id=c, start=a, end=b, reason="test", created_at=opened)
                  for c, a, b in world.holds)
        for i, (camera, at, plate) in enumerate(world.reads):
            sighting = Sighting(camera_id=camera, plate=plate, first_time=at, last_time=at, n_reads=1)
            s.add(sighting)
            s.flush()
            s.add(PlateRead(source="test", source_read_id=str(i), camera_id=camera, time=at, plate_raw=plate,
                            plate=plate, sighting_id=sighting.id, ingested_at=opened))
            counters.raise_to(s, counters.SIGHTINGS, sighting.id)


def hours(start: datetime, n: float = 1) -> tuple[datetime, datetime]:
    return start, start + timedelta(hours=n)
