"""A batch job's CPU priority: below the investigators' queries, in its own process and in the database's.

A batch job (``workbench plates ingest``) lowers its priority so that the
service's calls get the processor first while a feed loads. Two things make
a plain ``nice`` fall short on Linux:

* with session groups (``/proc/sys/kernel/sched_autogroup_enabled``, on by
  default in Debian's and Ubuntu's kernels) a nice value only counts against
  the processes of the same session: a job started in a session of its own
  (a systemd unit, cron, ``setsid``), as a deployment starts it, competes with
  the service's session and each kernel's as a whole, at its session's
  priority. :func:`lower` lowers the process and, when it leads its session,
  the session (never a session it does not lead: run from a terminal, that
  would lower the person's shell);
* about two thirds of a load's processor time is spent by PostgreSQL, in the
  server process of each of the job's connections, and every such process is
  a session of its own. :func:`on_each_connection` has each new connection
  of the job lower its own server process, through the function
  ``workbench_batch_priority`` (migration ``0007_batch_priority``).

Neither can be undone by the job (an unprivileged process cannot raise its
priority again), and neither touches another process.

    >>> lower(0)   # no change asked: nothing done
    []
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

AUTOGROUP = Path("/proc/self/autogroup")


def session_nice() -> int | None:
    """The nice value of this process's session group; None when there is none to lower: a kernel that groups
    no sessions, or a process in the machine's first session (init's, whose group the kernel shows empty).

    >>> session_nice() is None or 0 <= session_nice() <= 19
    True
    """
    try:
        text = AUTOGROUP.read_text()   # "/autogroup-123 nice 0", or "" in init's session
    except OSError:
        return None
    shown = re.fullmatch(r"/autogroup-\d+ nice (-?\d+)\s*", text)
    return int(shown.group(1)) if shown else None


def lower(niceness: int) -> list[str]:
    """Lower this process (and the session it leads) to ``niceness`` (0-19) unless lower already; what was
    lowered, in words."""
    done: list[str] = []
    if niceness <= 0:
        return done
    if os.getpriority(os.PRIO_PROCESS, 0) < niceness:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
        done.append(f"process nice {niceness}")
    group = session_nice()
    if group is not None and group < niceness and os.getsid(0) == os.getpid():
        try:
            AUTOGROUP.write_text(f"{niceness}\n")
            done.append(f"session nice {niceness}")
        except OSError:   # a security module may forbid it: the job runs at its process's nice only
            pass
    return done


def on_each_connection(engine: Engine, niceness: int, tell: Callable[[str], None]) -> None:
    """Have each new PostgreSQL connection of ``engine`` lower its server process to ``niceness``; ``tell`` is
    called once, in words, if the server could not (the load then runs there at the queries' priority).

    Connections already open are closed first, so that every connection the job uses is lowered.
    """
    from sqlalchemy import event  # here: a job lowers itself (lower) before it imports its modules

    if niceness <= 0:
        return
    told: list[str] = []
    refused = engine.dialect.loaded_dbapi.Error

    @event.listens_for(engine, "connect")
    def _lower(dbapi_connection: Any, _record: Any) -> None:
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT workbench_batch_priority(%s)", (niceness,))
                outcome = str(cursor.fetchone()[0])
            dbapi_connection.commit()
        except refused as exc:   # not granted, or a catalogue before migration 0007
            dbapi_connection.rollback()
            outcome = str(exc).strip().splitlines()[0]
        if outcome != "lowered" and not told:
            told.append(outcome)
            tell(f"the database's part of this load runs at the queries' priority: {outcome}")

    engine.dispose()
