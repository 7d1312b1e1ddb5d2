"""Frame search: a motion grid and object events per segment, queried without decoding again.

    workbench index build
    >>> hits = case.frame_search(near=trip, colour="red", kind="vehicle")
    >>> hits[0]["camera_id"], hits[0]["colour"]
    ('CCTV-PZ5344-102', 'red')

:mod:`~workbench.search.index_build` writes the index (one decoding pass per
segment, segments in parallel); :mod:`~workbench.search.frame_index` answers
queries inside the windows a grant allows.
"""

from workbench.search.frame_index import FrameIndex, crop_descriptor
from workbench.search.index_build import IndexSummary, build_index

__all__ = ["FrameIndex", "IndexSummary", "build_index", "crop_descriptor"]
