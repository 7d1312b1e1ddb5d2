"""Signed anchors outside the database catch what the hash chain alone cannot, and the trail refuses edits.

Every attack here first drops the append-only triggers (``without_guards``),
as someone owning the database would; the last tests show the triggers
themselves refusing the same statements.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from workbench.access import audit
from workbench.access.anchors import (ANCHOR_FILE, KEY_FILE, PUBLIC_KEY_FILE, anchor_if_due, verify_anchors,
                                      write_anchor)
from workbench.store.models import AuditEvent, AuditHead
from workbench.samples import SAMPLE_CASE

from conftest import NOW
from tampering import without_guards

SYSTEM = audit.Actor("system:anchor-test")


def _activity(ws, rounds: int = 1) -> None:
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    for _ in range(rounds):
        case.camera_access()
        case.sightings(["1ABC234"])


@pytest.fixture
def anchor_dir(tmp_path_factory):
    """A directory apart from the test's database (the workbench refuses one beside an SQLite file)."""
    return tmp_path_factory.mktemp("anchors")


@pytest.fixture
def anchored(sample_ws, anchor_dir):
    """Activity, an anchor, more activity, a second anchor, a little more activity."""
    folder = anchor_dir
    _activity(sample_ws)
    write_anchor(sample_ws.store, folder, now=NOW, actor=SYSTEM)
    _activity(sample_ws)
    write_anchor(sample_ws.store, folder, now=NOW + timedelta(hours=1), actor=SYSTEM)
    _activity(sample_ws)
    return sample_ws, folder


def _events(store) -> list[AuditEvent]:
    with store.session() as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()


def test_key_is_private_and_the_public_key_lies_beside_it(anchored):
    ws, folder = anchored
    assert stat.S_IMODE((folder / KEY_FILE).stat().st_mode) == 0o600
    assert (folder / PUBLIC_KEY_FILE).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    lines = (folder / ANCHOR_FILE).read_text().splitlines()
    assert [json.loads(line)["n"] for line in lines] == [1, 2]
    check = verify_anchors(ws.store, folder)
    assert check.ok and check.anchors == 2, check.problems
    assert (audit.events_frame(ws.store)["action"] == "audit-anchor").sum() == 2


def test_deleting_the_last_events_and_moving_the_head_back_is_caught(anchored):
    ws, folder = anchored
    anchored_seq = json.loads((folder / ANCHOR_FILE).read_text().splitlines()[-1])["seq"]
    keep = [e for e in _events(ws.store) if e.seq < anchored_seq - 2]
    with without_guards(ws.store) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq > keep[-1].seq))
        s.execute(update(AuditHead).values(seq=keep[-1].seq, hash=keep[-1].hash))
    assert audit.verify(ws.store).ok            # the chain alone sees nothing
    check = verify_anchors(ws.store, folder)
    assert not check.ok and "no longer in the trail" in str(check)


def test_a_chain_rewritten_from_the_start_is_caught(anchored):
    """Drop one early event and recompute every hash after it: consistent, but not what was anchored."""
    ws, folder = anchored
    events = _events(ws.store)
    fields = ["time", "user_name", "partner_code", "case_reference", "purpose", "action", "outcome", "reason",
              "resource", "result_count"]
    kept = [{f: getattr(e, f) for f in fields} for e in events if e.seq != 3]
    with without_guards(ws.store) as s:
        s.execute(delete(AuditEvent))
        prev = audit.GENESIS
        for seq, row in enumerate(kept, 1):
            row.update(seq=seq, prev_hash=prev)
            row["hash"] = prev = audit.event_hash(row)
            s.add(AuditEvent(**row))
        s.execute(update(AuditHead).values(seq=len(kept), hash=prev))
    assert audit.verify(ws.store).ok
    check = verify_anchors(ws.store, folder)
    assert not check.ok and "rewritten" in str(check)


def test_an_edited_anchor_fails_its_signature(anchored):
    ws, folder = anchored
    path = folder / ANCHOR_FILE
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["seq"] -= 1
    path.write_text("\n".join([json.dumps(first, sort_keys=True, separators=(",", ":"))] + lines[1:]) + "\n")
    check = verify_anchors(ws.store, folder)
    assert not check.ok and "signature does not verify" in str(check)


def test_an_anchor_removed_from_the_middle_breaks_the_link(anchored):
    ws, folder = anchored
    write_anchor(ws.store, folder, now=NOW + timedelta(hours=2), actor=SYSTEM)
    path = folder / ANCHOR_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    check = verify_anchors(ws.store, folder)
    assert not check.ok and "does not follow the anchor before it" in str(check)


def test_a_truncated_anchor_file_is_caught_by_the_trail(anchored):
    ws, folder = anchored
    path = folder / ANCHOR_FILE
    path.write_text(path.read_text().splitlines()[0] + "\n")
    check = verify_anchors(ws.store, folder)
    assert not check.ok and "truncated" in str(check)


def test_a_replaced_key_pair_is_caught_with_the_auditors_copy(anchored, tmp_path):
    ws, folder = anchored
    auditors_copy = tmp_path / "auditor.pub"
    auditors_copy.write_bytes((folder / PUBLIC_KEY_FILE).read_bytes())
    for name in (KEY_FILE, PUBLIC_KEY_FILE, ANCHOR_FILE):
        (folder / name).unlink()
    write_anchor(ws.store, folder, now=NOW + timedelta(hours=3), actor=SYSTEM)   # new key, new file
    assert not verify_anchors(ws.store, folder).ok                      # the trail names anchors 1 and 2
    check = verify_anchors(ws.store, folder, public_key=auditors_copy)
    assert not check.ok and "signature does not verify" in str(check)


def test_anchors_are_kept_apart_from_an_sqlite_database(tmp_path):
    from workbench.config import Settings
    from workbench.errors import ConfigurationError
    from workbench.store import Store

    store = Store(Settings.from_env({}, home=tmp_path / "home"))
    store.migrate()
    with pytest.raises(ConfigurationError, match="apart"):
        write_anchor(store, tmp_path / "home" / "anchors", now=NOW, actor=SYSTEM)
    assert write_anchor(store, tmp_path / "elsewhere", now=NOW, actor=SYSTEM).n == 1
    store.dispose()


def test_anchoring_is_due_daily(sample_ws, anchor_dir):
    folder = anchor_dir
    assert anchor_if_due(sample_ws.store, None, now=NOW, actor=SYSTEM) is None
    assert anchor_if_due(sample_ws.store, folder, now=NOW, actor=SYSTEM).n == 1
    assert anchor_if_due(sample_ws.store, folder, now=NOW + timedelta(hours=23), actor=SYSTEM) is None
    assert anchor_if_due(sample_ws.store, folder, now=NOW + timedelta(hours=25), actor=SYSTEM).n == 2


def test_logins_anchor_the_chain_daily_when_an_anchor_directory_is_set(sample_ws, anchor_dir):
    from dataclasses import replace

    from workbench.access import Workspace

    folder = anchor_dir
    now = [NOW]
    ws = Workspace(replace(sample_ws.settings, anchor_dir=folder), clock=lambda: now[0])
    ws.login("inspector.dupont")
    ws.login("analyst.peeters")
    now[0] = NOW + timedelta(days=1, minutes=1)
    ws.login("inspector.dupont")
    assert len((folder / ANCHOR_FILE).read_text().splitlines()) == 2
    assert verify_anchors(ws.store, folder).ok
    ws.store.dispose()


def test_the_trail_refuses_update_delete_and_a_head_moved_back(sample_ws):
    _activity(sample_ws)
    store = sample_ws.store
    statements = ["UPDATE audit_event SET user_name = 'someone.else' WHERE seq = 2",
                  "DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)",
                  "UPDATE audit_head SET seq = seq - 1", "DELETE FROM audit_head"]
    if store.dialect == "postgresql":
        statements.append("TRUNCATE audit_event")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only|only moves forward"):
            with store.session() as s:
                s.execute(text(statement))
    assert audit.verify(store).ok


def _cli(ws, *args: str, anchor_dir=None) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    env = {**os.environ, "WORKBENCH_HOME": str(ws.settings.home), "WORKBENCH_DB_URL": ws.settings.db_url}
    if anchor_dir is not None:
        env["WORKBENCH_ANCHOR_DIR"] = str(anchor_dir)
    return subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", *args], env=env,
                          capture_output=True, text=True)


def test_cli_anchor_verify_and_report_as_an_auditor(sample_ws, tmp_path, anchor_dir):
    _activity(sample_ws)
    folder = anchor_dir
    written = _cli(sample_ws, "audit", "anchor", anchor_dir=folder)
    assert written.returncode == 0 and "anchor 1" in written.stdout, written.stderr
    ok = _cli(sample_ws, "audit", "verify", "--anchors", str(folder))
    assert ok.returncode == 0 and "anchors intact" in ok.stdout, ok.stdout + ok.stderr
    with without_guards(sample_ws.store) as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
        s.execute(delete(AuditEvent).where(AuditEvent.seq >= last.seq - 3))
        before = s.get(AuditEvent, last.seq - 4)
        s.execute(update(AuditHead).values(seq=before.seq, hash=before.hash))
    bad = _cli(sample_ws, "audit", "verify", "--anchors", str(folder))
    assert bad.returncode == 1 and "no longer in the trail" in bad.stdout
    report = _cli(sample_ws, "audit", "report", "--as", "auditor.maes", "--out", str(tmp_path / "report"))
    assert report.returncode == 0 and (tmp_path / "report" / "audit-report.csv").is_file(), report.stderr


def test_cli_report_needs_an_auditor(sample_ws, tmp_path):
    refused = _cli(sample_ws, "audit", "report", "--as", "inspector.dupont", "--out", str(tmp_path / "r"))
    assert refused.returncode == 2 and "only auditors" in refused.stderr
    assert not (tmp_path / "r").exists()
    last = audit.events_frame(sample_ws.store, user_name="inspector.dupont").iloc[-1]
    assert (last["action"], last["outcome"]) == ("read-audit", "denied")
    anonymous = _cli(sample_ws, "audit", "report", "--out", str(tmp_path / "r"))
    assert anonymous.returncode != 0 and "--as" in anonymous.stderr
