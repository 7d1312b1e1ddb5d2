"""The figures the regional council asks to measure, as counts only (no plate, no image).

    >>> figures = me.indicators(since="2026-11-01")          # doctest: +SKIP   (auditors and admins)
    >>> figures.hits_by_priority                             # priority x owning zone

- hotlist hits by priority and by the zone that owns the camera;
- requests for footage per case (frame views, searches, exports) and whether
  the case took evidence from them (an evidence package is in the trail), the
  nearest measure of "the footage helped" the platform records;
- accesses per partner, granted and refused;
- the cameras (position, field of view) with their number of hits, to set
  the coverage against where the hits happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select

from workbench.access import audit
from workbench.access.audit_actions import CUSTODY_ACTION
from workbench.store import Store
from workbench.store.models import Camera, Hit, Partner, Sighting

FOOTAGE_ACTIONS = ("list-footage", "frame", "frames-at", "frame-search", "export-clip")


@dataclass
class Indicators:
    """Three tables of counts for a period."""

    since: datetime | None
    until: datetime | None
    hits_by_priority: pd.DataFrame      # priority, zone, hits
    footage_requests: pd.DataFrame      # case, requests, refused, evidence_packages, helped
    accesses_by_partner: pd.DataFrame   # partner, granted, denied, errors
    cameras: pd.DataFrame               # camera_id, partner, kind, lon, lat, heading, fov_deg, range_m, hits

    def summary(self) -> dict[str, int]:
        """The headline numbers: hits, footage requests, cases helped by footage, accesses, refusals."""
        return {"hits": int(self.hits_by_priority["hits"].sum()),
                "footage_requests": int(self.footage_requests["requests"].sum()),
                "cases_helped": int(self.footage_requests["helped"].sum()),
                "accesses": int(self.accesses_by_partner[["granted", "denied", "errors"]].to_numpy().sum()),
                "refused": int(self.accesses_by_partner["denied"].sum())}


def compute(store: Store, since: datetime | None, until: datetime | None) -> Indicators:
    """The indicators over ``[since, until)`` from the catalogue and the audit trail."""
    query = (select(Hit.priority, Partner.code.label("zone"), func.count(Hit.id).label("hits"))
             .join(Sighting, Sighting.id == Hit.sighting_id).join(Camera, Camera.id == Sighting.camera_id)
             .join(Partner, Partner.id == Camera.partner_id).group_by(Hit.priority, Partner.code)
             .order_by(Hit.priority, Partner.code))
    per_camera = select(Sighting.camera_id, func.count(Hit.id).label("hits")).join(
        Hit, Hit.sighting_id == Sighting.id).group_by(Sighting.camera_id)
    period = [c for c in (None if since is None else Sighting.first_time >= since,
                          None if until is None else Sighting.first_time < until) if c is not None]
    query, per_camera = query.where(*period), per_camera.where(*period)
    cameras_query = select(Camera.id.label("camera_id"), Partner.code.label("partner"), Camera.kind, Camera.lon,
                           Camera.lat, Camera.heading, Camera.fov_deg, Camera.range_m).join(
        Partner, Partner.id == Camera.partner_id).order_by(Camera.id)
    with store.engine.connect() as conn:
        hits = pd.DataFrame(conn.execute(query).all(), columns=["priority", "zone", "hits"])
        counts = dict(conn.execute(per_camera).all())
        cameras = pd.DataFrame(conn.execute(cameras_query).mappings().all())
    cameras["hits"] = cameras["camera_id"].map(counts).fillna(0).astype(int)
    events = audit.events_frame(store, since=since, until=until)
    return Indicators(since, until, hits, _footage_requests(events), _accesses(events), cameras)


def _footage_requests(events: pd.DataFrame) -> pd.DataFrame:
    columns = ["case", "requests", "refused", "evidence_packages", "helped"]
    in_case = events[events["case_reference"].notna()]
    if in_case.empty:
        return pd.DataFrame(columns=columns)
    footage = in_case["action"].isin(FOOTAGE_ACTIONS)
    table = pd.DataFrame({
        "requests": footage.groupby(in_case["case_reference"]).sum(),
        "refused": (footage & (in_case["outcome"] == "denied")).groupby(in_case["case_reference"]).sum(),
        "evidence_packages": (in_case["action"] == CUSTODY_ACTION).groupby(in_case["case_reference"]).sum()})
    table = table[table["requests"] > 0].rename_axis("case").reset_index()
    table["helped"] = table["evidence_packages"] > 0
    return table[columns].astype({"requests": int, "refused": int, "evidence_packages": int})


def _accesses(events: pd.DataFrame) -> pd.DataFrame:
    if events.empty:
        return pd.DataFrame(columns=["partner", "granted", "denied", "errors"])
    table = pd.crosstab(events["partner_code"].fillna("-"), events["outcome"])
    table = table.reindex(columns=["ok", "denied", "error"], fill_value=0)
    table.columns = ["granted", "denied", "errors"]
    return table.rename_axis("partner").reset_index()
