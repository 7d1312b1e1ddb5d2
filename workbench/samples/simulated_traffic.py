"""A deterministic simulated day of traffic on the real Brussels road network.

Vehicles drive chains of trips between hubs along the fastest streets; every
time one passes an ANPR camera it may be read (or missed, misread, read twice,
delivered again later). A scenario is planted with ground truth: a stolen car,
a suspect vehicle with a car in convoy, and a cloned plate.

The ground truth (:class:`GroundTruth`) is kept apart from the reads: tests and
the trainers' solutions use it, the workbench never does.

    >>> traffic = simulate_day(graph, cameras, day=date(2026, 11, 20), vehicles=2000, seed=7)  # doctest: +SKIP
    >>> traffic.reads.head()          # the feed, as ANPR@GPI would deliver it                  # doctest: +SKIP
    >>> traffic.truth.scenario        # {"stolen": "1KLM392", "suspect": ..., ...}              # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.trajectories.road_graph import CLASS_NAMES, RoadGraph

COLOURS = ["white", "black", "grey", "silver", "red", "blue", "green", "yellow"]
COLOUR_WEIGHTS = [0.22, 0.2, 0.2, 0.14, 0.08, 0.1, 0.03, 0.03]
KINDS = ["car", "van", "truck", "motorbike"]
KIND_WEIGHTS = [0.8, 0.12, 0.05, 0.03]
CONFUSABLE = {"O": "0", "0": "O", "D": "0", "Q": "O", "I": "1", "1": "I", "L": "1", "B": "8", "8": "B", "S": "5",
              "5": "S", "Z": "2", "2": "Z", "G": "6", "6": "G"}
LETTERS = np.array(list("ABCDEFGHJKLMNPRSTVWXYZ"))


@dataclass
class GroundTruth:
    """What really happened: vehicles, every camera passage, the planted scenario."""

    vehicles: pd.DataFrame     # vehicle, plate, colour, kind, role
    passages: pd.DataFrame     # vehicle, plate, camera_id, time, direction, colour, kind
    trips: pd.DataFrame        # vehicle, trip, start, end, origin_node, destination_node, length_m
    reads: pd.DataFrame        # read_id, vehicle, true plate (what each delivered read really saw)
    scenario: dict[str, object]

    def save(self, folder: Path) -> None:
        """Write the ground truth as CSV and JSON files (for trainers and tests)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.vehicles.to_csv(folder / "vehicles.csv", index=False)
        self.passages.to_csv(folder / "passages.csv", index=False)
        self.trips.to_csv(folder / "trips.csv", index=False)
        self.reads.to_csv(folder / "reads.csv", index=False)
        (folder / "scenario.json").write_text(json.dumps(self.scenario, indent=2))

    @classmethod
    def load(cls, folder: Path) -> GroundTruth:
        passages = pd.read_csv(folder / "passages.csv", parse_dates=["time"])
        trips = pd.read_csv(folder / "trips.csv", parse_dates=["start", "end"])
        return cls(pd.read_csv(folder / "vehicles.csv"), passages, trips, pd.read_csv(folder / "reads.csv"),
                   json.loads((folder / "scenario.json").read_text()))


@dataclass
class Traffic:
    """The simulated feed and its ground truth."""

    reads: pd.DataFrame
    truth: GroundTruth


def anpr_positions(graph: RoadGraph, n: int, *, seed: int = 1) -> pd.DataFrame:
    """``n`` well-spread positions on main roads (farthest-point sampling), for ANPR cameras."""
    rng = np.random.default_rng(seed)
    major = np.unique(graph.edge_src[graph.edge_class <= CLASS_NAMES.index("secondary_link")])
    xy = np.column_stack([graph.x[major], graph.y[major]])
    chosen = [int(rng.integers(len(major)))]
    dist = np.hypot(*(xy - xy[chosen[0]]).T)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(xy - xy[nxt]).T))
    nodes = major[chosen]
    return pd.DataFrame({"node": nodes, "lon": graph.lon[nodes], "lat": graph.lat[nodes]})


def _plates(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct plates: Belgian 1-ABC-234 style, about 6 % French SIV."""
    m = int(n * 1.05) + 100  # a surplus covers the rare duplicates
    digits = rng.integers(1, 10, m).astype(str)
    letters = ["".join(x) for x in rng.choice(LETTERS, size=(m, 3))]
    numbers = np.char.zfill(rng.integers(0, 1000, m).astype(str), 3)
    plates = np.char.add(np.char.add(digits, letters), numbers).astype(object)
    foreign = rng.random(m) < 0.06
    fr = ["".join(a) + f"{b:03d}" + "".join(c)
          for a, b, c in zip(rng.choice(LETTERS, (m, 2)), rng.integers(0, 1000, m), rng.choice(LETTERS, (m, 2)))]
    plates[foreign] = np.array(fr, dtype=object)[foreign]
    return pd.unique(plates)[:n]


def _misread(rng: np.random.Generator, plate: str) -> str:
    spots = [i for i, ch in enumerate(plate) if ch in CONFUSABLE]
    if not spots:
        return plate
    i = spots[int(rng.integers(len(spots)))]
    return plate[:i] + CONFUSABLE[plate[i]] + plate[i + 1:]


def _bearing(graph: RoadGraph, a: int, b: int) -> str:
    angle = np.degrees(np.arctan2(graph.x[b] - graph.x[a], graph.y[b] - graph.y[a])) % 360
    return ["N", "NE", "E", "SE", "S", "SW", "W", "NW"][int(((angle + 22.5) % 360) // 45)]


def _od_passages(graph: RoadGraph, hubs: np.ndarray, camera_nodes: dict[int, list[str]]) -> tuple[dict, np.ndarray]:
    """For every hub pair: the cameras passed (camera, seconds from departure, direction), and the length."""
    times, pred = graph.shortest(hubs)
    passages: dict[tuple[int, int], list[tuple[str, float, str]]] = {}
    lengths = np.zeros((len(hubs), len(hubs)))
    for i in range(len(hubs)):
        for j in range(len(hubs)):
            if i == j or not np.isfinite(times[i, hubs[j]]):
                continue
            path = graph.path(pred[i], int(hubs[j]))
            lengths[i, j] = graph.path_length(path)
            seen = []
            for k, node in enumerate(path):
                for cam in camera_nodes.get(node, ()):
                    a, b = path[max(k - 1, 0)], path[min(k + 1, len(path) - 1)]
                    seen.append((cam, float(times[i, node]), _bearing(graph, a, b) if a != b else "N"))
            passages[(i, j)] = seen
    return passages, lengths


def simulate_day(graph: RoadGraph, cameras: pd.DataFrame, *, day: date, vehicles: int = 2000, seed: int = 7,
                 hubs: int = 40, clones: int = 1, source: str = "ANPR@GPI",
                 suspect_start_s: float = 8.25 * 3600) -> Traffic:
    """Simulate one day; ``cameras`` has camera_id, kind, node (snapped node) for ANPR and CCTV cameras.

    The suspect sets off ``suspect_start_s`` seconds after midnight (UTC);
    training variants move it with their seed.
    """
    rng = np.random.default_rng(seed)
    camera_nodes: dict[int, list[str]] = {}
    for cam, node in zip(cameras["camera_id"], cameras["node"]):
        camera_nodes.setdefault(int(node), []).append(cam)
    anpr = set(cameras.loc[cameras["kind"] == "anpr", "camera_id"])
    major = np.unique(graph.edge_src[graph.edge_class <= CLASS_NAMES.index("tertiary_link")])
    hub_nodes = np.unique(np.concatenate([rng.choice(major, hubs, replace=False),
                                          rng.choice(cameras["node"].to_numpy(), min(10, len(cameras)))]))
    od, lengths = _od_passages(graph, hub_nodes, camera_nodes)
    pairs = [k for k, v in od.items() if sum(c in anpr for c, _, _ in v) >= 2]
    busy = [k for k in pairs if sum(c in anpr for c, _, _ in od[k]) >= 4] or pairs
    plates = _plates(rng, vehicles)
    veh = pd.DataFrame({"vehicle": np.arange(vehicles), "plate": plates,
                        "colour": rng.choice(COLOURS, vehicles, p=COLOUR_WEIGHTS),
                        "kind": rng.choice(KINDS, vehicles, p=KIND_WEIGHTS), "role": "traffic"})
    midnight = pd.Timestamp(day, tz="UTC")
    onward: dict[int, list[tuple[int, int]]] = {}
    for pair in pairs:
        onward.setdefault(pair[0], []).append(pair)
    trips = []
    for v in range(vehicles):
        n_trips = int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
        t = rng.choice([rng.normal(7.5, 1.2), rng.normal(16.5, 1.5), rng.uniform(5, 22)], p=[0.35, 0.35, 0.3]) * 3600
        i, j = busy[int(rng.integers(len(busy)))] if rng.random() < 0.5 else pairs[int(rng.integers(len(pairs)))]
        factor = rng.uniform(1.05, 1.6)  # traffic is slower than free flow
        t = max(t, 60.0)
        for k in range(n_trips):
            if t > 86000:  # no trip starts after the simulated day
                break
            trips.append((v, k, i, j, float(t), factor))
            last = od[(i, j)][-1][1] if od[(i, j)] else 600.0
            t += last * factor + rng.uniform(600, 3 * 3600)
            nxt = onward.get(j, [])
            if not nxt:
                break
            i, j = nxt[int(rng.integers(len(nxt)))]
    trip_frame = pd.DataFrame(trips, columns=["vehicle", "trip", "o", "d", "start_s", "factor"])
    trip_frame, scenario = _plant_scenario(rng, veh, trip_frame, od, busy, anpr, clones, suspect_start_s)
    rows = []
    for tr in trip_frame.itertuples():
        for cam, offset, direction in od[(tr.o, tr.d)]:
            rows.append((tr.vehicle, cam, tr.start_s + offset * tr.factor, direction))
    passages = pd.DataFrame(rows, columns=["vehicle", "camera_id", "seconds", "direction"])
    passages = passages[passages["seconds"] < 86400 - 1].merge(veh[["vehicle", "plate", "colour", "kind"]],
                                                               on="vehicle")
    passages["time"] = midnight + pd.to_timedelta(passages["seconds"], unit="s")
    passages = passages.sort_values(["time", "camera_id"], ignore_index=True)
    reads, read_truth = _reads(rng, passages[passages["camera_id"].isin(anpr)], source)
    scenario["misread"] = _plant_misread(reads, read_truth, int(veh.loc[veh["role"] == "suspect", "vehicle"].iloc[0]))
    trip_frame["start"] = midnight + pd.to_timedelta(trip_frame["start_s"], unit="s")
    trip_frame["length_m"] = lengths[trip_frame["o"], trip_frame["d"]]
    trip_frame["origin_node"], trip_frame["destination_node"] = hub_nodes[trip_frame["o"]], hub_nodes[trip_frame["d"]]
    trip_frame["end"] = trip_frame["start"] + pd.to_timedelta(
        [(od[(o, d)][-1][1] if od[(o, d)] else 0) * f for o, d, f in zip(trip_frame["o"], trip_frame["d"],
                                                                            trip_frame["factor"])], unit="s")
    truth = GroundTruth(veh, passages.drop(columns=["seconds"]),
                        trip_frame[["vehicle", "trip", "start", "end", "origin_node", "destination_node", "length_m"]],
                        read_truth, scenario)
    return Traffic(reads, truth)


def _plant_scenario(rng, veh, trips, od, busy, anpr, clones, t0):  # type: ignore[no-untyped-def]
    """Stolen car, suspect + convoy, cloned plates: rewrite a few vehicles' trips and roles."""
    central = sorted(busy, key=lambda k: -sum(c in anpr for c, _, _ in od[k]))
    suspect, convoy, stolen = 0, 1, 2
    if not any(ch in CONFUSABLE for ch in veh.loc[suspect, "plate"]):  # the suspect's plate can be misread
        other = next(v for v in range(10, len(veh)) if any(ch in CONFUSABLE for ch in veh.loc[v, "plate"]))
        veh.loc[[suspect, other], "plate"] = veh.loc[[other, suspect], "plate"].to_numpy()
    chain = [central[0]] + [p for p in central[1:] if p[0] == central[0][1]][:1]
    planted = []
    for k, (o, d) in enumerate(chain):
        planted.append((suspect, k, o, d, t0 + k * 5400, 1.2))
        planted.append((convoy, k, o, d, t0 + k * 5400 + 25, 1.2))
    planted.append((stolen, 0, *central[1 % len(central)], 14 * 3600, 1.3))
    cloned = []
    for n in range(clones):
        clone_a, clone_b = 3 + 2 * n, 4 + 2 * n
        original = central[(2 + n) % len(central)]
        seen = {c for c, _, _ in od[original]}
        twin = min(busy, key=lambda k: (len(seen & {c for c, _, _ in od[k]}), k[0] == original[0]))  # elsewhere
        start = (11 + (n % 8)) * 3600 + 37 * n
        planted.append((clone_a, 0, *original, start, 1.25))
        planted.append((clone_b, 0, *twin, start + 120, 1.25))
        veh.loc[clone_b, "plate"] = veh.loc[clone_a, "plate"]
        veh.loc[[clone_a, clone_b], "role"] = ["clone-original", "clone-copy"]
        cloned.append(veh.loc[clone_a, "plate"])
    kept = trips[~trips["vehicle"].isin({row[0] for row in planted})]
    trips = pd.concat([kept, pd.DataFrame(planted, columns=trips.columns)], ignore_index=True)
    for v, role in [(suspect, "suspect"), (convoy, "convoy"), (stolen, "stolen")]:
        veh.loc[v, "role"] = role
    veh.loc[[suspect, convoy], "colour"] = ["red", "black"]
    return trips, {"suspect": veh.loc[suspect, "plate"], "convoy": veh.loc[convoy, "plate"],
                   "stolen": veh.loc[stolen, "plate"], "cloned": cloned}


def _plant_misread(reads: pd.DataFrame, truth: pd.DataFrame, vehicle: int) -> dict[str, str]:
    """Misread one read of ``vehicle`` (its last look-alike character swapped), in place; returns what was planted.

    The read is the vehicle's second at a regional (Brussels Mobility) camera
    when there is one, so that every case of the story can see it; its double
    and its late re-delivery carry the same misread.
    """
    mine = truth[(truth["vehicle"] == vehicle) & ~truth["read_id"].str.endswith("-2")]
    first = reads[reads["read_id"].isin(mine["read_id"])].drop_duplicates("read_id").sort_values("timestamp")
    regional = first[first["camera_id"].str.startswith("ANPR-BM-")]
    chosen = (regional if len(regional) else first).iloc[min(1, len(regional if len(regional) else first) - 1)]
    plate = str(mine.loc[mine["read_id"] == chosen["read_id"], "true_plate"].iloc[0])
    spot = max(i for i, ch in enumerate(plate) if ch in CONFUSABLE)
    wrong = plate[:spot] + CONFUSABLE[plate[spot]] + plate[spot + 1:]
    rows = reads["read_id"].isin([chosen["read_id"], chosen["read_id"] + "-2"])
    reads.loc[rows, "plate"], reads.loc[rows, "confidence"] = wrong, 0.62
    return {"read_id": str(chosen["read_id"]), "plate": wrong, "true_plate": plate,
            "camera_id": str(chosen["camera_id"]), "time": str(chosen["timestamp"])}


def _reads(rng: np.random.Generator, passages: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ANPR reads of the passages (missed, misread, double, late-delivered) and which vehicle each saw."""
    p = passages[rng.random(len(passages)) < 0.92].reset_index(drop=True)  # 8 % missed
    n = len(p)
    plate = p["plate"].to_numpy().copy()
    misread = rng.random(n) < 0.03
    plate[misread] = [_misread(rng, x) for x in plate[misread]]
    reads = pd.DataFrame({"source": source, "read_id": [f"R{i:08d}" for i in range(n)], "camera_id": p["camera_id"],
                          "time": p["time"], "plate": plate, "country": np.where(
                              pd.Series(plate).str.match(r"^[1-9][A-Z]{3}[0-9]{3}$"), "BE", "FR"),
                          "confidence": np.round(np.where(misread, rng.uniform(0.55, 0.8, n),
                                                          rng.uniform(0.8, 0.99, n)), 3),
                          "direction": p["direction"], "lane": rng.integers(1, 3, n),
                          "vehicle": p["vehicle"], "true_plate": p["plate"]})
    double = reads[rng.random(n) < 0.05].copy()
    double["read_id"] = double["read_id"] + "-2"
    double["time"] = double["time"] + pd.to_timedelta(rng.uniform(0.4, 3.0, len(double)), unit="s")
    late = reads[rng.random(n) < 0.03].copy()  # the same read delivered again, later in the file
    out = pd.concat([reads, double, late], ignore_index=True)
    out["image_ref"] = "img/" + out["read_id"] + ".jpg"
    out["timestamp"] = out["time"].dt.tz_convert("Europe/Brussels").dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
    delivered = out["time"] + pd.to_timedelta(rng.uniform(0, 40, len(out)), unit="min")  # up to 40 minutes late
    order = np.argsort(delivered.to_numpy(), kind="stable")
    cols = ["source", "read_id", "camera_id", "timestamp", "plate", "country", "confidence", "direction", "lane",
            "image_ref"]
    truth = out[["read_id", "vehicle", "true_plate"]].drop_duplicates("read_id")
    return out.iloc[order][cols].reset_index(drop=True), truth.reset_index(drop=True)
