"""``workbench bench report_pdf``: the case report as PDF and a playback clip, against plain exports of the same.

Our paths: ``Case.report`` (trajectory, street map and timeline pictures, key frames, audit summary, PDF) and
``Case.playback`` (20 s of the suspect's passage re-encoded as browser-playable MP4, neighbours included).
Baselines, in the same run: ``Case.export_results`` of the same trajectory as CSV, and ``Case.export_clip``
of the same 20 s as a stream copy (no re-encoding). ``measure_report_pdf`` is what ``workbench bench apps``
reports as ``report_pdf_s``.

    workbench bench report_pdf --json
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import click


def _timed(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def measure_report_pdf(case: Any, plate: str, *, repeat: int = 3) -> dict[str, float]:
    """Seconds to write the case report on ``plate``: the first (cold caches) and the median of the next ones."""
    first, report = _timed(lambda: case.report(plate))
    warm = [_timed(lambda: case.report(plate))[0] for _ in range(max(1, repeat - 1))]
    return {"report_pdf_first_s": round(first, 3), "report_pdf_s": round(statistics.median(warm), 3),
            "report_pages": report.pages, "report_bytes": len(report.pdf)}


@click.command()
@click.option("--repeat", default=3, show_default=True, help="reports written (the first is cold)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(repeat: int, as_json: bool) -> None:
    """The PDF report and a playback clip against a CSV export and a stream-copied evidence clip."""
    import workbench
    from workbench.config import Settings
    from workbench.samples import SAMPLE_CASE, build_sample

    with tempfile.TemporaryDirectory(prefix="workbench-bench-report-") as tmp:
        home = Path(tmp)
        build_sample(Settings.from_env({}, home=home))
        ws = workbench.open(home)
        case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
        hits = case.hits(include_ignored=True)
        plate = str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0])
        out = measure_report_pdf(case, plate, repeat=repeat)
        trip = case.trajectory(plate)
        out["baseline_csv_s"] = round(_timed(lambda: case.export_results(trip, format="csv",
                                                                         path=home / "trip.csv"))[0], 3)
        hit = case.frame_search(near=trip, kind="vehicle", per_page=1, thumbnails=False)[0]
        out["playback_s"] = round(_timed(lambda: case.playback(hit["camera_id"], hit["best_time"],
                                                               seconds=20))[0], 3)
        out["baseline_export_clip_s"] = round(_timed(lambda: case.export_clip(hit, seconds=20))[0], 3)
        out["report_vs_csv"] = round(out["report_pdf_s"] / max(out["baseline_csv_s"], 1e-6), 1)
        out["playback_vs_stream_copy"] = round(out["playback_s"] / max(out["baseline_export_clip_s"], 1e-6), 1)
        ws.store.dispose()
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(f"report PDF: {out['report_pdf_s']:.2f} s warm ({out['report_pdf_first_s']:.2f} s cold), "
               f"{out['report_pages']} pages; CSV export of the same trajectory {out['baseline_csv_s']:.2f} s "
               f"(x{out['report_vs_csv']})")
    click.echo(f"playback of 20 s: {out['playback_s']:.2f} s; stream-copied evidence clip "
               f"{out['baseline_export_clip_s']:.2f} s (x{out['playback_vs_stream_copy']})")
