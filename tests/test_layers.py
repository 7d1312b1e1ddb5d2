"""The layers of docs/architecture.md hold: no module imports from a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

PACKAGE = Path(workbench.__file__).parent
LAYERS = {  # the table of docs/architecture.md: top-level module of the package -> layer
    "errors": 0, "config": 0, "timeutil": 0, "faults": 0,
    "store": 1,
    "plates": 2, "footage": 2,
    "access": 3,
    "trajectories": 4, "search": 4, "evidence": 4,
    "maps": 5, "widgets": 5, "result_export": 5, "report_pdf": 5,
    "workspace": 6, "case_footage": 6, "cli": 6, "bench": 6, "samples": 6, "kernel": 6, "kernelspec": 6, "service": 6,
    "": 6,  # the package itself (workbench/__init__.py: workbench.open)
}


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
