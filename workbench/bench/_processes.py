"""CPU time of this machine's processes, read from ``/proc`` (Linux): what the benchmarks report next to wall time.

One place that reads ``/proc/PID/stat`` for the benchmarks of the apps, the service and the scale:

    >>> process_cpu_s(os.getpid()) >= 0
    True
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PARENT, USER, SYSTEM, CHILDREN_USER, CHILDREN_SYSTEM = 1, 11, 12, 13, 14
"""Positions in :func:`stat`'s fields (``proc(5)``'s, less the pid and the command's name)."""


def stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command's name (the state first), or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def own_ticks(fields: list[str]) -> int:
    """Clock ticks (user and system) a process used itself, from its :func:`stat` fields."""
    return int(fields[USER]) + int(fields[SYSTEM])


def every_pid() -> Iterator[int]:
    """The ids of the processes living on this machine."""
    return (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process of this machine has used so far."""
    fields = stat(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    return own_ticks(fields) / TICKS_PER_S


def cpu_below(root: int) -> float:
    """CPU seconds (user and system) used so far by the living processes under ``root`` (not ``root`` itself)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for pid in every_pid():
        fields = stat(pid)
        if fields is not None:   # else gone meanwhile
            parents[pid], ticks[pid] = int(fields[PARENT]), own_ticks(fields)
    below: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - below
        below |= frontier
    return sum(ticks[pid] for pid in below) / TICKS_PER_S


def self_and_ended_children_cpu_s() -> float:
    """CPU seconds (user and system) of this process and of its children that have ended and were waited for
    (a cluster's worker processes once it is closed).

    >>> self_and_ended_children_cpu_s() > 0
    True
    """
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
