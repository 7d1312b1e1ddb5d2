"""The training course: variants per seed, every module under nbval in French and Dutch for two seeds,
the checks recorded in the audit trail, and the trainer's view of a class of three trainees.

The training worlds are built with the real clock (their day is yesterday), as
``make test`` builds the sample world, because the notebooks run in kernels
that read the real clock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import workbench
from workbench.config import Settings
from workbench.errors import AccessDenied
from workbench.samples import SAMPLE_CASE, build_sample, ground_truth_dir, trainee_case, trainee_name
from workbench.samples.training import MODULES, TrainingCheck, class_progress, finished_modules, open_training_case
from workbench.samples.world import CLOSED_TRAINING_CASE

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "notebooks" / "training"
SEEDS = (3, 4)
KERNEL = "workbench-audited"


def _kernel_installed() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL not in KernelSpecManager().find_kernel_specs():
        pytest.fail(f"the {KERNEL} kernel is not installed: run `workbench kernel install --sys-prefix` "
                    "(make test does)")


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[int, Path]:
    """One training world per seed, with three trainees; tests work on copies."""
    homes = {}
    for seed in SEEDS:
        home = tmp_path_factory.mktemp(f"training-{seed}")
        build_sample(Settings.from_env({}, home=home), training=True, seed=seed, trainees=3)
        homes[seed] = home
    return homes


def _copy(worlds: dict[int, Path], seed: int, tmp_path: Path) -> Path:
    home = tmp_path / f"home-{seed}"
    shutil.copytree(worlds[seed], home)
    return home


def _truth(home: Path) -> dict:
    return json.loads((ground_truth_dir(Settings.from_env({}, home=home)) / "scenario.json").read_text())


def test_variants_tell_the_same_story_with_other_plates_times_and_suspect(worlds):
    seen = {}
    for seed, home in worlds.items():
        ws = workbench.open(home)
        try:
            me, case = open_training_case(ws, trainee_name(1))
            assert case.reference == trainee_case(1) and case.info.is_training
            check = TrainingCheck(case, user=me)
            truth = _truth(home)
            # the case's answers are the planted story's ground truth
            assert check.expected("stolen_plate") == truth["stolen"]
            assert check.expected("convoy_plate") == truth["convoy"]
            assert check.expected("misread_plate") == truth["misread"]["plate"]
            assert check.expected("misread_camera") == truth["misread"]["camera_id"]
            assert check.expected("cloned_plate") in truth["cloned"]
            assert check.expected("suspect_plausible") is True and check.expected("suspect_sightings") >= 3
            passages = pd.read_csv(ground_truth_dir(ws.settings) / "footage-passages.csv", parse_dates=["time"])
            suspect = passages[passages["role"] == "suspect"]
            assert check.expected("footage_cameras") <= set(suspect["camera_id"])
            at = check.expected("footage_time")
            assert (suspect["time"] - at).abs().min() <= pd.Timedelta(seconds=3)
            assert check.expected("expired_agreement") == "AGR-2024-5340-FED-FORM"
            assert check.expected("refused_cameras") > 0
            assert check.expected("closed_case").startswith("FORMATION-")
            seen[seed] = (truth["suspect"], truth["stolen"], case.trajectory(truth["suspect"]).sightings["time"].min())
        finally:
            ws.store.dispose()
    (suspect_a, stolen_a, start_a), (suspect_b, stolen_b, start_b) = seen.values()
    assert suspect_a != suspect_b and stolen_a != stolen_b and start_a != start_b


def _nbval(home: Path, user: str, paths: list[Path]) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_USER": user}
    env.pop("WORKBENCH_DB_URL", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", KERNEL,
                          "-p", "no:cacheprovider", "-q", *map(str, paths)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_every_module_runs_under_nbval_in_both_languages(worlds, seed, tmp_path):
    """Seed 3: exercises then solutions; seed 4: solutions. The checks land in the audit trail."""
    _kernel_installed()
    home = _copy(worlds, seed, tmp_path)
    for lang, user in (("fr", trainee_name(1)), ("nl", trainee_name(2))):
        exercises = sorted((COURSE / lang).glob("*.ipynb")) if seed == SEEDS[0] else []
        solutions = sorted((COURSE / "solutions" / lang).glob("*.ipynb"))
        assert len(solutions) == len(MODULES) == 5
        _nbval(home, user, exercises + solutions)
    ws = workbench.open(home)
    try:
        trainer = ws.login("trainer.claes")
        progress = class_progress(trainer.training_results())
        activity = trainer.training_activity().set_index(["user_name", "case_reference"])
    finally:
        ws.store.dispose()
    assert set(progress["trainee"]) == {trainee_name(1), trainee_name(2)}
    for k in (1, 2):   # the audited kernel recorded every cell; module 5 was refused the closed case
        assert activity.loc[(trainee_name(k), trainee_case(k)), "cells"] >= 30
        assert activity.loc[(trainee_name(k), trainee_case(k)), "failed_cells"] == 0
        assert activity.loc[(trainee_name(k), CLOSED_TRAINING_CASE), "refusals"] >= 1
    assert progress["finished"].all() and set(progress["module"]) == set(MODULES)
    if seed == SEEDS[0]:   # the blanks of the exercises were recorded as not answered, never as wrong
        assert (progress["wrong_attempts"] == 0).all()


def _simulate_class(ws) -> None:
    """Three trainees: one right everywhere, one wrong then right, one who left blanks and guessed."""
    _, case = open_training_case(ws, trainee_name(1))
    good = TrainingCheck(case, 1)
    for question in MODULES[1]:
        assert good(question, good.expected(question))
    good2 = TrainingCheck(case, 2)
    for question in MODULES[2]:
        assert good2(question, good2.expected(question))
    _, case = open_training_case(ws, trainee_name(2))
    learner = TrainingCheck(case, 1, lang="nl")
    assert not learner("stolen_plate", "1-AAA-111")
    assert learner("stolen_plate", learner.expected("stolen_plate").lower())
    assert not learner("suspect_sightings", learner.expected("suspect_sightings") + 1)
    assert learner("suspect_plausible", True)
    _, case = open_training_case(ws, trainee_name(3))
    guesser = TrainingCheck(case, 1)
    for question in MODULES[1]:
        assert not guesser(question, None)
    assert not guesser("convoy_plate", "9-ZZZ-999")


def test_trainer_view_shows_who_finished_what_and_where_they_went_wrong(worlds, tmp_path, capsys):
    home = _copy(worlds, SEEDS[0], tmp_path)
    ws = workbench.open(home)
    try:
        _simulate_class(ws)
        out = capsys.readouterr().out
        assert "✘ Nummerplaat gesignaleerd als gestolen voertuig: nog niet" in out and "pas encore répondu" in out
        results = ws.login("trainer.claes").training_results()
        progress = class_progress(results).set_index(["trainee", "module"])
        grid = finished_modules(class_progress(results))
        with pytest.raises(AccessDenied, match="does not read training results"):
            ws.login("inspector.dupont").training_results()
        everyone = ws.login("auditor.maes").training_results()
        activity = ws.login("trainer.claes").training_activity().set_index("user_name")
        dupont = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
        with pytest.raises(AccessDenied, match="not a training case"):
            dupont.check_training("stolen_plate", "x")
        chain = ws.login("auditor.maes").verify_audit()
    finally:
        ws.store.dispose()
    t1, t2, t3 = (trainee_name(k) for k in (1, 2, 3))
    assert set(results["case_reference"]) == {trainee_case(k) for k in (1, 2, 3)}
    assert len(everyone) == len(results) and chain.ok
    assert progress.loc[(t1, 1), "finished"] and progress.loc[(t1, 2), "finished"]
    assert progress.loc[(t1, 1), "wrong_attempts"] == 0
    assert not progress.loc[(t2, 1), "finished"] and progress.loc[(t2, 1), "right"] == 2
    assert progress.loc[(t2, 1), "wrong_attempts"] == 2 and "stolen_plate=1-AAA-111" in progress.loc[(t2, 1), "wrong"]
    assert progress.loc[(t2, 1), "open"] == "suspect_sightings, convoy_plate"
    assert progress.loc[(t3, 1), "right"] == 0 and progress.loc[(t3, 1), "wrong"] == "convoy_plate=9-ZZZ-999"
    assert grid.loc[t1, 1] == "✔" and grid.loc[t1, 2] == "✔" and grid.loc[t2, 1] == "2/4"
    assert grid.loc[t3, 1] == "0/4" and grid.loc[t2, 2] == "" and (t3, 2) not in progress.index
    assert activity["checks"].to_dict() == {t1: 7, t2: 4, t3: 5} and (activity["cells"] == 0).all()


@pytest.mark.slow
def test_trainer_view_notebook_reports_the_class(worlds, tmp_path):
    """The notebook the trainer opens, run in the audited kernel as the trainer, shows the three trainees."""
    import nbformat
    from nbclient import NotebookClient

    _kernel_installed()
    home = _copy(worlds, SEEDS[0], tmp_path)
    ws = workbench.open(home)
    try:
        _simulate_class(ws)
    finally:
        ws.store.dispose()
    nb = nbformat.read(COURSE / "trainer-view.ipynb", as_version=4)
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_USER": "trainer.claes"}
    env.pop("WORKBENCH_DB_URL", None)
    NotebookClient(nb, kernel_name=KERNEL, timeout=300, resources={"metadata": {"path": str(ROOT)}}).execute(env=env)
    text = "\n".join(out.get("text", "") + json.dumps(out.get("data", {}), ensure_ascii=False)
                     for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    assert "3 stagiaires" in text
    assert all(trainee_name(k) in text for k in (1, 2, 3))
    assert "stolen_plate=1-AAA-111" in text and "convoy_plate=9-ZZZ-999" in text
    assert "failed_cells" in text


def test_committed_notebooks_are_the_ones_the_course_script_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_course", COURSE / "build_course.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_course"] = module     # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["build_course"]
    files = module.course_files()
    assert len(files) == 4 * len(MODULES)
    stale = [str(p.relative_to(COURSE)) for p, text in files.items()
             if not p.is_file() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"run `python notebooks/training/build_course.py`: {stale}"


def test_training_build_command_refuses_a_bad_seed_in_words(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from workbench.cli import cli

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["sample", "build", "--training", "--seed", "-1"])
    assert result.exit_code == 2 and "--seed" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "workbench.db").exists()
    shown = CliRunner().invoke(cli, ["sample", "build", "--help"]).output
    assert "--training" in shown and "--trainees" in shown
