"""``workbench bench trajectories``: a simulated day of ANPR reads, ours against straightforward baselines.

Timed in one run, on this machine:

* ingest: reads/s through the real feed path (parse, validate, merge, SQLite);
* the whole day's reconstruction (every plate's hops: network distance, implied
  speed, plausibility) through the case-scoped access layer, against a pandas
  group-by with a networkx shortest path per hop (timed on a sample of plates
  and scaled to the day by hop count, since it would take hours);
* one plate's year through ``case.trajectory``;
* fuzzy plate search over the distinct plates (padded to ``--distinct-plates``)
  against SQL LIKE plus a per-row Levenshtein loop;
* convoy analysis against an SQL self-join;
* accuracy against the ground truth: route recall, misread-merge precision and
  recall, cloned-plate precision and recall.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import click
import numpy as np
import pandas as pd
from sqlalchemy import update

BASELINE_PLATES = 300


def _timer() -> float:
    return time.perf_counter()


def _world(home: Path, day: date, n_cameras: int):  # type: ignore[no-untyped-def]
    """A catalogue with the sample partners and ``n_cameras`` ANPR cameras of Brussels Mobility."""
    from workbench.config import Settings
    from workbench.samples.simulated_traffic import anpr_positions
    from workbench.samples.world import build_world
    from workbench.store import Store
    from workbench.store.models import Partner, Retention
    from workbench.trajectories.road_graph import RoadGraph

    settings = Settings.from_env({}, home=home)
    store = Store(settings)
    store.migrate()
    graph = RoadGraph.load(settings.cache_dir)
    pos = anpr_positions(graph, n_cameras, seed=11)
    cameras = pd.DataFrame({"camera_id": [f"ANPR-BM-{i:03d}" for i in range(len(pos))], "owner": "BM",
                            "kind": "anpr", "name": "bench", "lon": pos["lon"], "lat": pos["lat"], "heading": None,
                            "fov_deg": None, "range_m": 30.0})
    build_world(store, day, cameras)
    with store.session() as s:  # a year of plate reads stays visible for the one-plate test
        bm = s.query(Partner.id).filter(Partner.code == "BM").scalar()
        s.execute(update(Retention).where(Retention.partner_id == bm, Retention.data_kind == "plates")
                  .values(days=400))
    return settings, store, graph, cameras.assign(node=pos["node"].to_numpy())


def _simulate(graph, cameras, day: date, reads: int):  # type: ignore[no-untyped-def]
    from workbench.samples.simulated_traffic import simulate_day

    pilot = simulate_day(graph, cameras, day=day, vehicles=1000, seed=5, clones=2)
    per_vehicle = max(len(pilot.reads) / 1000, 0.5)
    return simulate_day(graph, cameras, day=day, vehicles=int(reads / per_vehicle * 1.02) + 50, seed=5, clones=25)


def _year_feed(path: Path, plate: str, cameras: list[str], day: date) -> Path:
    rng = np.random.default_rng(3)
    rows = []
    for d in range(365):
        for k in range(4):
            t = datetime.combine(day - timedelta(days=d), datetime.min.time(), tzinfo=timezone.utc) \
                + timedelta(hours=7 + 3 * k, minutes=int(rng.integers(0, 50)))
            rows.append(("YEAR", f"y{d}-{k}", cameras[int(rng.integers(len(cameras)))], t.isoformat(), plate))
    pd.DataFrame(rows, columns=["source", "read_id", "camera_id", "timestamp", "plate"]).to_csv(path, index=False)
    return path


def _baseline_day(sightings: pd.DataFrame, graph, cameras: pd.DataFrame, plates: list[str]) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """pandas group-by + networkx shortest path per hop, for ``plates``; returns (seconds, hops)."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(graph.edge_src.tolist(), graph.edge_dst.tolist(), graph.edge_time.tolist()),
                              weight="time")
    node_of = dict(zip(cameras["camera_id"], cameras["node"]))
    subset = sightings[sightings["plate"].isin(plates)]
    hops, t0 = 0, _timer()
    for _, group in subset.sort_values("time").groupby("plate"):
        rows = group.to_dict("records")
        for a, b in zip(rows, rows[1:]):
            try:
                free = nx.shortest_path_length(g, node_of[a["camera_id"]], node_of[b["camera_id"]], weight="time")
            except nx.NetworkXNoPath:
                free = float("inf")
            dt = (b["time"] - a["time"]).total_seconds()
            _ = dt * 1.6 >= free or free <= 20  # plausibility, as ours
            hops += 1
    return _timer() - t0, hops


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def _padded_plates(real: list[str], n: int) -> list[str]:
    rng = np.random.default_rng(9)
    letters = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))
    extra = n - len(real)
    if extra <= 0:
        return real
    digits = rng.integers(1, 10, extra * 2).astype(str)
    mid = ["".join(x) for x in rng.choice(letters, (extra * 2, 3))]
    tail = np.char.zfill(rng.integers(0, 1000, extra * 2).astype(str), 3)
    synthetic = pd.unique(np.char.add(np.char.add(digits, mid), tail))
    return list(pd.unique(np.concatenate([np.array(real, dtype=object), synthetic.astype(object)]))[:n])


def _route_recall(case, graph, truth, sightings: pd.DataFrame, network, n: int = 150) -> float:  # type: ignore[no-untyped-def]
    """Share of the true route length (between first and last read camera of each trip) recovered."""
    from workbench.trajectories.trajectory import reconstruct

    rng = np.random.default_rng(4)
    counts = sightings["plate"].value_counts()
    vehicles = truth.vehicles[truth.vehicles["role"] == "traffic"]
    vehicles = vehicles[vehicles["plate"].map(counts).fillna(0) >= 3]
    chosen = vehicles.sample(min(n, len(vehicles)), random_state=int(rng.integers(1000)))
    true_len = found_len = 0.0
    node_cam = {int(node): cam
                for cam, nodes in zip(network.cameras["camera_id"], network.candidates) for node in nodes}
    for v in chosen.itertuples():
        traj = reconstruct(sightings[sightings["plate"] == v.plate], network, plate=v.plate)
        inferred = set()
        for r in traj.hops[traj.hops["plausible"] & ~traj.hops["trip_break"]].itertuples():
            path = network.route_nodes(r.from_camera, r.to_camera)
            inferred |= set(zip(path, path[1:]))
        for trip in truth.trips[truth.trips["vehicle"] == v.vehicle].itertuples():
            times, pred = graph.shortest(int(trip.origin_node))
            path = graph.path(pred[0], int(trip.destination_node))
            seen = [i for i, node in enumerate(path) if node in node_cam]
            if len(seen) < 2:
                continue
            span = path[seen[0]:seen[-1] + 1]
            for a, b in zip(span, span[1:]):
                length = float(np.hypot(graph.x[b] - graph.x[a], graph.y[b] - graph.y[a]))
                true_len += length
                found_len += length if (a, b) in inferred else 0.0
    return found_len / true_len if true_len else float("nan")


def _merge_accuracy(index, sightings: pd.DataFrame, network, truth, n: int = 300) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Precision and recall of merging misread sightings into the right vehicle's trajectory."""
    from workbench.trajectories.trajectory import reconstruct

    vehicle_of_read = dict(zip("ANPR@GPI:" + truth.reads["read_id"], truth.reads["vehicle"]))
    owner = sightings["source_ids"].map(lambda ids: vehicle_of_read.get(ids[0]) if ids else None)
    sightings = sightings.assign(vehicle=owner)
    plate_vehicle = truth.vehicles.drop_duplicates("plate", keep=False).set_index("plate")["vehicle"]
    targets = truth.vehicles[(truth.vehicles["role"] == "traffic")]["plate"]
    misread = sightings[sightings["plate"] != sightings["vehicle"].map(truth.vehicles.set_index("vehicle")["plate"])]
    having = set(misread["vehicle"].dropna().astype(int))
    targets = [p for p in targets if plate_vehicle.get(p) in having][:n]
    merged_ok = merged_all = should = 0
    by_plate = dict(tuple(sightings.groupby("plate")))
    misread_of = misread[misread["camera_id"].isin(network.index)].groupby("vehicle").size().to_dict()
    for plate in targets:
        candidates = [p for p, _ in index.fuzzy(plate, max_distance=0.5)]
        frame = pd.concat([by_plate[p] for p in candidates if p in by_plate])
        traj = reconstruct(frame.assign(distance=0.0), network, plate=plate)
        merged = traj.sightings[traj.sightings["merged_misread"]]
        vehicle = plate_vehicle[plate]
        merged_all += len(merged)
        merged_ok += int((merged["vehicle"] == vehicle).sum())
        should += int(misread_of.get(vehicle, 0))
    return (merged_ok / merged_all if merged_all else float("nan"), merged_ok / should if should else float("nan"))


@click.command()
@click.option("--reads", default=1_000_000, show_default=True, help="plate reads in the simulated day")
@click.option("--cameras", "n_cameras", default=450, show_default=True, help="ANPR cameras")
@click.option("--distinct-plates", default=3_000_000, show_default=True, help="distinct plates for fuzzy search")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(reads: int, n_cameras: int, distinct_plates: int, as_json: bool) -> None:
    """Reconstruction, fuzzy search and convoy against baselines, with accuracy against ground truth."""
    import workbench
    from workbench.access import audit
    from workbench.plates import PlateIndex
    from workbench.plates.read_ingest import ingest_files
    from workbench.samples import SAMPLE_CASE
    from workbench.trajectories.camera_network import CameraNetwork
    from workbench.trajectories.trajectory import day_hops
    from workbench.trajectories.vehicle_analyses import cloned_plates

    say = (lambda *a: None) if as_json else click.echo
    out: dict[str, float | int] = {}
    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings, store, graph, cameras = _world(home, day, n_cameras)
        say(f"road graph: {graph.n_nodes:,} nodes; {len(cameras)} ANPR cameras")
        t0 = _timer()
        traffic = _simulate(graph, cameras, day, reads)
        say(f"simulated {len(traffic.reads):,} reads of {len(traffic.truth.vehicles):,} vehicles "
            f"in {_timer() - t0:.1f} s")
        feed = home / "day.csv"
        traffic.reads.to_csv(feed, index=False)
        now = datetime.now(timezone.utc)
        t0 = _timer()
        ops = audit.writer(audit.Actor("system:bench"), time=now)
        report = ingest_files(store, [feed], now=now, audit=ops)[0]
        ingest_s = _timer() - t0
        out["reads"] = len(traffic.reads)
        out["reads_per_s"] = round(report.loaded / ingest_s)
        say(f"ingest: {report.loaded:,} reads in {ingest_s:.1f} s = {out['reads_per_s']:,} reads/s "
            f"({report.merged:,} merged, {report.duplicates:,} duplicates)")

        ws = workbench.open(home)
        case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
        since, until = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc), now
        t0 = _timer()
        visible = pd.DataFrame(case.cameras(kind="anpr"))
        CameraNetwork(graph, visible, cache_dir=settings.cache_dir)
        say(f"camera-to-camera matrices precomputed once for {len(visible)} cameras in {_timer() - t0:.1f} s")
        t0 = _timer()
        sightings = case.sightings(None, since=since, until=until, action="bench-day", with_sources=False)
        network = CameraNetwork(graph, pd.DataFrame(case.cameras(kind="anpr")), cache_dir=settings.cache_dir)
        hops = day_hops(sightings, network)
        out["day_reconstruct_s"] = round(_timer() - t0, 3)
        plates = sightings["plate"].unique()
        sample = list(np.random.default_rng(1).choice(plates, min(BASELINE_PLATES, len(plates)), replace=False))
        base_s, base_hops = _baseline_day(sightings, graph, cameras, sample)
        out["day_baseline_s"] = round(base_s * len(hops) / max(base_hops, 1), 1)
        out["day_speedup"] = round(out["day_baseline_s"] / out["day_reconstruct_s"], 1)
        say(f"day reconstruction: ours {out['day_reconstruct_s']} s for {len(hops):,} hops of {len(plates):,} plates "
            f"(read through the access layer included); baseline {out['day_baseline_s']} s (timed {base_s:.1f} s on "
            f"{base_hops:,} hops of {len(sample)} plates, scaled) -> {out['day_speedup']}x")

        year_plate = "1YRS365"
        ingest_files(store, [_year_feed(home / "year.csv", year_plate, list(cameras["camera_id"]), day)], now=now,
                     audit=ops)
        t0 = _timer()
        year = case.trajectory(year_plate, since=now - timedelta(days=365), until=now)
        out["year_one_plate_cold_s"] = round(_timer() - t0, 3)
        t0 = _timer()
        year = case.trajectory(year_plate, since=now - timedelta(days=365), until=now)
        out["year_one_plate_s"] = round(_timer() - t0, 3)
        say(f"one plate over 365 days: {len(year)} sightings reconstructed in {out['year_one_plate_s']} s "
            f"({out['year_one_plate_cold_s']} s on the first call, which rebuilds the plate index after the ingest)")

        real = sorted(set(plates))
        padded = _padded_plates(real, distinct_plates)
        t0 = _timer()
        index = PlateIndex(padded)
        build_s = _timer() - t0
        rng = np.random.default_rng(2)
        queries = [p[:i] + {"B": "8", "O": "0", "S": "5", "1": "I", "Z": "2", "G": "6"}.get(p[i], p[i]) + p[i + 1:]
                   for p in rng.choice(real, 300) for i in [int(rng.integers(len(p)))]]
        lat = []
        for q in queries:
            t0 = _timer()
            index.fuzzy(q)
            lat.append(_timer() - t0)
        out["fuzzy_distinct_plates"] = len(index)
        out["fuzzy_p95_ms"] = round(float(np.percentile(lat, 95)) * 1000, 2)
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE plates (plate TEXT)")
        db.executemany("INSERT INTO plates VALUES (?)", ((p,) for p in padded))
        base_lat = []
        for q in queries[:3]:
            t0 = _timer()
            rows = db.execute("SELECT plate FROM plates WHERE plate LIKE ?", (q[0] + "%",)).fetchall()
            _ = [p for (p,) in rows if _levenshtein(q, p) <= 1]
            base_lat.append(_timer() - t0)
        out["fuzzy_baseline_ms"] = round(float(np.mean(base_lat)) * 1000, 1)
        say(f"fuzzy search over {len(index):,} distinct plates (index built in {build_s:.1f} s): p95 "
            f"{out['fuzzy_p95_ms']} ms; baseline SQL LIKE + Levenshtein loop {out['fuzzy_baseline_ms']} ms per query "
            f"-> {out['fuzzy_baseline_ms'] / max(out['fuzzy_p95_ms'], 1e-3):.0f}x")

        suspect = traffic.truth.scenario["suspect"]
        t0 = _timer()
        ranked = case.convoy(suspect, since=since, until=until)
        out["convoy_s"] = round(_timer() - t0, 3)
        t0 = _timer()
        with store.engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT s2.plate, COUNT(DISTINCT s2.camera_id) AS n FROM sighting s1 JOIN sighting s2 "
                "ON s1.camera_id = s2.camera_id AND s2.plate <> s1.plate AND "
                "ABS(julianday(s2.first_time) - julianday(s1.first_time)) * 86400 <= 60 "
                "WHERE s1.plate = ? GROUP BY s2.plate HAVING n >= 2 ORDER BY n DESC", (suspect,)).fetchall()
        out["convoy_baseline_s"] = round(_timer() - t0, 3)
        top = ranked.iloc[0]["plate"] if len(ranked) else None
        ratio = out["convoy_baseline_s"] / max(out["convoy_s"], 1e-6)
        say(f"convoy: ours {out['convoy_s']} s (top: {top}, truth: {traffic.truth.scenario['convoy']}); "
            f"SQL self-join {out['convoy_baseline_s']} s -> {ratio:.1f}x")

        out["route_recall"] = round(_route_recall(case, graph, traffic.truth, sightings, network), 3)
        with_ids = case.sightings(None, since=since, until=until, action="bench-accuracy")
        precision, recall = _merge_accuracy(index, with_ids, network, traffic.truth)
        out["merge_precision"], out["merge_recall"] = round(precision, 3), round(recall, 3)
        flagged = set(cloned_plates(sightings, network)["plate"])
        cloned = set(traffic.truth.scenario["cloned"])
        out["clone_precision"] = round(len(flagged & cloned) / len(flagged), 3) if flagged else float("nan")
        out["clone_recall"] = round(len(flagged & cloned) / len(cloned), 3)
        say(f"accuracy: route recall {out['route_recall']}, misread merge precision {out['merge_precision']} / "
            f"recall {out['merge_recall']}, cloned plates precision {out['clone_precision']} / recall "
            f"{out['clone_recall']} ({len(flagged)} flagged, {len(cloned)} planted)")
        ws.store.dispose()
        store.dispose()
    if as_json:
        click.echo(json.dumps(out))
