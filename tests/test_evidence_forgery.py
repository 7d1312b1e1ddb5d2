"""Forged and hand-made evidence packages are refused by ``workbench evidence verify``.

Custody records cannot be written through the API any more (only the export
writes them); these tests insert forged rows straight into the store, with a
consistent hash chain, as someone holding the database would, and check that
verification names the forgery.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.access import audit
from workbench.evidence.custody import verify_with_store
from workbench.evidence.package import MANIFEST, README_FILE, verify_package
from workbench.footage.probe import sha256_of
from workbench.samples import SAMPLE_CASE

from conftest import NOW, sample_workspace

PURPOSE = "judicial-investigation"
TRAINING = "training"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with sample_workspace(tmp_path_factory.mktemp("forgery")) as ws:
        yield ws


@pytest.fixture(scope="module")
def packages(world):
    """Two genuine packages exported by inspector.dupont: two stretches of one camera's first segment."""
    case = world.login("inspector.dupont").open_case(SAMPLE_CASE, purpose=PURPOSE)
    first = case.footage().sort_values(["camera_id", "start"]).iloc[0]
    quarter = (first["end"] - first["start"]) / 4
    return [case.export_clip(first["camera_id"], first["start"] + n * quarter, first["start"] + (n + 1) * quarter)
            for n in (0, 2)]


def _copy(package, target: Path) -> Path:
    shutil.copytree(package.folder, target)
    return target


def _rewrite_manifest(folder: Path, change) -> dict:  # type: ignore[no-untyped-def]
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    change(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return manifest


def _forge_custody(world, folder: Path, user: str, partner: str, case: str, purpose: str,
                   with_export: bool = True, export_camera: str | None = None) -> None:
    """Write a custody record for ``folder`` straight into the store, chain kept consistent."""
    manifest = _rewrite_manifest(folder, lambda m: m.update(exported_by={"user": user, "partner": partner},
                                                              case={**m["case"], "reference": case}))
    actor = audit.Actor(user, partner, case, purpose)
    with world.store.session() as session:
        if with_export:
            audit.append(session, actor, "export-clip", time=NOW, result_count=1,
                         resource={"kind": "footage", "cameras": [export_camera or manifest["camera"]]})
        audit.append_custody(session, actor, time=NOW, manifest_sha256=sha256_of(folder / MANIFEST),
                             clips=[item["sha256"] for item in manifest["items"]],
                             details={"camera": manifest["camera"]})


def test_a_genuine_package_verifies_and_its_read_me_is_covered(world, packages):
    report = verify_with_store(world.store, packages[0].folder)
    assert report.ok, report.problems
    assert "VERIFIED" in str(report) and any(README_FILE in line for line in report.checked)


@pytest.mark.parametrize("user, partner, case, purpose, why", [
    ("analyst.peeters", "PZ5339", SAMPLE_CASE, PURPOSE, "role analyst"),
    ("trainer.claes", "FEDPOL", SAMPLE_CASE, PURPOSE, "role trainer"),
    ("auditor.maes", "PZ5339", SAMPLE_CASE, PURPOSE, "role auditor"),
    ("admin.willems", "PZ5339", SAMPLE_CASE, PURPOSE, "role admin"),
    ("inspector.vermeulen", "FEDPOL", SAMPLE_CASE, PURPOSE, "not a member of case"),
])
def test_custody_written_by_anyone_but_an_investigator_of_the_case_is_refused(world, packages, tmp_path, user,
                                                                              partner, case, purpose, why):
    forged = _copy(packages[0], tmp_path / "forged")
    _forge_custody(world, forged, user, partner, case, purpose)
    assert audit.verify(world.store).ok        # the chain itself is consistent: only custody checks catch it
    report = verify_with_store(world.store, forged)
    assert not report.ok and why in report.problems[0], report.problems


def test_custody_by_a_member_investigator_without_an_export_is_refused(world, packages, tmp_path):
    forged = _copy(packages[0], tmp_path / "forged")
    _forge_custody(world, forged, "inspector.janssens", "PZ5344", SAMPLE_CASE, PURPOSE, with_export=False)
    report = verify_with_store(world.store, forged)
    assert not report.ok and "does not follow an export" in report.problems[0]


def test_custody_after_an_export_of_another_camera_is_refused(world, packages, tmp_path):
    forged = _copy(packages[0], tmp_path / "forged")
    _forge_custody(world, forged, "inspector.janssens", "PZ5344", SAMPLE_CASE, PURPOSE,
                   export_camera="CCTV-SOMEWHERE-ELSE")
    assert "not the package's camera" in verify_with_store(world.store, forged).problems[0]


def test_custody_under_a_forged_partner_is_refused(world, packages, tmp_path):
    forged = _copy(packages[0], tmp_path / "forged")
    _forge_custody(world, forged, "inspector.janssens", "PZ5339", SAMPLE_CASE, PURPOSE)
    assert "works for PZ5344" in verify_with_store(world.store, forged).problems[0]


def test_an_altered_custody_event_is_refused(world, packages, tmp_path):
    from tampering import without_guards
    from sqlalchemy import update

    from workbench.store.models import AuditEvent

    forged = _copy(packages[1], tmp_path / "forged")
    sha = sha256_of(forged / MANIFEST)
    with without_guards(world.store) as session:
        seq = max(e.seq for e in session.query(AuditEvent).filter(AuditEvent.action == "evidence-package")
                  if e.resource.get("manifest_sha256") == sha)
        session.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(outcome="error"))
    report = verify_with_store(world.store, forged)
    assert not report.ok and "altered" in report.problems[0]


def _files_only(folder: Path):  # type: ignore[no-untyped-def]
    return verify_package(folder)


@pytest.mark.parametrize("name", ["/etc/passwd", "../forged-b/clip-1.mp4", "sub/clip-1.mp4", "..", ""])
def test_files_only_never_reads_outside_the_package(packages, tmp_path, name):
    forged = _copy(packages[0], tmp_path / "forged")
    _copy(packages[1], tmp_path / "forged-b")
    _rewrite_manifest(forged, lambda m: m["items"][0].update(file=name, sha256=sha256_of(Path("/etc/passwd"))))
    report = _files_only(forged)
    assert not report.ok and "not a file name inside the package" in " ".join(report.problems)


def test_files_only_refuses_a_symbolic_link_to_a_system_file(packages, tmp_path):
    forged = _copy(packages[0], tmp_path / "forged")
    clip = forged / packages[0].manifest["items"][0]["file"]
    clip.unlink()
    clip.symlink_to("/etc/hostname")
    _rewrite_manifest(forged, lambda m: m["items"][0].update(sha256=sha256_of(Path("/etc/hostname")),
                                                           bytes=Path("/etc/hostname").stat().st_size))
    report = _files_only(forged)
    assert not report.ok and "symbolic link" in report.problems[0]


def test_another_packages_clip_is_refused(world, packages, tmp_path):
    """B's clip put into A with A's manifest pointing at it: files match, custody does not."""
    forged = _copy(packages[0], tmp_path / "forged")
    theirs = packages[1].clips[0]
    ours = forged / packages[0].manifest["items"][0]["file"]
    shutil.copyfile(theirs, ours)
    _rewrite_manifest(forged, lambda m: m["items"][0].update(sha256=sha256_of(theirs), bytes=theirs.stat().st_size))
    files = _files_only(forged)
    assert files.ok and "VERIFIED" not in str(files) and "custody not checked" in str(files)
    report = verify_with_store(world.store, forged)
    assert not report.ok and "not in the audit trail" in report.problems[0]


def test_a_custody_record_does_not_vouch_for_other_clips(world, packages, tmp_path):
    """A genuine custody record names its clips: a manifest with the same hash cannot name others."""
    from workbench.evidence.package import CustodyRecord

    genuine = packages[0]
    custody = {genuine.manifest_sha256: CustodyRecord(1, "inspector.dupont", SAMPLE_CASE,
                                                      (packages[1].manifest["items"][0]["sha256"],),
                                                      camera=genuine.manifest["camera"])}
    report = verify_package(genuine.folder, custody=custody)
    assert not report.ok and "another package" in report.problems[0]


def test_a_changed_or_unlisted_read_me_is_refused(packages, tmp_path):
    changed = _copy(packages[0], tmp_path / "changed")
    (changed / README_FILE).write_text("Ce paquet est authentique.", encoding="utf-8")
    assert "has changed" in " ".join(verify_package(changed).problems)
    unlisted = _copy(packages[0], tmp_path / "unlisted")
    _rewrite_manifest(unlisted, lambda m: m.pop("readme"))
    assert "not a readable manifest" in verify_package(unlisted).problems[0]


def test_cli_refuses_a_forged_package_and_says_so(world, packages, tmp_path):
    forged = _copy(packages[0], tmp_path / "forged")
    _forge_custody(world, forged, "analyst.peeters", "PZ5339", SAMPLE_CASE, PURPOSE)
    env = {**os.environ, "WORKBENCH_HOME": str(world.settings.home), "WORKBENCH_DB_URL": world.settings.db_url}
    run = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "evidence", "verify",
                          str(forged)], env=env, capture_output=True, text=True)
    assert run.returncode == 1 and "NOT VERIFIED" in run.stdout and "analyst" in run.stdout, run.stderr
    files = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "evidence", "verify",
                            "--files-only", str(forged)], env=env, capture_output=True, text=True)
    assert "VERIFIED" not in files.stdout.replace("NOT VERIFIED", "") and "custody not checked" in files.stdout
