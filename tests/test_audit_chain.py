"""The audit trail is hash-chained: any edit, deletion, insertion or reordering is named."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import delete, select, update

from workbench.access import audit
from workbench.errors import AccessDenied
from workbench.samples import SAMPLE_CASE
from workbench.store.models import AuditEvent, AuditHead

from tampering import without_guards


def _activity(ws) -> None:
    me = ws.login("inspector.dupont")
    case = me.open_case(SAMPLE_CASE, purpose="judicial-investigation")
    case.camera_access()
    case.sightings(["1ABC234"])
    case.audit_trail()


def _events(store) -> list[AuditEvent]:
    with store.session() as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()


def test_intact_chain_verifies(sample_ws):
    _activity(sample_ws)
    check = audit.verify(sample_ws.store)
    assert check.ok and check.events == len(_events(sample_ws.store)) >= 6
    assert "intact" in str(check)


def test_changed_event_is_named(sample_ws):
    _activity(sample_ws)
    with without_guards(sample_ws.store) as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(user_name="someone.else"))
    check = audit.verify(sample_ws.store)
    assert not check.ok and check.first_bad_seq == 4 and "changed" in check.reason


def test_changed_result_count_is_named(sample_ws):
    _activity(sample_ws)
    with without_guards(sample_ws.store) as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 5).values(result_count=999))
    assert audit.verify(sample_ws.store).first_bad_seq == 5


def test_deleted_event_is_named(sample_ws):
    _activity(sample_ws)
    with without_guards(sample_ws.store) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    check = audit.verify(sample_ws.store)
    assert not check.ok and check.first_bad_seq == 3 and "missing" in check.reason


def test_inserted_event_is_named(sample_ws):
    """An event forged with a correct hash of its own still breaks the link of the one after it."""
    _activity(sample_ws)
    events = _events(sample_ws.store)
    with without_guards(sample_ws.store) as s:
        # shift events 4.. up by one (from the end, to keep the key unique) and forge event 4
        for e in reversed(events[3:]):
            s.execute(update(AuditEvent).where(AuditEvent.seq == e.seq).values(seq=e.seq + 1))
        forged = {"seq": 4, "time": events[3].time, "user_name": "inspector.dupont", "partner_code": "PZ5339",
                  "case_reference": SAMPLE_CASE, "purpose": "judicial-investigation", "action": "read-sightings",
                  "outcome": "ok", "reason": None, "resource": {}, "result_count": 0, "prev_hash": events[2].hash}
        forged["hash"] = audit.event_hash(forged)
        s.add(AuditEvent(**forged))
    check = audit.verify(sample_ws.store)
    assert not check.ok and check.first_bad_seq == 5


def test_reordered_events_are_named(sample_ws):
    _activity(sample_ws)
    events = _events(sample_ws.store)
    a, b = events[4], events[5]
    fields = ["time", "user_name", "partner_code", "case_reference", "purpose", "action", "outcome", "reason",
              "resource", "result_count", "prev_hash", "hash"]
    with without_guards(sample_ws.store) as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == a.seq).values({f: getattr(b, f) for f in fields}))
        s.execute(update(AuditEvent).where(AuditEvent.seq == b.seq).values({f: getattr(a, f) for f in fields}))
    check = audit.verify(sample_ws.store)
    assert not check.ok and check.first_bad_seq == a.seq


def test_truncated_trail_is_detected(sample_ws):
    _activity(sample_ws)
    last = _events(sample_ws.store)[-1].seq
    with without_guards(sample_ws.store) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == last))
    check = audit.verify(sample_ws.store)
    assert not check.ok and check.first_bad_seq == last and "end" in check.reason


def test_head_cannot_be_rewound_to_hide_a_truncation(sample_ws):
    _activity(sample_ws)
    events = _events(sample_ws.store)
    with without_guards(sample_ws.store) as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == events[-1].seq))
        s.execute(update(AuditHead).values(seq=events[-2].seq, hash="f" * 64))
    assert not audit.verify(sample_ws.store).ok


def test_cli_verify_names_the_event_and_fails(sample_ws, monkeypatch):
    _activity(sample_ws)
    env = {"WORKBENCH_HOME": str(sample_ws.settings.home), "WORKBENCH_DB_URL": sample_ws.settings.db_url,
           "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "audit", "verify"],
                        env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stderr
    with without_guards(sample_ws.store) as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(action="tampered"))
    bad = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "audit", "verify"],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "event 2" in bad.stdout


def test_concurrent_appends_extend_one_chain(sample_ws):
    """Several threads appending at once still produce one unbroken chain."""
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> None:
        sample_ws.login("analyst.peeters").open_case(SAMPLE_CASE, purpose="judicial-investigation").camera_access()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(12)))
    check = audit.verify(sample_ws.store)
    assert check.ok and check.events >= 36


def test_report_counts_per_partner_purpose_user_and_day(sample_ws, tmp_path):
    _activity(sample_ws)
    with pytest.raises(AccessDenied):
        sample_ws.login("nobody.at.all")
    events = audit.events_frame(sample_ws.store)
    summary = audit.report(events)
    assert summary["events"].sum() == len(events)
    dupont = summary[(summary["user_name"] == "inspector.dupont") & (summary["action"] == "open-case")]
    assert dupont["purpose"].tolist() == ["judicial-investigation"] and dupont["partner_code"].tolist() == ["PZ5339"]
    assert summary.loc[summary["user_name"] == "nobody.at.all", "denied"].sum() == 1
    csv_path, html_path = audit.write_report(summary, tmp_path, check=audit.verify(sample_ws.store))
    assert csv_path.read_text().startswith("day,partner_code,purpose,user_name,action")
    assert "intact" in html_path.read_text()


@pytest.mark.parametrize("reason,resource", [
    ("accents é ü ß, 中文, \"quotes\" and \\ back", {"q": ["a", "é"], "n": None, "nested": {"b": 2, "a": [1.5]}}),
    ("reads like a mark", {"k": "\x00prev_hash\x00", "s": "\x00seq\x00"}),   # the database path steps aside
])
def test_events_hashed_by_the_database_verify_like_the_others(sample_ws, reason, resource):
    actor = audit.Actor("inspector.dupont", "FEDPOL", SAMPLE_CASE, "judicial-investigation")
    first = audit.record(sample_ws.store, actor, "plate-reads", time=sample_ws.now(), reason=reason,
                         resource=resource, result_count=2)
    with sample_ws.store.session() as session:   # inside a larger transaction too
        second = audit.append(session, actor, "plate-reads", time=sample_ws.now(), resource=resource)
    assert second == first + 1
    check = audit.verify(sample_ws.store)
    assert check.ok, check
    with sample_ws.store.snapshot() as session:
        stored = session.execute(select(AuditEvent).where(AuditEvent.seq == first)).scalar_one()
        assert (stored.reason, stored.resource) == (reason, resource)
        assert stored.hash == audit.row_hash(stored)
