"""Trajectories on the real road network, checked against the sample traffic's ground truth."""

from __future__ import annotations

from datetime import timedelta

import geopandas as gpd
import pandas as pd
import pytest

from workbench.errors import InvalidInput
from workbench.samples import SAMPLE_CASE, ground_truth_dir
from workbench.samples.simulated_traffic import GroundTruth
from workbench.trajectories.road_graph import ATTRIBUTION, RoadGraph

from conftest import NOW, OPS, sample_workspace

PURPOSE = "judicial-investigation"


@pytest.fixture(scope="module")
def world(sample_copy):
    """The sample world with its simulated day of traffic (SQLite), and its ground truth."""
    with sample_workspace(sample_copy) as ws:
        case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
        yield ws, case, GroundTruth.load(ground_truth_dir(ws.settings))


@pytest.fixture(scope="module")
def graph(world):
    return RoadGraph.load(world[0].settings.cache_dir)


def test_graph_is_the_real_region_with_one_way_streets(graph):
    assert graph.n_nodes > 30_000 and len(graph.edge_src) > 60_000 and "OpenStreetMap" in ATTRIBUTION
    assert 4.2 < graph.lon.min() < 4.3 and 4.42 < graph.lon.max() < 4.6
    pairs = set(zip(graph.edge_src.tolist(), graph.edge_dst.tolist()))
    one_way = sum((b, a) not in pairs for a, b in pairs)
    assert one_way > 2000  # one-way streets are kept one way
    grand_place, heysel = graph.snap([4.3525, 4.3395], [50.8467, 50.8950])
    times, pred = graph.shortest(grand_place)
    km = graph.path_length(graph.path(pred[0], int(heysel))) / 1000
    assert 6.5 < km < 9.5 and 5 * 60 < times[0, heysel] < 20 * 60


def test_suspect_trajectory_recovers_its_true_passages(world):
    ws, case, truth = world
    suspect = truth.scenario["suspect"]
    trip = case.trajectory(suspect)
    visible = set(case.cameras(kind="anpr")["camera_id"])
    true = truth.passages[(truth.passages["plate"] == suspect) & truth.passages["camera_id"].isin(visible)]
    found = set(zip(trip.sightings["camera_id"], trip.sightings["time"].dt.floor("s")))
    expected = set(zip(true["camera_id"], true["time"].dt.floor("s")))
    assert len(expected) >= 4 and len(found & expected) >= len(expected) - 2  # 8 % of reads are missed
    assert set(trip.sightings["camera_id"]) <= visible
    assert trip.hops["plausible"].all() and len(trip.trips) >= 2
    assert set(trip.route["kind"]) >= {"main"} and trip.route.crs.to_epsg() == 4326
    assert (trip.route.loc[trip.route["kind"] == "main", "length_m"] > 0).all()


def test_convoy_finds_the_car_travelling_with_the_suspect(world):
    _, case, truth = world
    ranked = case.convoy(truth.scenario["suspect"])
    assert ranked.iloc[0]["plate"] == truth.scenario["convoy"] and ranked.iloc[0]["cameras"] >= 3


def test_cloned_plate_is_flagged_and_the_suspect_is_not(world):
    _, case, truth = world
    flagged = set(case.cloned_plates()["plate"])
    assert set(truth.scenario["cloned"]) <= flagged and truth.scenario["suspect"] not in flagged
    trip = case.trajectory(truth.scenario["cloned"][0], fuzzy=False)
    assert (~trip.hops["plausible"]).any() and "impossible" in trip.flags["reason"].iloc[0]


def test_stolen_car_is_a_priority_one_hit(world):
    _, case, truth = world
    hits = case.hits()
    stolen = hits[hits["plate"] == truth.scenario["stolen"]]
    assert len(stolen) >= 1 and (stolen["priority"] == 1).all() and (hits["decision"] == "act").all()


def test_a_misread_that_fits_is_merged_and_one_that_does_not_is_rejected(world, tmp_path):
    ws, case, truth = world
    from workbench.plates.read_ingest import ingest_files

    suspect = truth.scenario["suspect"]
    base = case.trajectory(suspect)
    a, b = base.hops[base.hops["plausible"] & ~base.hops["trip_break"]].iloc[0][["from_camera", "end"]]
    first = base.sightings.iloc[0]
    from workbench.samples.simulated_traffic import CONFUSABLE

    i = next(k for k, ch in enumerate(suspect) if ch in CONFUSABLE)
    misread = suspect[:i] + CONFUSABLE[suspect[i]] + suspect[i + 1:]  # a look-alike, as ANPR cameras misread
    far_cam = base.sightings["camera_id"].iloc[-1]
    feed = tmp_path / "extra.csv"
    feed.write_text("source,read_id,camera_id,timestamp,plate\n"
                    f"TEST,m1,{first['camera_id']},{(first['time'] + timedelta(seconds=5)).isoformat()},{misread}\n"
                    f"TEST,m2,{far_cam},{(first['time'] + timedelta(seconds=30)).isoformat()},{misread}\n")
    ingest_files(ws.store, [feed], now=NOW, audit=OPS)
    trip = case.trajectory(suspect)
    merged = trip.sightings[trip.sightings["merged_misread"]]
    planted = int(base.sightings["merged_misread"].sum())   # the sample world plants one misread of the suspect
    assert planted == 1 and len(merged) == planted + 1 and misread in set(merged["plate_as_read"])
    assert len(trip.sightings) == len(base.sightings) + 1
    assert len(trip.rejected) >= 1 and "does not fit" in trip.rejected["reason"].iloc[0]
    assert trip.hops["plausible"].all()


def test_position_cctv_windows_and_exports(world, tmp_path):
    _, case, truth = world
    trip = case.trajectory(truth.scenario["suspect"])
    hop = trip.hops[trip.hops["plausible"] & ~trip.hops["trip_break"] & (trip.hops["length_m"] > 500)].iloc[0]
    mid = hop["start"] + (hop["end"] - hop["start"]) / 2
    point, radius = trip.position_at(mid)
    route = trip.route[(trip.route["hop"] == hop.name) & (trip.route["kind"] == "main")].geometry.iloc[0]
    assert gpd.GeoSeries([route], crs=4326).to_crs(31370).distance(
        gpd.GeoSeries([point], crs=4326).to_crs(31370)).iloc[0] < 1 and 30 <= radius < 5000
    with pytest.raises(InvalidInput, match="outside the sightings"):
        trip.position_at(trip.sightings["time"].iloc[0] - timedelta(days=1))
    on_route = route.interpolate(0.5, normalized=True)
    cams = pd.DataFrame({"camera_id": ["CCTV-ON-ROUTE", "CCTV-FAR"], "lon": [on_route.x, 4.40],
                         "lat": [on_route.y, 50.78], "range_m": [50.0, 50.0]})
    windows = trip.cctv_windows(cams)
    assert set(windows["camera_id"]) == {"CCTV-ON-ROUTE"}
    w = windows.iloc[0]
    assert hop["start"] <= w["start"] < w["end"] <= hop["end"]
    assert len(gpd.read_file(trip.to_geojson(tmp_path / "t.geojson"))) == len(trip.sightings) + len(trip.route)
    assert len(gpd.read_file(trip.to_geopackage(tmp_path / "t.gpkg"), layer="sightings")) == len(trip.sightings)
    assert len(trip.to_movingpandas().df) == len(trip.sightings)


def test_stakeout_common_plates_and_locate(world):
    _, case, truth = world
    trip = case.trajectory(truth.scenario["suspect"])
    s0, s1 = trip.sightings.iloc[0], trip.sightings.iloc[-1]
    places = [([s0["camera_id"]], s0["time"] - timedelta(minutes=2), s0["time"] + timedelta(minutes=2)),
              ([s1["camera_id"]], s1["time"] - timedelta(minutes=2), s1["time"] + timedelta(minutes=2))]
    common = case.common_plates(places)
    assert truth.scenario["suspect"] in set(common["plate"]) and (common["places"] == 2).all()
    seen = case.stakeout([s0["camera_id"]], since=s0["time"] - timedelta(minutes=5),
                         until=s0["time"] + timedelta(minutes=5))
    assert truth.scenario["suspect"] in set(seen["plate"])
    last, nxt = case.locate(truth.scenario["suspect"])
    assert last["time"] == trip.sightings["time"].iloc[-1]
    assert len(nxt) >= 1 and 0 < nxt["probability"].sum() <= 1.0 + 1e-9
    assert nxt["probability"].is_monotonic_decreasing


def test_a_user_without_the_agreements_sees_a_shorter_trajectory(world):
    ws, case, truth = world
    other = ws.login("inspector.janssens").open_case(SAMPLE_CASE, purpose=PURPOSE)
    mine = case.trajectory(truth.scenario["suspect"])
    theirs = other.trajectory(truth.scenario["suspect"])
    assert set(theirs.sightings["camera_id"]) <= set(mine.sightings["camera_id"]) | set(
        other.cameras(kind="anpr")["camera_id"])
    assert set(theirs.sightings["camera_id"]) <= set(other.cameras(kind="anpr")["camera_id"])
