"""``workbench bench``: every module that defines a benchmark is a command, and only those."""

from __future__ import annotations

from click.testing import CliRunner

from workbench.cli import cli

BENCHMARKS = ["apps", "frame_scale", "frames", "reliability", "report_pdf", "scale", "service", "trajectories"]


def test_bench_lists_its_benchmarks_and_each_prints_json():
    listed = CliRunner().invoke(cli, ["bench", "--help"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.split("Commands:")[1].strip().splitlines()
    assert [line.split()[0] for line in lines] == BENCHMARKS
    for name in BENCHMARKS:
        shown = CliRunner().invoke(cli, ["bench", name.replace("_", "-"), "--help"])
        assert shown.exit_code == 0 and "--json" in shown.output, (name, shown.output)
