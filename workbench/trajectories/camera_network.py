"""Cameras on the road network: snapped nodes and camera-to-camera distances and free-flow times.

    >>> net = CameraNetwork(graph, cameras)           # cameras: camera_id, lon, lat  # doctest: +SKIP
    >>> net.time_s("ANPR-BM-001", "ANPR-BM-002")      # free-flow seconds             # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from workbench.errors import InvalidInput
from workbench.trajectories.road_graph import RoadGraph


class CameraNetwork:
    """Camera positions snapped to the road graph, with all-pairs network lengths and times.

    The matrices (and the fastest-route trees) are computed once per set of
    cameras and kept in ``cache_dir`` when one is given.
    """

    def __init__(self, graph: RoadGraph, cameras: pd.DataFrame, *, cache_dir: Path | None = None) -> None:
        located = cameras.dropna(subset=["lon", "lat"]).drop_duplicates("camera_id")
        if located.empty:
            raise InvalidInput("no camera with a position: nothing to place on the road network")
        self.graph = graph
        self.cameras = located.sort_values("camera_id").reset_index(drop=True)
        self.index = {c: i for i, c in enumerate(self.cameras["camera_id"])}
        self.nodes = graph.snap(self.cameras["lon"].to_numpy(), self.cameras["lat"].to_numpy())
        key = hashlib.sha256(np.concatenate([self.nodes, [graph.n_nodes, len(graph.edge_src)]]).tobytes() +
                             "|".join(self.cameras["camera_id"]).encode()).hexdigest()[:20]
        cache = Path(cache_dir) / f"camera-network-{key}.npz" if cache_dir is not None else None
        if cache is not None and cache.exists():
            with np.load(cache) as data:
                self.times, self.lengths, self.time_pred = data["times"], data["lengths"], data["pred"]
            return
        times, self.time_pred = graph.shortest(self.nodes)
        self.times = times[:, self.nodes]
        n = graph.n_nodes
        length_matrix = csr_matrix((graph.edge_length, (graph.edge_src, graph.edge_dst)), shape=(n, n))
        self.lengths = dijkstra(length_matrix, directed=True, indices=self.nodes)[:, self.nodes]
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(tmp, times=self.times, lengths=self.lengths, pred=self.time_pred.astype(np.int32))
            tmp.replace(cache)

    def position(self, camera_id: str) -> int:
        """Row of a camera in the matrices; InvalidInput if it is not on the network."""
        try:
            return self.index[camera_id]
        except KeyError:
            raise InvalidInput(f"camera {camera_id!r} has no position on the road network") from None

    def time_s(self, a: str, b: str) -> float:
        """Free-flow travel time in seconds from camera a to camera b (inf when unreachable)."""
        return float(self.times[self.position(a), self.position(b)])

    def length_m(self, a: str, b: str) -> float:
        """Shortest network distance in metres from camera a to camera b."""
        return float(self.lengths[self.position(a), self.position(b)])

    def route_nodes(self, a: str, b: str) -> list[int]:
        """The fastest node path from camera a to camera b."""
        return self.graph.path(self.time_pred[self.position(a)], int(self.nodes[self.position(b)]))

    def alternative_nodes(self, a: str, b: str, *, penalty: float = 2.0, tolerance: float = 0.15) -> list[int] | None:
        """A second route about as fast (within ``tolerance``) avoiding the first one's streets, if any."""
        first = self.route_nodes(a, b)
        if len(first) < 3:
            return None
        g = self.graph
        on_first = set(zip(first, first[1:]))
        weight = g.edge_time.copy()
        mask = np.fromiter(((s, d) in on_first for s, d in zip(g.edge_src, g.edge_dst)), bool, len(weight))
        weight[mask] *= penalty
        n = g.n_nodes
        times, pred = dijkstra(csr_matrix((weight, (g.edge_src, g.edge_dst)), shape=(n, n)), directed=True,
                               indices=int(first[0]), return_predecessors=True)
        second = g.path(pred, int(first[-1]))
        true_time = self._path_time(second)
        if not second or set(zip(second, second[1:])) == on_first:
            return None
        return second if true_time <= self._path_time(first) * (1 + tolerance) else None

    def _path_time(self, nodes: list[int]) -> float:
        lookup = self.graph.time_matrix
        return float(sum(lookup[a, b] for a, b in zip(nodes, nodes[1:])))
