"""Cameras on the road network: snapped nodes and camera-to-camera distances and free-flow times.

    >>> net = CameraNetwork(graph, cameras)           # cameras: camera_id, lon, lat  # doctest: +SKIP
    >>> net.time_s("ANPR-BM-001", "ANPR-BM-002")      # free-flow seconds             # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from workbench.errors import InvalidInput
from workbench.trajectories.road_graph import RoadGraph

SNAP_RADIUS_M = 25.0
_CHUNK = 256


class CameraNetwork:
    """Camera positions snapped to the road graph, with all-pairs network lengths and times.

    A camera watches a place, not one graph node: a dual carriageway, a
    bridge or a tunnel puts several nodes within metres of it. Every node
    within ``SNAP_RADIUS_M`` is a candidate, and the time and length between
    two cameras are the best over their candidates (so a car seen on the far
    carriageway is not sent round a U-turn). The matrices are computed once per
    set of cameras and kept in ``cache_dir`` when one is given.
    """

    def __init__(self, graph: RoadGraph, cameras: pd.DataFrame, *, cache_dir: Path | None = None) -> None:
        located = cameras.dropna(subset=["lon", "lat"]).drop_duplicates("camera_id")
        if located.empty:
            raise InvalidInput("no camera with a position: nothing to place on the road network")
        self.graph = graph
        self.cameras = located.sort_values("camera_id").reset_index(drop=True)
        self.index = {c: i for i, c in enumerate(self.cameras["camera_id"])}
        self.candidates = graph.nodes_near(self.cameras["lon"].to_numpy(), self.cameras["lat"].to_numpy(),
                                           SNAP_RADIUS_M)
        self.nodes = np.array([c[0] for c in self.candidates], dtype=np.int64)  # the nearest node of each camera
        key = hashlib.sha256(np.concatenate(self.candidates + [[graph.n_nodes, len(graph.edge_src)]]).tobytes() +
                             "|".join(self.cameras["camera_id"]).encode()).hexdigest()[:20]
        cache = Path(cache_dir) / f"camera-network-{key}.npz" if cache_dir is not None else None
        if cache is not None and cache.exists():
            with np.load(cache) as data:
                self.times, self.lengths = data["times"], data["lengths"]
                self.best_src, self.best_dst = data["best_src"], data["best_dst"]
            return
        n = graph.n_nodes
        self.times, self.best_src, self.best_dst = self._best_over_candidates(graph.time_matrix)
        self.lengths = self._best_over_candidates(
            csr_matrix((graph.edge_length, (graph.edge_src, graph.edge_dst)), shape=(n, n)))[0]
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(tmp, times=self.times, lengths=self.lengths, best_src=self.best_src, best_dst=self.best_dst)
            tmp.replace(cache)

    def _best_over_candidates(self, weights: csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Camera x camera minimum over candidate node pairs, with the nodes that achieve it."""
        k = len(self.candidates)
        sources = np.concatenate(self.candidates)
        owner = np.repeat(np.arange(k), [len(c) for c in self.candidates])
        best = np.full((k, k), np.inf)
        best_src = np.zeros((k, k), np.int32)
        best_dst = np.zeros((k, k), np.int32)
        for start in range(0, len(sources), _CHUNK):
            rows = sources[start:start + _CHUNK]
            dist = dijkstra(weights, directed=True, indices=rows)
            for j, targets in enumerate(self.candidates):
                sub = dist[:, targets]
                arg = sub.argmin(axis=1)
                value = sub[np.arange(len(rows)), arg]
                for r in range(len(rows)):
                    i = owner[start + r]
                    if value[r] < best[i, j]:
                        best[i, j], best_src[i, j], best_dst[i, j] = value[r], rows[r], targets[arg[r]]
        return best, best_src, best_dst

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
        i, j = self.position(a), self.position(b)
        return self.graph.path(self._tree(int(self.best_src[i, j])), int(self.best_dst[i, j]))

    @lru_cache(maxsize=256)  # noqa: B019 - networks are kept for the process's life anyway (workspace._NETWORKS)
    def _tree(self, source: int) -> np.ndarray:
        return self.graph.shortest(source)[1][0]

    def alternative_nodes(self, a: str, b: str, *, penalty: float = 2.0, tolerance: float = 0.15) -> list[int] | None:
        """A second route about as fast (within ``tolerance``) avoiding the first one's streets, if any."""
        first = self.route_nodes(a, b)
        if len(first) < 3:
            return None
        g = self.graph
        on_first = set(zip(first, first[1:]))
        weight = g.edge_time.copy()
        n = g.n_nodes
        keys = np.asarray(g.edge_src, dtype=np.int64) * n + np.asarray(g.edge_dst, dtype=np.int64)
        weight[np.isin(keys, np.array([s * n + d for s, d in on_first], dtype=np.int64))] *= penalty
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
