"""The service against bad input: tokens missing, malformed, unknown, expired or revoked; a service down;
oversized, malformed and slow requests; calls to what is not served. Each gets a clear workbench error, the
refusal is audited, nothing is written, and the service goes on serving the others."""

from __future__ import annotations

import json
import socket
import sqlite3
import struct
import threading
import time
from contextlib import contextmanager

import httpx
import numpy as np
import psycopg
import pytest

import workbench
from workbench.config import Settings
from workbench.errors import AccessDenied, InvalidInput, ServiceUnavailable
from workbench.samples import SAMPLE_CASE, build_sample
from workbench.service import wire
from workbench.service.identity import issue_token
from workbench.service.process import free_port, served

from conftest import NOW, SAMPLE_DAY, fixed_clock, new_database

PURPOSE = "judicial-investigation"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """The sample world without traffic, on SQLite and on PostgreSQL (the store of a deployment)."""
    home = tmp_path_factory.mktemp("badinput")
    with new_database(request.param, home) as url:
        build_sample(Settings.from_env({}, home=home, db_url=url), day=SAMPLE_DAY, traffic=False)
        ws = workbench.open(home, db_url=url, clock=fixed_clock())
        yield ws
        ws.store.dispose()


@pytest.fixture(scope="module")
def service(world, tmp_path_factory):
    """A service that takes requests of 1 MiB at most, gives a client 2 s to send one and a call 4 s to run."""
    tokens = tmp_path_factory.mktemp("tokens") / "tokens.json"
    good = issue_token(tokens, "inspector.dupont")
    with served(world.settings.home, tokens, now=NOW.isoformat(), db_url=world.settings.db_url,
                extra_args=("--max-request-mb", "1", "--body-timeout", "2", "--call-timeout", "4",
                            "--held-back-window", "1")) as url:
        yield url, tokens, good


def refusals(world, user: str = "unauthenticated"):
    trail = world.login("auditor.maes").audit_events(user_name=user)
    return trail[(trail["action"] == "service-request") & (trail["outcome"] == "denied")]


def post(url: str, body: bytes, token: str | None = None, **headers: str) -> httpx.Response:
    if token:
        headers["Authorization"] = f"token {token}"
    return httpx.post(f"{url}/api/call", content=body, headers=headers, timeout=30)


def a_call(method: str = "cameras", target: str = "case", **kwargs) -> bytes:
    return wire.encode({"target": target, "case": {"reference": SAMPLE_CASE, "purpose": PURPOSE}, "method": method,
                        "args": (), "kwargs": kwargs})


def still_serving(url: str, token: str) -> None:
    case = workbench.open(service=url, token=token).login().open_case(SAMPLE_CASE, purpose=PURPOSE)
    assert len(case.camera_access()) > 0


@pytest.mark.parametrize("header, words", [
    (None, "no token"),
    ("Basic aW5zcGVjdG9yOg==", "malformed"),
    ("token", "malformed"),
    ("token short", "malformed"),
    ("token " + "x" * 600, "malformed"),
    ("token abcdefghijklmnop qrstuvwx", "malformed"),
    ("token " + "A" * 43, "does not know this token"),
])
def test_missing_malformed_or_unknown_tokens_are_refused_in_words_and_audited(world, service, header, words):
    url, _, good = service
    before = len(refusals(world))
    response = post(url, a_call(), **({"Authorization": header} if header else {}))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "AccessDenied" and words in body["message"]
    assert len(refusals(world)) == before + 1
    still_serving(url, good)


def test_the_client_raises_access_denied_with_the_service_reason(service):
    url, _, _ = service
    with pytest.raises(AccessDenied, match="no token"):
        workbench.open(service=url).login()
    with pytest.raises(AccessDenied, match="does not know this token"):
        workbench.open(service=url, token="Z" * 40).login()


def test_expired_and_revoked_tokens_are_refused(world, service):
    url, tokens, good = service
    expired = issue_token(tokens, "inspector.dupont", days=-1)
    with pytest.raises(AccessDenied, match="expired"):
        workbench.open(service=url, token=expired).login()
    revoked = issue_token(tokens, "inspector.janssens")
    assert workbench.open(service=url, token=revoked).login().user.name == "inspector.janssens"
    table = json.loads(tokens.read_text())
    table = {k: v for k, v in table.items() if v["user"] != "inspector.janssens"}
    tokens.write_text(json.dumps(table))
    with pytest.raises(AccessDenied, match="does not know this token"):
        workbench.open(service=url, token=revoked).login()
    still_serving(url, good)


def test_a_service_that_is_down_is_named_in_words():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServiceUnavailable, match="cannot be reached.*may be down"):
        workbench.open(service=url, token="T" * 40).login()


def test_oversized_requests_are_refused_before_they_are_read(world, service):
    url, _, good = service
    case = workbench.open(service=url, token=good).login().open_case(SAMPLE_CASE, purpose=PURPOSE)
    before = len(refusals(world, "inspector.dupont"))
    with pytest.raises(InvalidInput, match="larger than the service accepts"):
        case.frame_search(like=np.random.default_rng(0).normal(size=(400, 400)))
    response = post(url, b"WBW1" + b"\0" * (2 * 2**20), good)
    assert response.status_code == 413 and response.json()["error"] == "InvalidInput"
    assert len(refusals(world, "inspector.dupont")) == before + 2
    still_serving(url, good)


@pytest.mark.parametrize("body, words", [
    (b"not a message", "not a workbench service message"),
    (b"WBW1\xff\xff\x00\x00{}", "header is not readable"),
    (wire.encode({"target": "case", "method": "cameras"}), "names its target, method, args and kwargs"),
    (a_call("_deny"), "is not a method the workbench service serves"),
    (a_call("record", action="evidence-package"), "is not a method the workbench service serves"),
    (a_call("access", kind="plates"), "is not a method the workbench service serves"),
    (a_call("camera_network"), "is not a method the workbench service serves"),
    (a_call("sightings", action="convoy"), "does not take action="),
    (a_call("export_clip", folder="/etc"), "does not take folder="),
    (a_call("plate_reads", query="1ABC234", plate="1ABC234"), "unexpected keyword argument 'plate'"),
    (a_call("plate_reads"), "missing a required argument: 'query'"),
    (a_call("cases", target="workspace"), "serves login(), and only that"),
    (a_call("anything", target="store"), "serves sessions, cases and administration"),
])
def test_malformed_calls_and_what_is_not_served_are_refused_and_audited(world, service, body, words):
    url, _, good = service
    before = len(refusals(world, "inspector.dupont"))
    response = post(url, body, good)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "InvalidInput" and words in response.json()["message"]
    assert len(refusals(world, "inspector.dupont")) == before + 1
    still_serving(url, good)


def test_an_object_the_wire_does_not_know_is_not_built(service):
    url, _, good = service
    tree = {"$dict": [["target", "case"], ["method", "cameras"], ["kwargs", {"$dict": []}],
                      ["args", {"$dc": "UserSession", "fields": {}}]]}
    header = json.dumps({"value": tree, "buffers": []}).encode()
    response = post(url, wire.MAGIC + struct.pack("<I", len(header)) + header, good)
    assert response.status_code == 400 and "unknown kind 'UserSession'" in response.json()["message"]


def test_a_slow_client_is_cut_off_and_the_others_are_served(world, service):
    url, _, good = service
    port = int(url.rsplit(":", 1)[1])
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    slow.sendall(f"POST /api/call HTTP/1.1\r\nHost: x\r\nAuthorization: token {good}\r\n"
                 "Content-Length: 5000\r\n\r\nWBW1".encode())
    started = time.monotonic()
    still_serving(url, good)                      # served while the slow client holds its connection
    assert time.monotonic() - started < 2
    reply = b""
    while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
        chunk = slow.recv(4096)
        if not chunk:
            break
        reply += chunk
    slow.close()
    assert reply.startswith(b"HTTP/1.1 408") and b"too slow" in reply
    still_serving(url, good)


@contextmanager
def locked(world):
    """Hold what a camera_access() call needs: the camera table (PostgreSQL; the rules' counter raised first, so
    that no camera row is kept from an earlier call), or the write lock (SQLite)."""
    url = world.settings.db_url
    if url.startswith("postgresql"):
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=False) as db:
            db.execute("UPDATE catalogue_counter SET value = value + 1 WHERE name = 'rules'")
            db.commit()
            db.execute("LOCK TABLE camera IN ACCESS EXCLUSIVE MODE")
            yield
            db.rollback()
    else:
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        yield
        db.execute("ROLLBACK")
        db.close()


def test_a_call_longer_than_the_limit_is_answered_and_the_others_are_served(world, service):
    url, _, good = service
    case = workbench.open(service=url, token=good).login().open_case(SAMPLE_CASE, purpose=PURPOSE)
    outcome: dict[str, BaseException | None] = {}

    def slow() -> None:
        try:
            case.camera_access()
            outcome["slow"] = None
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome["slow"] = exc

    with locked(world):
        caller = threading.Thread(target=slow)
        caller.start()
        time.sleep(1)
        assert httpx.get(f"{url}/api/health", timeout=5).status_code == 200
        if world.settings.db_url.startswith("postgresql"):     # reads that do not need the table go on
            assert len(workbench.open(service=url, token=good).login().cases()) > 0
        caller.join(timeout=3.8)                      # past the 4 s limit, then the lock goes
    caller.join(timeout=30)
    assert isinstance(outcome["slow"], ServiceUnavailable), outcome
    assert "ran longer than the service allows (4 s)" in str(outcome["slow"])
    trail = world.login("auditor.maes").audit_events(user_name="inspector.dupont")
    assert ((trail["action"] == "service-request") & (trail["outcome"] == "error")
            & trail["reason"].str.contains("camera_access")).any()
    still_serving(url, good)


def test_a_flood_of_refused_tokens_is_held_back_and_counted(world, service):
    url, _, good = service
    before = len(refusals(world))
    with httpx.Client(timeout=30) as http:
        codes = [http.post(f"{url}/api/call", content=a_call(), headers={"Authorization": f"token {'F' * 40}"})
                 for _ in range(60)]
    held = [r for r in codes if r.status_code == 429]
    assert held and all(r.status_code in (401, 429) for r in codes)
    assert "too many requests with a refused token" in held[0].json()["message"]
    assert int(held[0].headers["Retry-After"]) >= 1
    still_serving(url, good)                        # an accepted token is never held back
    individually = len(refusals(world)) - before
    assert individually <= 21, individually        # the burst, not the flood
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        summary = refusals(world)
        summary = summary[summary["reason"].str.contains("held back unread")]
        if len(summary):
            break
        time.sleep(0.5)
    assert sum(int(r["held_back"]) for r in summary["resource"]) == len(held)
