"""The docstring examples of the package run (pytest's doctest runner, module by module).

Examples that need data use the sample world of the test session through these
names, as a notebook would have them: ``ws`` (the workspace, clock fixed the
day after the sample day), ``me`` (inspector.dupont), ``case`` (the sample
case), ``trip`` (its suspect's trajectory), ``auditor`` (auditor.maes),
``settings``, ``store``, ``now`` and ``clip`` (a real clip of tests/data).
Modules whose examples need none of them run without building the world.
"""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

import workbench
from workbench.samples import SAMPLE_CASE

from conftest import NOW, TEST_DATA, sample_workspace

PACKAGE = Path(workbench.__file__).parent
WORLD_NAMES = frozenset({"ws", "me", "case", "trip", "auditor", "settings", "store", "now", "clip"})
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _doctests(name: str) -> list[doctest.DocTest]:
    return doctest.DocTestFinder(exclude_empty=True).find(importlib.import_module(name))


def _free_names(test: doctest.DocTest) -> set[str]:
    """Names the examples that run read without defining them."""
    loaded, stored = set(), set()
    for example in (e for e in test.examples if not e.options.get(doctest.SKIP)):
        for node in ast.walk(ast.parse(example.source)):
            if isinstance(node, ast.Name):
                (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
    return loaded - stored


def _modules() -> tuple[list[str], list[str]]:
    """Modules with examples: those that run alone, those that need the sample world."""
    alone, world = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" not in path.read_text(encoding="utf-8"):
            continue
        name = _module_name(path)
        needs = set().union(*(_free_names(t) for t in _doctests(name))) & WORLD_NAMES
        (world if needs else alone).append(name)
    return alone, world


ALONE, ON_WORLD = _modules()


def _run(name: str, namespace: dict) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in _doctests(name):
        test.globs.update(namespace)
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


@pytest.mark.parametrize("name", ALONE)
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run(name, {})


@pytest.fixture(scope="module")
def world_names(sample_copy):
    with sample_workspace(sample_copy) as ws:
        me = ws.login("inspector.dupont")
        case = me.open_case(SAMPLE_CASE, purpose="judicial-investigation")
        yield {"ws": ws, "me": me, "case": case, "trip": case.trajectory("6-GGM-833"),
               "auditor": ws.login("auditor.maes"), "settings": ws.settings, "store": ws.store, "now": NOW,
               "clip": TEST_DATA / "footage" / "bgs_video02.avi"}


@pytest.mark.parametrize("name", ON_WORLD)
def test_examples_run_on_the_sample_world(name, world_names, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run(name, world_names)
