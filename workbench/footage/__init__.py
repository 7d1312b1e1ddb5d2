"""Footage: probe and archive video files, read exact frames from them.

    workbench footage ingest cam12-*.mp4 --camera CCTV-PZ5339-101 --start 2026-11-20T08:00+01:00
    >>> reports = ingest_footage(store, paths, camera_id="CCTV-PZ5339-101", now=now)   # doctest: +SKIP

Reading footage for a user goes through the case (``case.frame``,
``case.frames_at``), which authorises and audits it; this package only knows
files.
"""

from workbench.footage.footage_ingest import FootageReport, ingest_footage
from workbench.footage.frame_reader import Frame, FrameReader
from workbench.footage.probe import VideoFacts, probe

__all__ = ["Frame", "FrameReader", "FootageReport", "VideoFacts", "ingest_footage", "probe"]
