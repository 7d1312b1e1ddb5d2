"""The drivable road network of the Brussels-Capital Region, as a compact routing graph.

Built once from the OpenStreetMap extract shipped in ``workbench/data/roads``
(pyosmium), with one-way streets, road class and speed, projected to Belgian
Lambert 72 (EPSG:31370) for lengths, and cached as a ``.npz`` under the
cache directory. Routing runs on SciPy's sparse-graph Dijkstra.

    >>> graph = RoadGraph.load(settings.cache_dir)          # doctest: +SKIP
    >>> node = graph.snap([4.3525], [50.8467])[0]            # Grand-Place  # doctest: +SKIP
    >>> graph.travel_times(node)                             # seconds to every node  # doctest: +SKIP

Data: © OpenStreetMap contributors, ODbL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
PBF = files("workbench") / "data" / "roads" / "brussels_capital_region_2013-01-01.osm.pbf"
# road class -> (rank: 0 main .. 4 local, default speed km/h in Brussels)
CLASSES = {
    "motorway": (0, 90), "motorway_link": (0, 60), "trunk": (0, 70), "trunk_link": (0, 50),
    "primary": (1, 50), "primary_link": (1, 40), "secondary": (2, 50), "secondary_link": (2, 40),
    "tertiary": (3, 50), "tertiary_link": (3, 40), "unclassified": (4, 30), "residential": (4, 30),
    "living_street": (4, 20),
}
CLASS_NAMES = list(CLASSES)
_CACHE_VERSION = "1"


def _parse_speed(value: str | None, default: float) -> float:
    if not value:
        return default
    digits = "".join(ch for ch in value.split(";")[0] if ch.isdigit())
    speed = float(digits) if digits else default
    return speed * 1.609 if "mph" in value else speed if 5 <= speed <= 130 else default


def _read_pbf(path: Path) -> dict[str, np.ndarray]:
    """Edges of the drivable ways: (from node id, to node id, lon/lat of both, class, speed, name)."""
    import osmium

    src, dst, lon0, lat0, lon1, lat1, cls, speed, names = [], [], [], [], [], [], [], [], []

    class Ways(osmium.SimpleHandler):
        def way(self, w) -> None:  # type: ignore[no-untyped-def]
            highway = w.tags.get("highway")
            if highway not in CLASSES or w.tags.get("access") in {"no", "private"} or w.tags.get("area") == "yes":
                return
            rank, default = CLASSES[highway]
            oneway = w.tags.get("oneway", "")
            forward = oneway != "-1"
            backward = oneway not in {"yes", "1", "true", "-1"} and highway not in {"motorway", "motorway_link"} \
                and w.tags.get("junction") != "roundabout"
            if oneway == "-1":
                backward = True
            v = _parse_speed(w.tags.get("maxspeed"), default)
            name = w.tags.get("name", "")
            nodes = [(n.ref, n.lon, n.lat) for n in w.nodes if n.location.valid()]
            for (a, ax, ay), (b, bx, by) in zip(nodes, nodes[1:]):
                for (p, px, py), (q, qx, qy), ok in (((a, ax, ay), (b, bx, by), forward),
                                                     ((b, bx, by), (a, ax, ay), backward)):
                    if ok:
                        src.append(p); dst.append(q); lon0.append(px); lat0.append(py)  # noqa: E702
                        lon1.append(qx); lat1.append(qy); cls.append(CLASS_NAMES.index(highway))  # noqa: E702
                        speed.append(v); names.append(name)  # noqa: E702

    Ways().apply_file(str(path), locations=True)
    return {"src": np.array(src, np.int64), "dst": np.array(dst, np.int64), "lon0": np.array(lon0),
            "lat0": np.array(lat0), "lon1": np.array(lon1), "lat1": np.array(lat1),
            "cls": np.array(cls, np.int8), "speed": np.array(speed, np.float32), "name": np.array(names, dtype=object)}


@dataclass
class RoadGraph:
    """Nodes (lon/lat and Lambert 72 x/y) and directed edges with length (m) and free-flow time (s)."""

    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_length: np.ndarray
    edge_time: np.ndarray
    edge_class: np.ndarray
    edge_name: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.lon)
        self.time_matrix = csr_matrix((self.edge_time, (self.edge_src, self.edge_dst)), shape=(n, n))
        self._tree = cKDTree(np.column_stack([self.x, self.y]))
        self._major: tuple[np.ndarray, cKDTree] | None = None

    @classmethod
    def build(cls, pbf: Path) -> RoadGraph:
        """Read an OpenStreetMap extract and build the graph (a few seconds for the region)."""
        from pyproj import Transformer

        raw = _read_pbf(Path(pbf))
        ids, inverse = np.unique(np.concatenate([raw["src"], raw["dst"]]), return_inverse=True)
        m = len(raw["src"])
        src, dst = inverse[:m], inverse[m:]
        lon = np.zeros(len(ids)); lat = np.zeros(len(ids))  # noqa: E702
        lon[src], lat[src] = raw["lon0"], raw["lat0"]
        lon[dst], lat[dst] = raw["lon1"], raw["lat1"]
        x, y = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform(lon, lat)
        length = np.hypot(x[dst] - x[src], y[dst] - y[src]).astype(np.float32)
        # keep zero-length edges routable: sparse matrices drop explicit zeros
        seconds = np.maximum(length / (raw["speed"] / 3.6), 0.01).astype(np.float32)
        return cls(lon, lat, np.asarray(x), np.asarray(y), src.astype(np.int32), dst.astype(np.int32), length,
                   seconds, raw["cls"], raw["name"])

    @classmethod
    def load(cls, cache_dir: Path, pbf: Path | None = None) -> RoadGraph:
        """The cached graph of ``pbf`` (default: the region's shipped extract); built on first use."""
        pbf_path = Path(str(pbf or PBF))
        digest = hashlib.sha256(pbf_path.read_bytes()).hexdigest()[:16]
        cache = Path(cache_dir) / f"road-graph-{_CACHE_VERSION}-{digest}.npz"
        if cache.exists():
            with np.load(cache, allow_pickle=True) as data:
                return cls(**{k: data[k] for k in data.files})
        graph = cls.build(pbf_path)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, **{k: getattr(graph, k) for k in ("lon", "lat", "x", "y", "edge_src", "edge_dst",
                                                         "edge_length", "edge_time", "edge_class", "edge_name")})
        tmp.replace(cache)
        return graph

    @property
    def n_nodes(self) -> int:
        return len(self.lon)

    def snap(self, lon, lat, *, major_only: bool = False) -> np.ndarray:  # type: ignore[no-untyped-def]
        """The nearest routable node to each point (on a main road when ``major_only``)."""
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform(
            np.asarray(lon, float), np.asarray(lat, float))
        if not major_only:
            return self._tree.query(np.column_stack([x, y]))[1].astype(np.int64)
        if self._major is None:
            nodes = np.unique(self.edge_src[self.edge_class <= CLASS_NAMES.index("secondary_link")])
            self._major = (nodes, cKDTree(np.column_stack([self.x[nodes], self.y[nodes]])))
        nodes, tree = self._major
        return nodes[tree.query(np.column_stack([x, y]))[1]].astype(np.int64)

    def nodes_near(self, lon, lat, radius_m: float) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
        """For each point, the routable nodes within ``radius_m``, nearest first (at least the nearest)."""
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True).transform(
            np.asarray(lon, float), np.asarray(lat, float))
        points = np.column_stack([x, y])
        nearest = self._tree.query(points)[1]
        out = []
        for p, first, near in zip(points, nearest, self._tree.query_ball_point(points, radius_m)):
            near = sorted(set(near) | {int(first)}, key=lambda k: np.hypot(*(self._tree.data[k] - p)))
            out.append(np.array(near, dtype=np.int64))
        return out

    def shortest(self, sources, *, limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        """Free-flow travel times (s) and predecessors from each source node to every node."""
        times, pred = dijkstra(self.time_matrix, directed=True, indices=np.atleast_1d(sources),
                               return_predecessors=True, limit=limit)
        return times, pred

    def path(self, predecessors: np.ndarray, target: int) -> list[int]:
        """The node path to ``target`` from a predecessor row; [] when unreachable."""
        if predecessors[target] < 0:
            return []
        nodes = [int(target)]
        while predecessors[nodes[-1]] >= 0:
            nodes.append(int(predecessors[nodes[-1]]))
        return nodes[::-1]

    def path_length(self, nodes: list[int]) -> float:
        """Length in metres of a node path."""
        if len(nodes) < 2:
            return 0.0
        n = np.asarray(nodes)
        return float(np.hypot(np.diff(self.x[n]), np.diff(self.y[n])).sum())
