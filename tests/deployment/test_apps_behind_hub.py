"""The apps behind the hub's proxy: each user's own ``workbench apps`` at ``/user/NAME/workbench-apps/``.

The first visit starts the user's app server (jupyter-server-proxy, as the
user's own account); the page's kernel logs in with the user's hub token
through the workbench service. Its widgets are read back over the kernel's
websocket, as the page's JavaScript reads them, so the test sees what the
browser would draw without a browser.
"""

from __future__ import annotations

import json
import re

import pytest

SAMPLE_CASE = "PV-BR-2026-001234"


@pytest.fixture(scope="module")
def triage_page(dupont, auditor):
    """The hit triage app opened by its owner through the hub; the audit trail's last event before it."""
    before = int(auditor.audit_events()["seq"].max())
    page = dupont.app_page("inspector.dupont", "hit_triage")
    return page, before


def _text(states: dict) -> str:
    """What the widgets show: their values and options, as one text."""
    shown = []
    for model in states.values():
        state = model.get("state", {})
        shown += [str(state.get("value") or ""), json.dumps(state.get("_options_labels", []), ensure_ascii=False)]
    return "\n".join(shown)


def test_an_app_renders_behind_the_hub_with_the_users_identity_and_case(dupont, triage_page, auditor):
    page, before = triage_page
    assert page.status_code == 200, page.text[:500]
    kernel = re.search(r'"kernelId": "([0-9a-f-]+)"', page.text)
    assert kernel, "the page names no kernel: it was not rendered by Voila"
    shown = _text(dupont.widget_states("inspector.dupont", kernel.group(1)))
    assert "<b>inspector.dupont</b>" in shown, shown[:2000]   # the header: who is logged in
    assert f"{SAMPLE_CASE} — " in shown, shown[:2000]          # the case picker: the user's case, opened
    # the kernel read the case's hits through the service, as inspector.dupont, and the service audited it
    events = auditor.audit_events(user_name="inspector.dupont")
    events = events[events["seq"] > before]
    read = events[(events["action"] == "hits") & (events["outcome"] == "ok")]
    assert set(read["case_reference"]) == {SAMPLE_CASE}, events[["action", "outcome", "case_reference"]]
    assert int(read["result_count"].iloc[-1]) > 0, read


def test_another_user_cannot_reach_the_users_apps(deployment, dupont, triage_page):
    peeters = deployment.login("analyst.peeters")
    peeters.start_server()
    page, _ = triage_page
    kernel = re.search(r'"kernelId": "([0-9a-f-]+)"', page.text).group(1)
    reply = peeters.app_page("inspector.dupont", "hit_triage")
    assert reply.status_code in (302, 403, 404), reply.status_code
    assert "kernelId" not in reply.text
    with pytest.raises(Exception) as refused:   # nor the page's kernel, over its websocket
        peeters.widget_states("inspector.dupont", kernel, timeout=20)
    assert "403" in str(refused.value) or "302" in str(refused.value) or "404" in str(refused.value), \
        repr(refused.value)
