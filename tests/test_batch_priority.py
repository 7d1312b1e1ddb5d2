"""A batch job lowers its own process and the session it leads, never a session it does not lead."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench import batch_priority

_LOWER = ("import json, os; from workbench import batch_priority; done = batch_priority.lower(7); "
          "print(json.dumps([done, os.getpriority(os.PRIO_PROCESS, 0), batch_priority.session_nice()]))")


def _run(**popen: bool) -> tuple[list[str], int, int | None]:
    out = subprocess.run([sys.executable, "-c", _LOWER], capture_output=True, text=True, check=True, **popen)
    done, nice, group = json.loads(out.stdout)
    return done, nice, group


def _process_lowered() -> list[str]:
    """What lowering to 7 does to a child's process: nothing when this suite already runs at nice 7 or more."""
    return ["process nice 7"] if os.getpriority(os.PRIO_PROCESS, 0) < 7 else []


def test_a_job_in_a_session_of_its_own_lowers_the_session_too():
    done, nice, group = _run(start_new_session=True)
    assert nice == max(7, os.getpriority(os.PRIO_PROCESS, 0)) and done[:len(_process_lowered())] == _process_lowered()
    if group is not None:   # a kernel with session groups
        assert group == 7 and "session nice 7" in done
    else:
        assert not any(d.startswith("session") for d in done)


def test_a_job_run_from_a_shell_leaves_the_shells_session_alone():
    ours = batch_priority.session_nice()
    done, nice, group = _run()   # in this test's session, which it does not lead
    assert nice == max(7, os.getpriority(os.PRIO_PROCESS, 0)) and done == _process_lowered()
    assert group == ours


@pytest.mark.parametrize("shown, nice", [("/autogroup-12 nice 0\n", 0), ("/autogroup-3 nice 7\n", 7),
                                         ("", None), ("garbled\n", None)])
def test_the_session_group_is_read_as_the_kernel_shows_it(tmp_path, monkeypatch, shown, nice):
    """init's session (where a container's processes often run) is shown empty: no group to lower."""
    autogroup = tmp_path / "autogroup"
    autogroup.write_text(shown)
    monkeypatch.setattr(batch_priority, "AUTOGROUP", autogroup)
    assert batch_priority.session_nice() == nice


def test_a_job_in_inits_session_lowers_its_process_only(tmp_path, monkeypatch):
    autogroup = tmp_path / "autogroup"
    autogroup.write_text("")
    script = (f"import json, os, pathlib; from workbench import batch_priority; "
              f"batch_priority.AUTOGROUP = pathlib.Path({str(autogroup)!r}); "
              f"print(json.dumps(batch_priority.lower(7)))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         start_new_session=True)
    assert json.loads(out.stdout) == _process_lowered()
    assert autogroup.read_text() == ""
