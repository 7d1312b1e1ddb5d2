"""The README's Python examples run as written against the sample world, and find what they say they find."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import workbench

from conftest import fixed_clock

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    """The ```python fenced blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_the_readme_has_python_examples():
    assert len(python_blocks(README.read_text(encoding="utf-8"))) >= 1


def test_readme_examples_run_on_the_sample_world(sample_copy, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(sample_copy))
    monkeypatch.delenv("WORKBENCH_DB_URL", raising=False)
    # the sample world is of a fixed day: "now" is the day after, as in every test on it
    monkeypatch.setattr(workbench, "open", functools.partial(workbench.open, clock=fixed_clock()))
    namespace: dict = {}
    for block in python_blocks(README.read_text(encoding="utf-8")):
        exec(compile(block, str(README), "exec"), namespace)
    assert len(namespace["reads"]) >= 1 and set(namespace["reads"]["plate"]) == {"6GGM833"}
    assert len(namespace["trip"]) >= 4 and not namespace["trip"].route.empty
    assert len(namespace["windows"]) >= 1
    assert namespace["frame"].camera_id == namespace["segments"]["camera_id"][0]
    assert namespace["hits"].total >= 1
    assert namespace["package"].folder.is_dir() and namespace["package"].clips[0].stat().st_size > 0
