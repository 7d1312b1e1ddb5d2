"""``workbench bench``: every module that defines a benchmark is a command, and only those."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from click.testing import CliRunner

from workbench.bench.apps import cpu_below
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



def test_the_apps_benchmark_counts_the_cpu_of_the_processes_below_it():
    before = cpu_below(os.getpid())
    busy = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.4\n"
                             "while time.process_time() < end: pass\ninput()"], stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while cpu_below(os.getpid()) - before < 0.35 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cpu_below(os.getpid()) - before >= 0.35   # the busy child's CPU, seen while it lives
        assert cpu_below(busy.pid) == 0                   # nothing below the child
    finally:
        busy.communicate(b"\n")


def test_the_frames_benchmark_counts_the_cpu_of_children_that_ended():
    from workbench.bench._processes import self_and_ended_children_cpu_s

    before = self_and_ended_children_cpu_s()
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.4\n"
                    "while time.process_time() < end: pass"], check=True)
    assert self_and_ended_children_cpu_s() - before >= 0.35   # the child's CPU, counted once it was waited for


def test_the_frames_benchmark_can_measure_the_index_build_alone():
    shown = CliRunner().invoke(cli, ["bench", "frames", "--help"])
    assert shown.exit_code == 0 and "--index-only" in shown.output, shown.output


def test_the_frames_benchmark_times_warm_workers_and_counts_their_cpu_while_they_live():
    from workbench.bench.frames import _standing_cluster, _tree_cpu_s

    def loaded() -> int:   # run in each worker: the plate reader's models already in memory
        return __import__("workbench.search.plate_reading", fromlist=["_"])._process_reader.cache_info().currsize

    def busy() -> None:
        end = time.process_time() + 0.4
        while time.process_time() < end:
            pass

    with _standing_cluster(2) as client:
        assert list(client.run(loaded).values()) == [1, 1]
        before = _tree_cpu_s()
        client.run(busy)
        assert _tree_cpu_s() - before >= 0.7   # both workers' CPU, counted while they live
