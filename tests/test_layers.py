"""The layers of docs/architecture.md hold: no module imports from a layer above its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import workbench

PACKAGE = Path(workbench.__file__).parent
ARCHITECTURE = Path(__file__).parents[1] / "docs" / "architecture.md"


def _layer_table() -> dict[str, int]:
    """The layer table of docs/architecture.md: top-level module of the package -> layer number.

    A row reads ``| 3. access | `access/policy.py`, ... | ... |``; each backquoted module of the second column
    counts by its top-level name (``access``); ``workbench.open`` names the package itself (``""``).
    """
    layers: dict[str, int] = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(\d+)\.[^|]*\|([^|]*)\|", line)
        if not match:
            continue
        for name in re.findall(r"`([^`]+)`", match.group(2)):
            top = "" if name == "workbench.open" else name.split("/")[0].removesuffix(".py")
            layers[top] = int(match.group(1))
    return layers


LAYERS = _layer_table()


def _top(module: str) -> str:
    """``workbench.access.session`` -> ``access``; ``workbench`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_module(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "workbench"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "workbench":
            # ``from workbench import errors`` imports the module workbench.errors; a name (``__version__``)
            # comes from the package itself
            found |= {f"workbench.{a.name}" if _is_module(a.name) else "workbench" for a in node.names} \
                if node.module == "workbench" else {node.module}
    return found


def test_every_module_is_in_a_layer_and_imports_only_its_own_or_lower_layers():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        own = relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or relative.stem != "__init__" \
            else ""
        assert own in LAYERS, f"{relative} belongs to no layer of docs/architecture.md"
        for imported in _imports(path):
            if LAYERS[_top(imported)] > LAYERS[own]:
                wrong.append(f"{relative} (layer {LAYERS[own]}) imports {imported} (layer {LAYERS[_top(imported)]})")
    assert not wrong, "\n".join(wrong)
