"""``workbench bench scale --quick``: the plate curves against the CI PostgreSQL, their ground truth, the plot."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from workbench.bench import scale

from conftest import PG_URL


def test_quick_scale_bench_measures_every_curve_and_finds_the_planted_answers(tmp_path):
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("WORKBENCH_TEST_PG_URL is not set: CI must run the scale benchmark on PostgreSQL")
        pytest.skip("PostgreSQL variant: set WORKBENCH_TEST_PG_URL (.ci/run starts a server)")
    png = tmp_path / "scale.png"
    result = CliRunner().invoke(scale.command, ["--sizes", "10000,30000", "--group", "plates", "--json",
                                                "--db-url", PG_URL, "--plot", str(png)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)   # stdout holds the JSON alone; the progress of each step goes to stderr
    assert result.stderr.count("reads/s (CPU per read: client") == 4   # two feeds a step, two steps
    assert out["ingest_connections"] == 1   # the default: one transaction per batch, said with the figures
    for size in ("10k", "30k"):
        assert out[f"postgresql_one_plate_year_exact_{size}"] is True
        assert out[f"postgresql_convoy_found_{size}"] is True
        assert out[f"postgresql_stakeout_found_{size}"] is True and out[f"postgresql_common_plates_found_{size}"]
        assert out[f"postgresql_hits_day_{size}"] > 0
        assert out[f"postgresql_ingest_client_cpu_us_per_read_{size}"] > 0
        server_cpu = out[f"postgresql_ingest_server_cpu_us_per_read_{size}"]   # None when the server is remote
        assert server_cpu is None or server_cpu > 0
    for curve in scale.CURVES:
        points = out["curves"][f"plates:postgresql:{curve}"]
        assert [x for x, _ in points] == sorted(x for x, _ in points) and all(y > 0 for _, y in points)
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


def test_a_second_group_of_keys_and_curves_joins_the_json_and_the_plot(tmp_path):
    frames = scale.ScaleGroup("frames", "camera-hours", keys={"frame_query_p95_ms_1000h": 12.0},
                              curves={"frame_query_p95_ms": [(1_000, 12.0), (10_000, 15.0)]})
    plates = scale.ScaleGroup("plates", "plate reads", keys={"postgresql_fuzzy_p95_ms_1M": 3.0},
                              curves={"postgresql:fuzzy_p95_ms": [(1e6, 3.0), (1e7, 4.0)]})
    out = scale.collect([plates, frames])
    assert out["frame_query_p95_ms_1000h"] == 12.0 and out["postgresql_fuzzy_p95_ms_1M"] == 3.0
    assert set(out["curves"]) == {"frames:frame_query_p95_ms", "plates:postgresql:fuzzy_p95_ms"}
    assert scale.plot([plates, frames], tmp_path / "two.png").read_bytes()[:4] == b"\x89PNG"
