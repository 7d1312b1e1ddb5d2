"""The access rule (access/policy.py) over every combination, against an oracle written apart from it.

Every role x case state (open, closed, closed after it was opened; member or
not; training or not; purpose stated right or wrong) x agreement state
(own camera, none, active, expired, revoked, not yet valid, wrong kind, wrong
purpose, camera out of scope) x time (within retention, beyond it, beyond it
but held) x export or plain read is run through the rule in the order
``access/session.py`` applies it (open the case, then read), and compared
with the oracle's decision and reason. Pure functions: no database, no clock.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from workbench.access import policy
from workbench.access.policy import AgreementFacts, CameraFacts, CaseFacts
from workbench.plates.hotlist import HitPolicy

NOW = datetime(2026, 11, 21, 10, tzinfo=timezone.utc)
ROLES = ["investigator", "analyst", "dispatcher", "trainer", "auditor", "admin"]
STATUSES = ["open", "closed", "closed-after-opening"]
AGREEMENTS = ["own", "none", "active", "expired", "revoked", "not-yet-valid", "wrong-kind", "wrong-purpose",
              "out-of-scope"]
TIMES = ["recent", "beyond-retention", "beyond-retention-held"]
PURPOSE = "judicial-investigation"
RETENTION = {("STIB", "plates"): 30}          # STIB keeps plate reads 30 days; footage keeps the default


def _agreement(state: str) -> list[AgreementFacts]:
    """The agreements STIB -> PZ5339 in ``state`` (for ``own`` the camera belongs to the user's zone)."""
    if state in ("own", "none"):
        return []
    day = timedelta(days=1)
    return [AgreementFacts(
        owner="STIB", recipient="PZ5339",
        data_kinds=frozenset({"footage"} if state == "wrong-kind" else {"plates", "footage"}),
        purposes=frozenset({"administrative-police"} if state == "wrong-purpose" else {PURPOSE, "training"}),
        camera_scope=frozenset({"ANPR-STIB-2"}) if state == "out-of-scope" else None,
        valid_from=NOW + day if state == "not-yet-valid" else NOW - 100 * day,
        valid_until=NOW - day if state == "expired" else None,
        revoked_at=NOW - day if state == "revoked" else None,
        reference=f"AGR-{state}")]


def through_the_rule(role: str, status: str, member: bool, training: bool, purpose_right: bool, agreement: str,
                     when: str, export: bool) -> tuple[bool, str]:
    """What the policy module answers, applied as the session applies it."""
    case_purpose = "training" if training else PURPOSE
    stated = case_purpose if purpose_right else "administrative-police"
    facts = CaseFacts("CASE-1", "closed" if status == "closed" else "open", case_purpose, training, member)
    opened = policy.may_open_case(role, "someone", facts, "CASE-1", stated)
    if not opened.allowed:
        return False, opened.reason
    now_facts = CaseFacts("CASE-1", "closed" if status != "open" else "open", case_purpose, training, member)
    reading = policy.may_read(role, now_facts, export=export)
    if not reading.allowed:
        return False, reading.reason
    owner = "PZ5339" if agreement == "own" else "STIB"
    camera = CameraFacts("ANPR-STIB-1", owner, "anpr")
    kind = policy.data_kind(camera.kind)
    age = {"recent": timedelta(days=2)}.get(when, timedelta(days=45))
    since, until = NOW - age - timedelta(hours=1), NOW - age
    holds = [(since, until)] if when == "beyond-retention-held" else []
    decision = policy.decide(camera, kind, user_partner="PZ5339", purpose=case_purpose,
                             agreements=_agreement(agreement),
                             retention_days=policy.retention_days(RETENTION, owner, kind),
                             holds=holds, now=NOW, since=since, until=until)
    return decision.granted, decision.reason


# --- the oracle: every condition that fails, then the first one in the order the rule states them ---------
REASON_WORDS = {
    "role": "role does not", "member": "is not a member", "closed": "is closed", "purpose": "purpose limitation",
    "trainer-outside-training": "training cases only", "export": "needs the investigator role",
    "closed-since": "no more data may be read", "none": "no sharing agreement", "expired": "is expired",
    "revoked": "is revoked", "not-yet-valid": "is not-yet-valid", "wrong-kind": "does not cover plates",
    "wrong-purpose": "does not cover the purpose", "out-of-scope": "does not cover camera ANPR-STIB-1",
    "retention": "30-day retention", "own": "own camera of PZ5339", "active": "agreement AGR-active",
}
ORDER = ["role", "member", "closed", "purpose", "trainer-outside-training", "export", "closed-since",
         "agreement", "retention"]


def oracle(role: str, status: str, member: bool, training: bool, purpose_right: bool, agreement: str,
           when: str, export: bool) -> tuple[bool, str]:
    failing = {
        "role": role in ("auditor", "admin"),
        "member": not member,
        "closed": status == "closed",
        "purpose": not purpose_right,
        "trainer-outside-training": role == "trainer" and not training,
        "export": export and role != "investigator",
        "closed-since": status == "closed-after-opening",
        "agreement": agreement not in ("own", "active"),
        # own cameras of PZ5339 keep plates the default 365 days; STIB keeps them 30
        "retention": when == "beyond-retention" and agreement != "own",
    }
    first = next((name for name in ORDER if failing[name]), None)
    if first is None:
        return True, REASON_WORDS[agreement]
    return False, REASON_WORDS[agreement if first == "agreement" else first]


CASES = list(itertools.product(STATUSES, [True, False], [True, False], [True, False], AGREEMENTS, TIMES,
                               [False, True]))


@pytest.mark.parametrize("role", ROLES)
def test_every_case_and_agreement_state_gets_the_expected_decision_and_reason(role):
    wrong = []
    for combination in CASES:
        granted, reason = through_the_rule(role, *combination)
        expected, words = oracle(role, *combination)
        if granted != expected or words not in reason:
            wrong.append(f"{(role, *combination)}: got {granted} {reason!r}, expected {expected} ~{words!r}")
    assert not wrong, f"{len(wrong)} of {len(CASES)} wrong, e.g.\n" + "\n".join(wrong[:10])
    assert len(CASES) == 3 * 2 * 2 * 2 * 9 * 3 * 2


def test_the_table_reaches_every_outcome():
    outcomes = {oracle(role, *c)[1] for role in ROLES for c in CASES}
    assert outcomes == set(REASON_WORDS.values())


@pytest.mark.parametrize("role", ROLES)
def test_administration_rights_by_role(role):
    assert policy.may_create_case(role, training=False).allowed == (role == "investigator")
    assert policy.may_create_case(role, training=True).allowed == (role == "trainer")
    assert policy.may_place_hold(role).allowed == (role == "investigator")
    assert policy.may_read_audit(role).allowed == (role == "auditor")
    assert policy.may_read_indicators(role).allowed == (role in ("auditor", "admin"))
    refusals = [v.reason for v in (policy.may_create_case(role, training=False), policy.may_place_hold(role),
                                   policy.may_read_audit(role), policy.may_read_indicators(role)) if not v.allowed]
    assert all(refusals)   # a refusal always says why


def test_retention_defaults_and_camera_kinds():
    assert policy.retention_days({}, "PZ5339", "footage") == 30
    assert policy.retention_days({}, "PZ5339", "plates") == 365
    assert policy.retention_days({(7, "footage"): 10}, 7, "footage") == 10
    assert (policy.data_kind("anpr"), policy.data_kind("fixed"), policy.data_kind("ptz")) == \
        ("plates", "footage", "footage")


@pytest.mark.parametrize("priority,own,expected", [
    (0, False, "act"), (1, False, "act"), (2, False, "ignore"), (2, True, "act"), (3, True, "ignore"),
    (4, False, "ignore"), (5, False, "act")])
def test_hit_policy_acts_ignores_and_keeps_unclassified_priorities(priority, own, expected):
    assert HitPolicy().decide(priority=priority, on_own_list=own) == expected


def test_a_zone_that_ignores_a_priority_it_used_to_act_on():
    zone = HitPolicy(act_on=frozenset({0}), ignore=frozenset({1, 3, 4}), own_list_only=frozenset({2}))
    assert zone.decide(priority=1, on_own_list=True) == "ignore"
    assert zone.decide(priority=0, on_own_list=False) == "act"
