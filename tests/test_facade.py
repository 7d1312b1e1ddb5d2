"""One facade suite, two modes: embedded, and a client of the workbench service run in its own process.

Every test takes ``login`` (a function user -> session) from a fixture
parametrised over both modes, and checks the sample world's ground truth; the
``same`` fixture asserts that the served result is identical to the embedded
one (same DataFrames and GeoDataFrames, same frames, same refusal reasons).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import geopandas as gpd
import httpx
import numpy as np
import pandas as pd
import pytest

import workbench
from workbench.config import Settings
from workbench.errors import AccessDenied, ConfigurationError, InvalidInput, NotFound
from workbench.evidence.package import MANIFEST
from workbench.samples import SAMPLE_CASE, build_sample, ground_truth_dir
from workbench.samples.simulated_traffic import GroundTruth
from workbench.samples.world import USERS
from workbench.service.identity import issue_token
from workbench.service.process import served

from conftest import NOW, SAMPLE_DAY, fixed_clock

PURPOSE = "judicial-investigation"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The sample world (SQLite) in a home of its own, opened embedded, with its ground truth."""
    home = tmp_path_factory.mktemp("facade")
    settings = Settings.from_env({}, home=home)
    build_sample(settings, day=SAMPLE_DAY)
    ws = workbench.open(home, clock=fixed_clock())
    yield ws, GroundTruth.load(ground_truth_dir(settings))
    ws.store.dispose()


@pytest.fixture(scope="module")
def service(world, tmp_path_factory):
    """The workbench service on the same world, in a subprocess on a free loopback port; a token per user."""
    tokens = tmp_path_factory.mktemp("service") / "tokens.json"
    issued = {name: issue_token(tokens, name) for name, *_ in USERS}
    with served(world[0].settings.home, tokens, now=NOW.isoformat()) as url:
        yield url, issued


@pytest.fixture(params=["embedded", "served"])
def login(request, world) -> Callable[[str], object]:
    """Log a sample user in, embedded or through the service (where the token says who)."""
    if request.param == "embedded":
        return world[0].login
    url, tokens = request.getfixturevalue("service")
    return lambda name: workbench.open(service=url, token=tokens[name]).login()


@pytest.fixture
def case(login):
    return login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)


@pytest.fixture
def reference(world):
    """The embedded case: what the served results must equal."""
    return world[0].login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)


def same(a, b) -> None:
    """Identical results: frames and series by value, GeoDataFrames with their CRS, plain data by equality."""
    assert type(a).__name__ == type(b).__name__
    if isinstance(a, gpd.GeoDataFrame):
        assert a.crs == b.crs
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            same(x, y)
    else:
        assert a == b


def test_login_cases_and_the_session(login, world):
    me = login("inspector.dupont")
    assert me.user == world[0].login("inspector.dupont").user
    same(me.cases(), world[0].login("inspector.dupont").cases())
    assert SAMPLE_CASE in set(me.cases()["reference"])


@pytest.mark.parametrize("call", [
    ("camera_access", (), {}), ("cameras", (), {}), ("cameras", (), {"kind": "anpr"}), ("hits", (), {}),
    ("hits", (), {"include_ignored": True}), ("footage", (), {}), ("plate_reads", ("6GGM83?",), {}),
    ("plate_reads", ("6GGM833",), {"fuzzy": True}), ("cloned_plates", (), {}),
    ("convoy", ("6GGM833",), {}), ("locate", ("6GGM833",), {}),
    ("stakeout", (["ANPR-BM-001"],), {"since": "2026-11-20T07:00Z", "until": "2026-11-20T09:00Z"}),
], ids=lambda c: c[0] if isinstance(c, tuple) else str(c))
def test_the_same_query_gives_the_same_tables(case, reference, call):
    name, args, kwargs = call
    same(getattr(case, name)(*args, **kwargs), getattr(reference, name)(*args, **kwargs))


def test_the_suspects_trajectory_route_and_analyses(case, reference, world):
    truth = world[1]
    suspect = truth.scenario["suspect"]
    trip = case.trajectory(suspect, since="2026-11-20")
    expected = reference.trajectory(suspect, since="2026-11-20")
    same(trip.sightings, expected.sightings)
    same(trip.hops, expected.hops)
    same(trip.route, expected.route)
    assert len(trip) >= 3 and trip.flags.empty
    middle = trip.sightings["time"].iloc[0] + (trip.sightings["time"].iloc[-1] - trip.sightings["time"].iloc[0]) / 2
    assert trip.position_at(middle)[0].equals_exact(expected.position_at(middle)[0], 1e-9)
    assert truth.scenario["convoy"] == case.convoy(suspect).iloc[0]["plate"]
    assert suspect not in set(case.cloned_plates()["plate"])
    places = [(list(trip.sightings["camera_id"].iloc[[0]]), trip.sightings["time"].iloc[0] - pd.Timedelta("1min"),
               trip.sightings["time"].iloc[0] + pd.Timedelta("1min")),
              (list(trip.sightings["camera_id"].iloc[[-1]]), trip.sightings["time"].iloc[-1] - pd.Timedelta("1min"),
               trip.sightings["time"].iloc[-1] + pd.Timedelta("1min"))]
    common = case.common_plates(places)
    same(common, reference.common_plates(places))
    assert suspect in set(common["plate"])


def test_frames_frame_search_and_synchronised_views(case, reference, world):
    suspect = world[1].scenario["suspect"]
    trip = case.trajectory(suspect)
    hits = case.frame_search(near=trip, colour="red", kind="vehicle")
    expected = reference.frame_search(near=reference.trajectory(suspect), colour="red", kind="vehicle")
    assert (hits.total, hits.page, hits.pages) == (expected.total, expected.page, expected.pages) and hits.total >= 1
    same(hits.table, expected.table)
    frame = case.frame(hits[0]["camera_id"], hits[0]["best_time"])
    truth = reference.frame(hits[0]["camera_id"], hits[0]["best_time"])
    assert (frame.camera_id, frame.time, frame.segment_id, frame.keyframe) == \
        (truth.camera_id, truth.time, truth.segment_id, truth.keyframe)
    assert np.array_equal(frame.image, truth.image)       # lossless on the wire
    around = case.frames_at(hits[0]["best_time"], near=hits[0]["camera_id"], radius=300)
    assert [f.camera_id for f in around] == [f.camera_id for f in reference.frames_at(
        hits[0]["best_time"], near=hits[0]["camera_id"], radius=300)]
    stepped = case.frame(hits[0]["camera_id"], hits[0]["best_time"], keyframe="next")
    assert stepped.keyframe and stepped.time >= frame.time


def test_an_evidence_package_is_written_by_the_service_and_verifies(case, world, tmp_path):
    hit = case.frame_search(kind="vehicle", colour="red", per_page=1)[0]
    package = case.export_clip(hit, seconds=4, folder=tmp_path)
    assert package.folder.parent == tmp_path and package.clips[0].is_file()
    report = case.verify_evidence(package.folder)
    assert report.ok, report.problems
    assert package.manifest["exported_by"]["user"] == "inspector.dupont"
    assert {"export-clip", "evidence-package"} <= set(case.audit_trail(limit=20)["action"])


def refusal(attempt: Callable[[Callable], object], login: Callable) -> tuple[str, str]:
    with pytest.raises((AccessDenied, NotFound, InvalidInput)) as info:
        attempt(login)
    return type(info.value).__name__, str(info.value)


def test_refusals_carry_the_same_class_and_reason(login, world):
    embedded = world[0].login
    cases = [
        lambda lg: lg("inspector.vermeulen").open_case(SAMPLE_CASE, purpose=PURPOSE),
        lambda lg: lg("auditor.maes").open_case(SAMPLE_CASE, purpose=PURPOSE),
        lambda lg: lg("inspector.dupont").open_case(SAMPLE_CASE, purpose="traffic-enforcement"),
        lambda lg: lg("inspector.dupont").indicators(),
        lambda lg: lg("inspector.dupont").audit_events(),
        lambda lg: lg("analyst.peeters").open_case(SAMPLE_CASE, purpose=PURPOSE).export_clip(
            "CCTV-PZ5340-101", "2026-11-20T03:00:00Z", "2026-11-20T03:01:00Z"),
        lambda lg: lg("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE).frame(
            "NO-SUCH-CAMERA", "2026-11-20T08:00Z"),
        lambda lg: lg("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE).plate_reads(
            "6GGM833", since="2026-11-21", until="2026-11-20"),
    ]
    for attempt in cases:
        assert refusal(attempt, login) == refusal(attempt, embedded)
    refused = world[0].login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE).camera_access() \
        .query("granted == False and data == 'footage'")["camera_id"].iloc[0]
    case = login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    kind, reason = refusal(lambda _: case.frame(refused, "2026-11-20T08:00Z"), login)
    assert kind == "AccessDenied" and refused in reason
    last = world[0].login("auditor.maes").audit_events(user_name="inspector.dupont").iloc[-1]
    assert (last["action"], last["outcome"]) == ("frame", "denied") and refused in last["reason"]


def test_auditors_read_the_trail_and_the_indicators(login, world):
    auditor = login("auditor.maes")
    figures = auditor.indicators(since="2026-11-01")
    expected = world[0].login("auditor.maes").indicators(since="2026-11-01")
    same(figures.hits_by_priority, expected.hits_by_priority)
    same(figures.cameras, expected.cameras)
    assert auditor.verify_audit().ok
    trail = auditor.audit_events(case_reference=SAMPLE_CASE)
    assert len(trail) > 0 and set(trail["case_reference"]) == {SAMPLE_CASE}
    assert asdict(auditor.user) == asdict(world[0].login("auditor.maes").user)


def test_a_served_client_cannot_name_another_user(world, request, monkeypatch):
    url, tokens = request.getfixturevalue("service")
    monkeypatch.setenv("JUPYTERHUB_USER", "inspector.dupont")     # the environment names nobody to the service
    monkeypatch.setenv("WORKBENCH_USER", "auditor.maes")
    ws = workbench.open(service=url, token=tokens["analyst.peeters"])
    with pytest.raises(AccessDenied, match="token belongs to analyst.peeters"):
        ws.login("inspector.dupont")
    assert ws.login().user.name == "analyst.peeters"
    trail = world[0].login("auditor.maes").audit_events(user_name="analyst.peeters")
    assert ((trail["action"] == "service-request") & (trail["outcome"] == "denied")
            & trail["reason"].str.contains("inspector.dupont")).any()


def test_embedded_mode_says_it_enforces_nothing_against_its_user():
    assert "enforces nothing against its own user" in workbench.open.__doc__


def test_the_client_holds_no_path_to_the_data(request):
    url, tokens = request.getfixturevalue("service")
    ws = workbench.open(service=url, token=tokens["inspector.dupont"])
    me = ws.login()
    case = me.open_case(SAMPLE_CASE, purpose=PURPOSE)
    assert not any(hasattr(x, name) for x in (ws, me, case) for name in ("store", "access", "record", "_deny"))


def test_evidence_files_go_only_to_who_exported_them(request, tmp_path):
    url, tokens = request.getfixturevalue("service")
    case = workbench.open(service=url, token=tokens["inspector.dupont"]).login().open_case(SAMPLE_CASE,
                                                                                          purpose=PURPOSE)
    package = case.export_clip(case.frame_search(kind="vehicle", per_page=1)[0], seconds=2, folder=tmp_path)
    path = f"{url}/api/evidence/{SAMPLE_CASE}/{package.folder.name}/{package.clips[0].name}"
    mine = httpx.get(path, headers={"Authorization": f"token {tokens['inspector.dupont']}"})
    assert mine.status_code == 200 and mine.content == package.clips[0].read_bytes()
    other = httpx.get(path, headers={"Authorization": f"token {tokens['analyst.peeters']}"})
    assert other.status_code == 403 and "only they download it" in other.json()["message"]
    for bad in (f"{SAMPLE_CASE}/{package.folder.name}/..", f"{SAMPLE_CASE}/..%2F..%2Fworkbench.db/x",
                f"{SAMPLE_CASE}/{package.folder.name}/.hidden"):
        response = httpx.get(f"{url}/api/evidence/{bad}",
                             headers={"Authorization": f"token {tokens['inspector.dupont']}"})
        assert response.status_code in (400, 404), (bad, response.status_code)
    assert httpx.get(path).status_code == 401


def _export_two(case, tmp_path):
    found = case.frame_search(kind="vehicle", per_page=2)
    return [case.export_clip(found[i], seconds=2, folder=tmp_path / f"export-{i}") for i in range(2)]


def _forgeries(packages, tmp_path) -> dict[str, Path]:
    """Copies of a package tampered with as a kernel could: each must be reported NOT VERIFIED."""
    mine, other = packages
    made = {}

    def copy(name: str) -> Path:
        made[name] = tmp_path / name / mine.folder.name
        shutil.copytree(mine.folder, made[name])
        return made[name]

    flipped = copy("byte-flipped") / mine.clips[0].name
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    copy("other-clip").joinpath(mine.clips[0].name).write_bytes(other.clips[0].read_bytes())
    folder = copy("manifest-rewritten")          # another package's clip, the manifest's hashes made to match
    (folder / mine.clips[0].name).write_bytes(other.clips[0].read_bytes())
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["items"][0].update(sha256=hashlib.sha256(other.clips[0].read_bytes()).hexdigest(),
                                bytes=other.clips[0].stat().st_size)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    folder = copy("hand-made-custody")           # a custody record of the other package's manifest, borrowed
    (folder / MANIFEST).write_bytes(other.folder.joinpath(MANIFEST).read_bytes())
    copy("extra-link").joinpath("notes.txt").symlink_to("/etc/passwd")
    folder = copy("other-case")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["case"]["reference"] = "PV-BR-2026-009999"
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return made


def test_evidence_is_verified_through_the_facade_and_forgeries_are_not(case, reference, tmp_path):
    packages = _export_two(case, tmp_path)
    report = case.verify_evidence(packages[0].folder)
    assert report.ok and report.custody_checked, report.problems
    assert report.folder == packages[0].folder
    assert str(report) == str(reference.verify_evidence(packages[0].folder))
    assert case.verify_evidence(packages[0]).ok          # the package itself, as export_clip returns it
    for name, forged in _forgeries(packages, tmp_path).items():
        served, embedded = case.verify_evidence(forged), reference.verify_evidence(forged)
        assert not served.ok, name
        assert (served.problems, served.checked) == (embedded.problems, embedded.checked), name
    trail = reference.audit_trail(limit=30)
    verified = trail[trail["action"] == "evidence-verify"]
    assert set(verified["outcome"]) == {"ok", "error"}
    with pytest.raises(NotFound):
        case.verify_evidence(tmp_path / "no-such-package")


def test_results_are_exported_alike_and_audited(case, reference, tmp_path):
    trip, expected = case.trajectory("6GGM833"), reference.trajectory("6GGM833")
    for fmt in ("csv", "geojson", "kml", "i2"):
        mine = case.export_results(trip, format=fmt, path=tmp_path / f"mine-{fmt}")
        theirs = reference.export_results(expected, format=fmt, path=tmp_path / f"theirs-{fmt}")
        assert mine == tmp_path / f"mine-{fmt}" and mine.read_bytes() == theirs.read_bytes(), fmt
    event = reference.audit_trail(limit=20).query("action == 'export-results'").iloc[-2]
    assert event["resource"]["query"]["sha256"] == hashlib.sha256((tmp_path / "mine-i2").read_bytes()).hexdigest()
    with pytest.raises(InvalidInput, match="exists already"):
        case.export_results(trip, format="csv", path=tmp_path / "mine-csv")
    forged = trip.sightings.copy()
    forged.loc[0, "camera_id"] = reference.camera_access().query(
        "granted == False and data == 'plates'")["camera_id"].iloc[0]
    with pytest.raises(AccessDenied) as served:
        case.export_results(forged, format="csv", path=tmp_path / "forged.csv")
    assert not (tmp_path / "forged.csv").exists()
    with pytest.raises(AccessDenied) as embedded:
        reference.export_results(forged, format="csv", path=tmp_path / "forged.csv")
    assert str(served.value) == str(embedded.value)


def test_training_checks_and_the_trainers_view(login, world):
    from workbench.samples.training import TrainingCheck, class_progress
    from workbench.samples.world import TRAINING_CASE

    case = login("inspector.vermeulen").open_case(TRAINING_CASE, purpose="training")
    embedded = TrainingCheck(world[0].login("inspector.vermeulen").open_case(TRAINING_CASE, purpose="training"), 1)
    check = TrainingCheck(case, 1)
    for question in ("stolen_plate", "suspect_sightings", "suspect_plausible", "convoy_plate"):
        assert check.expected(question) == embedded.expected(question), question
    assert check("stolen_plate", check.expected("stolen_plate")) and not check("suspect_sightings", -1)
    trainer = login("trainer.claes")
    results = trainer.training_results()
    same(results, world[0].login("trainer.claes").training_results())
    assert {"stolen_plate", "suspect_sightings"} <= set(results.query("user_name == 'inspector.vermeulen'")["question"])
    assert not class_progress(results).empty
    same(trainer.training_activity(), world[0].login("trainer.claes").training_activity())


def test_training_answers_are_judged_by_the_case_not_reported(login, world, request, tmp_path):
    """The case judges each answer against its own key: a wrong answer is recorded wrong whatever the caller
    says, a forged package is not verified, and no client can write a check's result of its own."""
    from workbench.samples.training import TrainingKey, package_copy
    from workbench.samples.world import TRAINING_CASE
    from workbench.service.client import ClientCase

    case = login("inspector.vermeulen").open_case(TRAINING_CASE, purpose="training")
    key = TrainingKey(world[0].login("inspector.vermeulen").open_case(TRAINING_CASE, purpose="training"))
    assert case.check_training("stolen_plate", key.expected("stolen_plate").lower())
    assert not case.check_training("suspect_sightings", key.expected("suspect_sightings") + 1)
    assert not case.check_training("suspect_plausible", "True")   # a text is not the yes/no asked
    forged = tmp_path / f"{TRAINING_CASE}_forged"
    forged.mkdir()
    (forged / MANIFEST).write_text(json.dumps({"case": {"reference": TRAINING_CASE}, "items": []}))
    assert not case.check_training("package_verified", package_copy(forged))
    assert not case.check_training("package_verified", forged.as_posix())   # a path is not read where judged
    with pytest.raises(InvalidInput, match="unknown question"):
        case.check_training("everything_right", True)
    results = world[0].login("trainer.claes").training_results()
    mine = results[results["user_name"] == "inspector.vermeulen"].tail(5)
    assert mine["correct"].tolist() == [True, False, False, False, False]
    assert mine["question"].tolist()[:2] == ["stolen_plate", "suspect_sightings"]
    dupont = login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    with pytest.raises(AccessDenied, match="not a training case"):
        dupont.check_training("stolen_plate", "x")
    if isinstance(case, ClientCase):   # served: the result itself is not a call
        assert not hasattr(case, "record_training_check") and not hasattr(case, "_record_training_check")
        with pytest.raises(InvalidInput, match="not a method the workbench service serves"):
            case.workspace.connection.call("case", "_record_training_check", (1, "stolen_plate"),
                                           {"answered": True, "correct": True, "answer": "x"},
                                           case={"reference": TRAINING_CASE, "purpose": "training"})
        trail = world[0].login("auditor.maes").audit_events(user_name="inspector.vermeulen")
        assert trail.iloc[-1]["action"] == "service-request" and trail.iloc[-1]["outcome"] == "denied"


def test_administration_through_the_facade(login, world):
    with pytest.raises(AccessDenied) as refused:
        login("inspector.dupont").admin()
    assert "admin" in str(refused.value)
    admin = login("admin.willems").admin()
    same(admin.partners(), world[0].login("admin.willems").admin().partners())
    name = f"inspector.new{len(admin.users())}"
    admin.set_user(name, full_name="Inspectrice Nouvelle", partner="PZ5339", role="investigator")
    users = world[0].login("admin.willems").admin().users()
    assert users.set_index("name").loc[name, "role"] == "investigator"
    trail = world[0].login("auditor.maes").audit_events(user_name="admin.willems")
    assert "admin-user" in set(trail.tail(6)["action"])


def test_workbench_admin_goes_through_the_service_in_a_deployment(world, request):
    from click.testing import CliRunner

    from workbench.cli import cli

    url, tokens = request.getfixturevalue("service")
    home = {"WORKBENCH_HOME": str(world[0].settings.home), "WORKBENCH_SERVICE_URL": url}
    runner = CliRunner()
    listed = runner.invoke(cli, ["admin", "users"], env={**home, "WORKBENCH_API_TOKEN": tokens["admin.willems"]})
    assert listed.exit_code == 0 and "inspector.dupont" in listed.output, listed.output
    refused = runner.invoke(cli, ["admin", "users"], env={**home, "WORKBENCH_API_TOKEN": tokens["inspector.dupont"]})
    assert isinstance(refused.exception, AccessDenied) and "administer" in str(refused.exception)
    posing = runner.invoke(cli, ["admin", "--as", "admin.willems", "users"],
                           env={**home, "WORKBENCH_API_TOKEN": tokens["inspector.dupont"]})
    assert isinstance(posing.exception, AccessDenied) and "token belongs to inspector.dupont" in str(posing.exception)
    bypass = runner.invoke(cli, ["admin", "--as", "admin.willems", "revoke", "1", "--reason", "x"],
                           env={**home, "WORKBENCH_SERVICE_URL": ""})
    assert isinstance(bypass.exception, ConfigurationError) and "served by the workbench service" in \
        str(bypass.exception)
    trail = world[0].login("auditor.maes").audit_events(user_name="inspector.dupont")
    assert ((trail["action"] == "admin-session") & (trail["outcome"] == "denied")).any()


@pytest.mark.parametrize(("notebook", "user", "printed"), [      # 02, 05, 06 too, by hand: they take 20-40 s each
    ("01-open-a-case", "inspector.dupont", "caméras accessibles"),
    ("03-audit-report", "auditor.maes", "geweigerd"),            # refusals of other names are audited in a deployment
    ("04-search-the-footage", "inspector.dupont", "VERIFIED")])
def test_the_notebooks_run_served_unchanged(request, notebook, user, printed, tmp_path, monkeypatch, capsys):
    url, tokens = request.getfixturevalue("service")
    monkeypatch.setenv("WORKBENCH_SERVICE_URL", url)
    monkeypatch.setenv("WORKBENCH_API_TOKEN", tokens[user])
    monkeypatch.chdir(tmp_path)                  # served packages are copied into ./evidence/<case>/
    cells = json.loads((Path(__file__).parents[1] / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{notebook}.ipynb", "exec"), namespace)  # noqa: S102
    assert type(namespace["ws"]).__name__ == "ClientWorkspace"
    assert printed in capsys.readouterr().out


def test_playback_report_and_bookmarks_in_both_modes(case, reference, login, world):
    suspect = world[1].scenario["suspect"]
    hit = reference.frame_search(near=reference.trajectory(suspect), colour="red", kind="vehicle")[0]
    played = case.playback(hit["camera_id"], hit["best_time"], seconds=4)
    expected = reference.playback(hit["camera_id"], hit["best_time"], seconds=4)
    assert type(played).__name__ == "Playback" and played.clips[0].mp4[4:8] == b"ftyp"
    assert [(c.camera_id, c.start, c.end, c.frames) for c in played.clips] == \
        [(c.camera_id, c.start, c.end, c.frames) for c in expected.clips]
    report = case.report(suspect, key_frames=0)
    assert report.pdf.startswith(b"%PDF-") and report.pages >= 2 and report.plate == suspect.replace("-", "")
    mark = case.bookmark("note", note="à revoir avec le parquet")
    assert mark.id in set(case.bookmarks()["id"])
    assert login("inspector.janssens").open_bookmark(mark.id) == mark
    with pytest.raises(AccessDenied, match="not a member"):
        login("inspector.vermeulen").open_bookmark(mark.id)
