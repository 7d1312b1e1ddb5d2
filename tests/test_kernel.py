"""The audited kernel: each executed cell's hash and the active case reach the audit trail."""

from __future__ import annotations

import hashlib
import json
import os
import sys

import pandas as pd
import pytest
from jupyter_client.manager import start_new_kernel

from workbench.access import audit
from workbench.config import Settings
from workbench.kernelspec import KERNEL_NAME, install
from workbench.samples import SAMPLE_CASE, build_sample
from workbench.store import Store

from conftest import SAMPLE_DAY


def _run(client, code: str) -> dict:
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
    return reply["content"]


@pytest.fixture(scope="module")
def spec_dir():
    return install(prefix=sys.prefix)


def test_spec_is_written_with_this_interpreter(spec_dir):
    spec = json.loads(open(os.path.join(spec_dir, "kernel.json")).read())
    assert spec["argv"][:3] == [sys.executable, "-m", "workbench.kernel"] and spec["display_name"] == \
        "Workbench (audited)"


def test_cells_are_audited_with_hash_and_case(spec_dir, tmp_path):
    settings = Settings.from_env({}, home=tmp_path)
    build_sample(settings, day=SAMPLE_DAY, traffic=False)
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path), "WORKBENCH_USER": "inspector.dupont"}
    env.pop("WORKBENCH_DB_URL", None)
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME, env=env)
    try:
        opening = f'case = wb.open().login().open_case("{SAMPLE_CASE}", purpose="judicial-investigation")'
        assert _run(client, opening)["status"] == "ok"
        assert _run(client, "n = len(case.camera_access())")["status"] == "ok"
        assert _run(client, "1 / 0")["status"] == "error"
        hidden = client.execute_interactive("", user_expressions={"n": "len(case.camera_access())"}, timeout=60,
                                            output_hook=lambda msg: None)["content"]
        assert hidden["user_expressions"]["n"]["status"] == "ok"
        forged = 'import dataclasses; case.info = dataclasses.replace(case.info, reference="FORMATION-2026-01")'
        assert _run(client, forged)["status"] == "ok"      # recorded, but not under a case the user is not in
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    events = audit.events_frame(Store(settings), user_name="inspector.dupont")
    cells = events[events["action"] == "notebook-cell"]
    assert len(cells) == 5          # the empty cell with user_expressions ran code: it is recorded too
    assert cells.iloc[3]["resource"]["chars"] > 20 and cells.iloc[3]["case_reference"] == SAMPLE_CASE
    assert pd.isna(cells.iloc[4]["case_reference"])
    assert cells.iloc[0]["resource"]["sha256"] == hashlib.sha256(opening.encode()).hexdigest()
    assert cells.iloc[1]["case_reference"] == SAMPLE_CASE and cells.iloc[2]["resource"]["status"] == "error"
    assert audit.verify(Store(settings)).ok


def test_no_identity_no_code(spec_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"WORKBENCH_USER", "JUPYTERHUB_USER"}}
    env["WORKBENCH_HOME"] = str(tmp_path)
    manager, client = start_new_kernel(kernel_name=KERNEL_NAME, env=env)
    try:
        reply = _run(client, "x = 1")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["status"] == "error" and reply["ename"] == "AccessDenied"
