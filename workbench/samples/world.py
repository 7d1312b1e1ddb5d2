"""The sample world: the region's real partners, users for every role, agreements and cameras.

Cameras stand at real Brussels positions (OpenStreetMap 2013 camera points,
STIB metro stations) and belong to the partner that would own them: the police
zone whose territory holds the point, STIB in the metro, Brussels Mobility on
the regional roads. Everything is deterministic for a given ``day`` (the
simulated day of traffic, by default yesterday), so trainers and tests see the
same world.

    >>> from workbench.samples.world import SAMPLE_CASE, build_world   # doctest: +SKIP
    >>> build_world(store, day=date(2026, 11, 23))                     # doctest: +SKIP
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from importlib.resources import files

import geopandas as gpd
import pandas as pd

from workbench.store import Store
from workbench.store.models import Agreement, Camera, Case, CaseMember, Hold, Partner, Retention, User

SAMPLE_CASE = "PV-BR-2026-001234"
CLOSED_CASE = "PV-BR-2025-000777"
TRAINING_CASE = "FORMATION-2026-01"
CLOSED_TRAINING_CASE = "FORMATION-2025-09"
DATA = files("workbench") / "data"

PARTNERS = [
    # code, name, kind, zone
    ("PZ5339", "Zone de police Bruxelles-Capitale Ixelles / Politiezone Brussel Hoofdstad Elsene", "police_zone", 5339),
    ("PZ5340", "Zone de police Bruxelles-Ouest / Politiezone Brussel-West", "police_zone", 5340),
    ("PZ5341", "Zone de police Midi / Politiezone Zuid", "police_zone", 5341),
    ("PZ5342", "Zone de police Uccle/Watermael-Boitsfort/Auderghem (Marlow)", "police_zone", 5342),
    ("PZ5343", "Zone de police Montgomery / Politiezone Montgomery", "police_zone", 5343),
    ("PZ5344", "Zone de police Bruxelles-Nord / Politiezone Brussel-Noord", "police_zone", 5344),
    ("FEDPOL", "Police fédérale / Federale politie", "federal_police", None),
    ("STIB", "STIB-MIVB", "public_transport", None),
    ("BM", "Bruxelles Mobilité / Brussel Mobiliteit", "mobility", None),
    ("SIAMU", "SIAMU / DBDMH (pompiers de Bruxelles / Brusselse brandweer)", "fire_brigade", None),
    ("PORT", "Port de Bruxelles / Haven van Brussel", "port", None),
    ("CRISIS", "Centre régional de crise / Gewestelijk crisiscentrum (safe.brussels)", "crisis_centre", None),
]

# partner, kind, days (the defaults, footage 30 and plates 365, apply to the rest)
RETENTIONS = [("STIB", "footage", 14), ("BM", "plates", 30), ("PORT", "footage", 30), ("SIAMU", "footage", 14)]

USERS = [
    # name, full name, partner, role
    ("inspector.dupont", "Inspectrice Claire Dupont", "PZ5339", "investigator"),
    ("inspector.janssens", "Inspecteur Pieter Janssens", "PZ5344", "investigator"),
    ("inspector.vermeulen", "Inspecteur Jan Vermeulen", "FEDPOL", "investigator"),
    ("analyst.peeters", "Analyste Sofie Peeters", "PZ5339", "analyst"),
    ("dispatcher.lambert", "Dispatcheur Marc Lambert", "PZ5339", "dispatcher"),
    ("trainer.claes", "Formatrice An Claes", "FEDPOL", "trainer"),
    ("auditor.maes", "Délégué à la protection des données Luc Maes", "PZ5339", "auditor"),
    ("admin.willems", "Administratrice Eva Willems", "PZ5339", "admin"),
]

JUDICIAL = ["judicial-investigation"]
POLICE = ["judicial-investigation", "administrative-police", "public-order"]


@dataclass(frozen=True)
class AgreementSpec:
    """One sample agreement, with its validity relative to the sample day."""

    owner: str
    recipient: str
    kinds: tuple[str, ...]
    purposes: tuple[str, ...]
    reference: str
    starts: int = -400          # days from the sample day
    ends: int | None = None     # days from the sample day; None: open-ended
    revoked: int | None = None  # days from the sample day
    scope: tuple[str, ...] | None = None


AGREEMENTS = [
    AgreementSpec("STIB", "PZ5339", ("footage",), tuple(POLICE), "AGR-2025-STIB-5339"),
    AgreementSpec("BM", "PZ5339", ("footage", "plates"), tuple(JUDICIAL), "AGR-2025-BM-5339"),
    AgreementSpec("FEDPOL", "PZ5339", ("plates",), tuple(JUDICIAL), "AGR-2025-FED-5339"),
    AgreementSpec("PZ5344", "PZ5339", ("footage", "plates"), tuple(POLICE), "AGR-2025-5344-5339"),
    AgreementSpec("PZ5340", "PZ5339", ("footage", "plates"), tuple(POLICE), "AGR-2024-5340-5339",
                  starts=-700, ends=-10),
    AgreementSpec("PZ5341", "PZ5339", ("footage", "plates"), tuple(POLICE), "AGR-2025-5341-5339",
                  revoked=-3),
    AgreementSpec("PZ5342", "PZ5339", ("plates",), tuple(JUDICIAL), "AGR-2025-5342-5339"),
    AgreementSpec("PZ5343", "PZ5339", ("footage", "plates"), ("administrative-police",),
                  "AGR-2025-5343-5339"),
    AgreementSpec("PORT", "PZ5339", ("footage",), tuple(JUDICIAL), "AGR-2025-PORT-5339",
                  scope=("CCTV-PORT-001",)),
    AgreementSpec("BM", "FEDPOL", ("footage", "plates"), ("judicial-investigation", "training"), "AGR-2025-BM-FED"),
    AgreementSpec("STIB", "FEDPOL", ("footage",), ("judicial-investigation", "training"), "AGR-2025-STIB-FED"),
    AgreementSpec("PZ5339", "PZ5344", ("footage", "plates"), tuple(POLICE), "AGR-2025-5339-5344"),
    # the zones lend their cameras to the federal police's school for training; the one of zone 5340 ran out
    *(AgreementSpec(z, "FEDPOL", ("footage", "plates"), ("training",), f"AGR-2026-{z[2:]}-FED-FORM")
      for z in ("PZ5339", "PZ5341", "PZ5342", "PZ5343", "PZ5344")),
    AgreementSpec("PZ5340", "FEDPOL", ("footage", "plates"), ("training",), "AGR-2024-5340-FED-FORM",
                  starts=-700, ends=-10),
]

METRO_STATIONS = ["DE BROUCKERE", "GARE CENTRALE", "ROGIER", "BOURSE", "GARE DU MIDI", "PORTE DE NAMUR", "LOUISE",
                  "TRONE", "SCHUMAN", "MERODE", "MONTGOMERY", "SIMONIS", "ETANGS NOIRS", "CLEMENCEAU"]
PORT_STOPS = ["TOUR ET TAXIS"]


def sample_day_default(today: date | None = None) -> date:
    """The simulated day: yesterday (UTC), so that every retention period still covers it."""
    return (today or datetime.now(timezone.utc).date()) - timedelta(days=1)


def midnight(day: date) -> datetime:
    """Start of ``day`` in UTC."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def _zones() -> gpd.GeoDataFrame:
    layers = gpd.read_file(str(DATA / "boundaries" / "brussels_municipalities_policezones_region_osm2013.geojson"))
    return layers[layers["layer"] == "police_zone"][["zone_code", "geometry"]]


def owner_zone(points: gpd.GeoDataFrame) -> pd.Series:
    """The police zone (as partner code) whose territory holds each point; None outside the region."""
    joined = gpd.sjoin(points, _zones(), how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    return joined["zone_code"].map(lambda z: None if pd.isna(z) else f"PZ{int(z)}")


def base_cameras() -> pd.DataFrame:
    """The sample cameras at real positions: id, owner, kind, name, lon, lat, heading, fov, range."""
    osm = gpd.read_file(str(DATA / "cameras" / "osm2013_speed_cameras_surveillance_brussels.geojson"))
    osm = osm.sort_values("osm_id", key=lambda s: s.str[1:].astype(int), ignore_index=True)
    osm["zone"] = owner_zone(osm).to_numpy()
    rows = []
    for i, r in osm.iterrows():
        anpr = r["kind"] != "surveillance"
        # every other roadside camera is the regional network's (Brussels Mobility), the rest the zone's
        zone = r["zone"] if isinstance(r["zone"], str) else None
        owner = "BM" if anpr and (i % 2 == 0 or zone is None) else (zone or "BM")
        prefix = "ANPR" if anpr else "CCTV"
        rows.append({"owner": owner, "kind": "anpr" if anpr else "fixed", "prefix": prefix,
                     "name": f"{'ANPR' if anpr else 'Caméra'} OSM {r['osm_id']}"
                             + (f" {r['name']}" if isinstance(r.get("name"), str) else ""),
                     "lon": r.geometry.x, "lat": r.geometry.y})
    with open(str(DATA / "cameras" / "stib_gtfs_2024-12" / "stops.txt"), newline="", encoding="utf-8") as fh:
        stops: dict[str, dict[str, str]] = {}
        for s in csv.DictReader(fh):
            stops.setdefault(s["stop_name"], s)
    for name in METRO_STATIONS:
        s = stops[name]
        rows.append({"owner": "STIB", "kind": "fixed", "prefix": "CCTV", "name": f"Métro {name.title()} (quai)",
                     "lon": float(s["stop_lon"]), "lat": float(s["stop_lat"])})
    for name in PORT_STOPS:
        s = stops[name]
        rows.append({"owner": "PORT", "kind": "ptz", "prefix": "CCTV", "name": f"Port — {name.title()}",
                     "lon": float(s["stop_lon"]) - 0.002, "lat": float(s["stop_lat"]) + 0.001})
    s = stops["GARE CENTRALE"]
    rows.append({"owner": "SIAMU", "kind": "drone", "prefix": "CCTV", "name": "Drone SIAMU (intervention)",
                 "lon": float(s["stop_lon"]) + 0.003, "lat": float(s["stop_lat"])})
    frame = pd.DataFrame(rows)
    frame["camera_id"] = frame.groupby(["prefix", "owner"]).cumcount().add(1).map("{:03d}".format)
    frame["camera_id"] = frame["prefix"] + "-" + frame["owner"] + "-" + frame["camera_id"]
    frame["heading"], frame["fov_deg"] = None, None
    frame.loc[frame["prefix"] == "CCTV", ["fov_deg"]] = 70.0
    frame["range_m"] = frame["prefix"].map({"ANPR": 30.0, "CCTV": 60.0})
    return frame[["camera_id", "owner", "kind", "name", "lon", "lat", "heading", "fov_deg", "range_m"]]


def with_anpr_network(cameras: pd.DataFrame, positions: pd.DataFrame) -> pd.DataFrame:
    """Add ANPR cameras at ``positions`` (lon, lat on main roads): the zone's where it holds the point,
    the regional network's (Brussels Mobility) one time in three and outside the zones."""
    points = gpd.GeoDataFrame(positions, geometry=gpd.points_from_xy(positions["lon"], positions["lat"]),
                              crs="EPSG:4326")
    zone = owner_zone(points).to_numpy()
    owner = [z if (isinstance(z, str) and i % 3) else "BM" for i, z in enumerate(zone)]
    extra = pd.DataFrame({"owner": owner, "kind": "anpr", "lon": positions["lon"].to_numpy(),
                          "lat": positions["lat"].to_numpy(), "heading": None, "fov_deg": None, "range_m": 30.0})
    counts = cameras[cameras["kind"] == "anpr"].groupby("owner").size()
    extra["n"] = extra.groupby("owner").cumcount() + 1 + extra["owner"].map(counts).fillna(0).astype(int)
    extra["camera_id"] = "ANPR-" + extra["owner"] + "-" + extra["n"].astype(int).map("{:03d}".format)
    extra["name"] = "ANPR " + extra["camera_id"].str[5:] + " (axe principal)"
    return pd.concat([cameras, extra[cameras.columns]], ignore_index=True)


def trainee_name(number: int) -> str:
    """The user name of trainee ``number`` (from 1) of a training world: ``trainee.01``..."""
    return f"trainee.{number:02d}"


def trainee_case(number: int) -> str:
    """The training case of trainee ``number``: each trainee works in a case of their own."""
    return f"{TRAINING_CASE}-{number:02d}"


def build_world(store: Store, day: date, cameras: pd.DataFrame | None = None, *, trainees: int = 0) -> None:
    """Write partners, retentions, users, agreements, cameras and the sample cases in one transaction.

    ``trainees`` adds that many trainee users (investigators of the federal
    police's school), each a member of a training case of their own with the
    trainer, and of the closed training case.
    """
    t0 = midnight(day)
    cameras = base_cameras() if cameras is None else cameras
    people = USERS + [(trainee_name(k), f"Stagiaire / Stagiair {k:02d}", "FEDPOL", "investigator")
                      for k in range(1, trainees + 1)]
    with store.session() as session:
        partners = {code: Partner(code=code, name=name, kind=kind, zone_code=zone)
                    for code, name, kind, zone in PARTNERS}
        session.add_all(partners.values())
        session.flush()
        session.add_all(Retention(partner_id=partners[p].id, data_kind=k, days=d) for p, k, d in RETENTIONS)
        users = {n: User(name=n, full_name=f, partner_id=partners[p].id, role=r, active=True) for n, f, p, r in people}
        session.add_all(users.values())
        session.add_all(Camera(id=c.camera_id, partner_id=partners[c.owner].id, kind=c.kind, name=c.name,
                               lon=c.lon, lat=c.lat, heading=None if pd.isna(c.heading) else float(c.heading),
                               fov_deg=None if pd.isna(c.fov_deg) else float(c.fov_deg),
                               range_m=None if pd.isna(c.range_m) else float(c.range_m), active=True)
                        for c in cameras.itertuples())
        for a in AGREEMENTS:
            session.add(Agreement(
                owner_id=partners[a.owner].id, recipient_id=partners[a.recipient].id, data_kinds=list(a.kinds),
                purposes=list(a.purposes), camera_scope=None if a.scope is None else list(a.scope),
                valid_from=t0 + timedelta(days=a.starts),
                valid_until=None if a.ends is None else t0 + timedelta(days=a.ends),
                revoked_at=None if a.revoked is None else t0 + timedelta(days=a.revoked),
                revocation_reason=None if a.revoked is None else "révoqué par le propriétaire (exemple)",
                authorisation_ref=a.reference))
        session.flush()
        cases = [
            Case(reference=SAMPLE_CASE, title="Vol de véhicule et cambriolages en série (cas d'exemple)",
                 purpose="judicial-investigation",
                 legal_basis="Réquisition du procureur du Roi, art. 46sexies CIC (exemple fictif)",
                 status="open", is_training=False, opened_at=t0 - timedelta(days=2),
                 members=[CaseMember(user_id=users[n].id) for n in
                          ("inspector.dupont", "analyst.peeters", "dispatcher.lambert", "inspector.janssens",
                           "trainer.claes")]),
            Case(reference=CLOSED_CASE, title="Dossier clôturé (exemple)", purpose="judicial-investigation",
                 legal_basis="Réquisition du procureur du Roi (exemple fictif)", status="closed", is_training=False,
                 opened_at=t0 - timedelta(days=300), closed_at=t0 - timedelta(days=200),
                 members=[CaseMember(user_id=users["inspector.dupont"].id)]),
            Case(reference=TRAINING_CASE, title="Formation : reconstituer un trajet (cas d'exemple)",
                 purpose="training", legal_basis="Formation interne sur données d'exemple", status="open",
                 is_training=True, opened_at=t0 - timedelta(days=1),
                 members=[CaseMember(user_id=users[n].id) for n in ("trainer.claes", "inspector.vermeulen")]),
            Case(reference=CLOSED_TRAINING_CASE, title="Formation de l'an passé, clôturée (exemple)",
                 purpose="training", legal_basis="Formation interne sur données d'exemple", status="closed",
                 is_training=True, opened_at=t0 - timedelta(days=90), closed_at=t0 - timedelta(days=60),
                 members=[CaseMember(user_id=users[n].id) for n in ["trainer.claes", "inspector.vermeulen"]
                          + [trainee_name(k) for k in range(1, trainees + 1)]]),
            *(Case(reference=trainee_case(k), title=f"Formation : enquête d'exemple du stagiaire {k:02d}",
                   purpose="training", legal_basis="Formation interne sur données d'exemple", status="open",
                   is_training=True, opened_at=t0 - timedelta(days=1),
                   members=[CaseMember(user_id=users[n].id) for n in ("trainer.claes", trainee_name(k))])
              for k in range(1, trainees + 1)),
        ]
        session.add_all(cases)
        session.flush()
        # the sample case seized the incident day on the metro cameras it looked at
        for camera_id in cameras.loc[cameras["owner"] == "STIB", "camera_id"].head(3):
            session.add(Hold(case_id=cases[0].id, camera_id=camera_id, start=t0, end=t0 + timedelta(days=1),
                             reason="Saisie des images du jour des faits (exemple)", created_at=t0 + timedelta(days=1)))
