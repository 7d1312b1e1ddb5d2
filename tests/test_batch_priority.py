"""A batch job lowers its own process and the session it leads, never a session it does not lead."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_LOWER = ("import json, os; from workbench import batch_priority; done = batch_priority.lower(7); "
          "group = open('/proc/self/autogroup').read().split()[-1] if os.path.exists('/proc/self/autogroup') "
          "else None; print(json.dumps([done, os.getpriority(os.PRIO_PROCESS, 0), group]))")


def _run(**popen: bool) -> tuple[list[str], int, str | None]:
    out = subprocess.run([sys.executable, "-c", _LOWER], capture_output=True, text=True, check=True, **popen)
    done, nice, group = json.loads(out.stdout)
    return done, nice, group


def test_a_job_in_a_session_of_its_own_lowers_the_session_too():
    done, nice, group = _run(start_new_session=True)
    assert nice == 7 and "process nice 7" in done
    if Path("/proc/self/autogroup").exists():   # a kernel with session groups
        assert group == "7" and "session nice 7" in done
    else:
        assert not any(d.startswith("session") for d in done)


def test_a_job_run_from_a_shell_leaves_the_shells_session_alone():
    ours = Path("/proc/self/autogroup").read_text().split()[-1] if Path("/proc/self/autogroup").exists() else None
    done, nice, group = _run()   # in this test's session, which it does not lead
    assert nice == 7 and done == ["process nice 7"]
    assert group == ours
