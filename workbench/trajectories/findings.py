"""What a trajectory's data says about itself: impossible hops, suspected clones, misreads, blind spots, exclusions.

A reconstructed trajectory (:mod:`workbench.trajectories.trajectory`) keeps
every sighting of the plate; this module names what an investigator must not
read as one ordinary trip:

- an impossible hop (faster than any car between the two cameras) is a
  *suspected clone* when both ends were read as the plate itself, and a
  *misread* when one end is a look-alike read merged into the journey;
- a camera near the inferred route that the case may not see is a *blind spot*
  (the vehicle may have passed it unseen), with the access layer's reason;
- :func:`exclusions` counts what was left out of the picture and why.

    >>> notes = sighting_notes(trip)              # doctest: +SKIP
    >>> blind = blind_spots(trip.route, case.camera_access())   # doctest: +SKIP
    >>> exclusions(trip, blind)                    # doctest: +SKIP
           what  count                               reason
    0  blind-spot     26  no active agreement ...

Everything here works on frames the access layer already returned; nothing
reads data.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

BLIND_SPOT_BUFFER_M = 150.0
"""A refused camera closer than this to the inferred route is a blind spot of the trajectory."""

HOP_COLUMNS = ["from_sighting", "to_sighting", "from_camera", "to_camera", "start", "end", "length_m", "dt_s",
               "speed_kmh", "kind", "reason"]
BLIND_COLUMNS = ["camera_id", "name", "partner", "kind", "lon", "lat", "reason", "distance_m"]
EXCLUSION_COLUMNS = ["what", "count", "reason"]


def impossible_hops(trip) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The trajectory's impossible hops, each named ``clone`` (suspected cloned plate) or ``misread``.

    Columns: from/to sighting and camera, start, end, length_m, dt_s, speed_kmh, kind, reason.
    """
    flags = trip.flags
    if flags.empty:
        return pd.DataFrame(columns=HOP_COLUMNS)
    merged = set(trip.sightings.loc[trip.sightings["merged_misread"].astype(bool), "sighting_id"]) \
        if "merged_misread" in trip.sightings else set()
    kind = ["misread" if {a, b} & merged else "clone" for a, b in zip(flags["from_sighting"], flags["to_sighting"])]
    return flags.assign(kind=kind)[HOP_COLUMNS].reset_index(drop=True)


def sighting_notes(trip) -> pd.Series:  # type: ignore[no-untyped-def]
    """One note per sighting (indexed like ``trip.sightings``): ``misread``, ``clone``, both joined by '+', or ''."""
    notes: dict[int, set[str]] = {i: set() for i in trip.sightings.index}
    ids = pd.Series(trip.sightings.index, index=trip.sightings["sighting_id"])
    if "merged_misread" in trip.sightings:
        for i in trip.sightings.index[trip.sightings["merged_misread"].astype(bool)]:
            notes[i].add("misread")
    for hop in impossible_hops(trip).itertuples():
        if hop.kind == "clone":
            for sid in (hop.from_sighting, hop.to_sighting):
                notes[int(ids[sid])].add("clone")
    return pd.Series({i: "+".join(sorted(n)) for i, n in notes.items()}, dtype=object).reindex(trip.sightings.index)


def blind_spots(route: gpd.GeoDataFrame, access: pd.DataFrame, *,
                buffer_m: float = BLIND_SPOT_BUFFER_M) -> pd.DataFrame:
    """Cameras within ``buffer_m`` of the route's main lines that the case may not see, with the reason.

    ``access`` is :meth:`CaseScope.camera_access` (camera_id, name, partner,
    kind, lon, lat, granted, reason); ``route`` is ``Trajectory.route``.
    """
    refused = access[~access["granted"].astype(bool) & access["lon"].notna() & access["lat"].notna()]
    main = route[route["kind"] == "main"] if len(route) else route
    if refused.empty or main.empty:
        return pd.DataFrame(columns=BLIND_COLUMNS)
    lines = main.to_crs("EPSG:31370").geometry.union_all()
    points = gpd.GeoSeries(gpd.points_from_xy(refused["lon"], refused["lat"]), index=refused.index,
                           crs="EPSG:4326").to_crs("EPSG:31370")
    distance = points.distance(lines)
    near = refused.assign(distance_m=distance.round(0))[distance <= buffer_m]
    return near[BLIND_COLUMNS].sort_values(["distance_m", "camera_id"], ignore_index=True)


def exclusions(trip, blind: pd.DataFrame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """What the picture leaves out and why: one row per (what, reason) with a count.

    ``what`` is ``blind-spot`` (cameras on the route the case may not see),
    ``rejected-read`` (look-alike reads that do not fit the journey),
    ``unplaced`` (sightings at cameras without a position) or
    ``impossible-hop`` (hops left without a route: no car could drive them).
    """
    rows: list[dict[str, object]] = []
    for reason, group in blind.groupby("reason", sort=True):
        rows.append({"what": "blind-spot", "count": len(group), "reason": str(reason)})
    if len(trip.rejected):
        for reason, group in trip.rejected.groupby("reason", sort=True):
            rows.append({"what": "rejected-read", "count": len(group), "reason": str(reason)})
    unplaced = trip.sightings[trip.sightings["lon"].isna()]
    if len(unplaced):
        rows.append({"what": "unplaced", "count": len(unplaced),
                     "reason": ", ".join(sorted(set(unplaced["camera_id"])))})
    hops = impossible_hops(trip)
    for kind, group in hops.groupby("kind", sort=True):
        rows.append({"what": "impossible-hop", "count": len(group), "reason": str(kind)})
    return pd.DataFrame(rows, columns=EXCLUSION_COLUMNS)
