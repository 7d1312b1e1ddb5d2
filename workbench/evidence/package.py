"""Evidence packages: the clip(s), a manifest that ties them to their sources, and its verification.

A package is a folder::

    PV-BR-2026-001234_CCTV-PZ5339-101_20261120T081512Z/
        clip-1.mp4          the footage (stream copy, or re-encoded when redacted)
        manifest.json       sources (segment hashes), clip hashes, case, user, purpose, time, tool version
        LISEZMOI.txt        how to verify it (FR / NL / EN)

The SHA-256 of ``manifest.json`` is written to the audit trail as the
chain-of-custody record; :func:`verify_package` recomputes every hash.

    >>> report = verify_package(Path("PV-BR-2026-001234_..."))     # doctest: +SKIP
    >>> report.ok, report.problems                                 # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from workbench.errors import EvidenceError
from workbench.footage.probe import sha256_of

MANIFEST = "manifest.json"
FORMAT = "workbench-evidence/1"
README = """Paquet de preuve / Bewijspakket / Evidence package

FR  Ce dossier contient un extrait vidéo et son manifeste (manifest.json). Chaque fichier y figure avec son
    empreinte SHA-256, ainsi que les segments d'origine. Vérification : workbench evidence verify <dossier>.
    L'empreinte du manifeste est inscrite au journal d'audit (chaîne de custodie).
NL  Deze map bevat een videofragment en zijn manifest (manifest.json) met de SHA-256 van elk bestand en van de
    oorspronkelijke segmenten. Controle: workbench evidence verify <map>. De SHA-256 van het manifest staat in
    het auditlogboek (bewijsketen).
EN  This folder holds a video clip and its manifest (manifest.json), with the SHA-256 of each file and of the
    source segments. Verify with: workbench evidence verify <folder>. The manifest's SHA-256 is recorded in the
    audit trail (chain of custody).
"""


def tool_version() -> str:
    """The installed workbench version, for the manifest."""
    try:
        return version("workbench")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class EvidencePackage:
    """A written package: its folder, manifest and the manifest's SHA-256 (the custody record)."""

    folder: Path
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def clips(self) -> list[Path]:
        """The clip files of the package, in time order."""
        return [self.folder / item["file"] for item in self.manifest["items"]]

    def __repr__(self) -> str:
        return f"<EvidencePackage {self.folder.name}: {len(self.clips)} clip(s), manifest {self.manifest_sha256[:12]}>"


def write_manifest(folder: Path, manifest: dict[str, Any]) -> EvidencePackage:
    """Hash every clip listed in ``manifest['items']``, write the manifest and the read-me; returns the package."""
    for item in manifest["items"]:
        path = folder / item["file"]
        item["sha256"], item["bytes"] = sha256_of(path), path.stat().st_size
    manifest = {"format": FORMAT, **manifest, "tool": {"name": "workbench", "version": tool_version()}}
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    (folder / "LISEZMOI.txt").write_text(README, encoding="utf-8")
    return EvidencePackage(folder, manifest, sha256_of(folder / MANIFEST))


@dataclass
class Verification:
    """The outcome of :func:`verify_package`: what was checked and what failed."""

    folder: Path
    manifest_sha256: str | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = f"{self.folder.name}: {'VERIFIED' if self.ok else 'NOT VERIFIED'}"
        return "\n".join([head] + [f"  ok    {c}" for c in self.checked] + [f"  FAIL  {p}" for p in self.problems])

    def raise_for_problems(self) -> None:
        """Raise :class:`EvidenceError` naming the first problem, if any."""
        if self.problems:
            raise EvidenceError(f"{self.folder.name}: {self.problems[0]}")


def manifest_problem(manifest: Any) -> str | None:
    """What is wrong with a manifest's structure, in words (None when every field has its type).

    >>> manifest_problem({"format": FORMAT, "items": ["clip-1.mp4"]})
    'item 1 is a str, not an object'
    """
    if not isinstance(manifest, dict):
        return f"it is a JSON {type(manifest).__name__}, not an object"
    items = manifest.get("items")
    if not isinstance(items, list):
        return "'items' is missing or not a list"
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            return f"item {n} is a {type(item).__name__ if item is not None else 'null'}, not an object"
        for key, kind in (("file", str), ("sha256", str), ("bytes", int), ("source", dict)):
            if key not in item:
                return f"item {n} has no '{key}'"
            if not isinstance(item[key], kind) or isinstance(item[key], bool):
                return f"item {n}: '{key}' is a {type(item[key]).__name__}, not a {kind.__name__}"
        name = item["file"]
        if not name or name != Path(name).name or name in {".", ".."}:
            return f"item {n}: {name[:60]!r} is not a file name of the package"
        if not isinstance(item["source"].get("sha256"), str):
            return f"item {n}: its source has no SHA-256"
    return None


def verify_package(folder: Path, known_sources: dict[str, int] | None = None,
                   custody: set[str] | None = None) -> Verification:
    """Check a package: manifest readable, every clip present with its hash and size, nothing extra.

    ``known_sources`` (segment SHA-256 -> id, from the catalogue) and
    ``custody`` (manifest hashes recorded in the audit trail) add the checks
    that need the workbench's catalogue; without them only the files are checked.
    """
    folder = Path(folder)
    report = Verification(folder)
    path = folder / MANIFEST
    if not path.is_file():
        report.problems.append(f"no {MANIFEST} in the folder (not an evidence package?)")
        return report
    report.manifest_sha256 = sha256_of(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError):
        report.problems.append(f"{MANIFEST} is not a readable manifest (not JSON, or nested too deeply)")
        return report
    malformed = manifest_problem(manifest)
    if malformed:
        report.problems.append(f"{MANIFEST} is not a valid manifest: {malformed}")
        return report
    items = manifest["items"]
    if manifest.get("format") != FORMAT:
        report.problems.append(f"unknown package format {manifest.get('format')!r}")
    for item in items:
        clip = folder / item["file"]
        if not clip.is_file():
            report.problems.append(f"{item['file']} is missing")
        elif clip.stat().st_size != item["bytes"] or sha256_of(clip) != item["sha256"]:
            report.problems.append(f"{item['file']} has changed since export (SHA-256 differs from the manifest)")
        else:
            report.checked.append(f"{item['file']}: SHA-256 {item['sha256'][:16]}... matches")
        if known_sources is not None:
            source = item["source"]["sha256"]
            if source in known_sources:
                report.checked.append(f"{item['file']}: source segment {known_sources[source]} is in the archive")
            else:
                report.problems.append(f"{item['file']}: its source segment ({source[:16]}...) is not in the "
                                       "archive (purged, or never archived here)")
    listed = {item["file"] for item in items} | {MANIFEST, "LISEZMOI.txt"}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed)
    if extra:
        report.problems.append(f"files not in the manifest: {', '.join(extra)}")
    if custody is not None:
        if report.manifest_sha256 in custody:
            report.checked.append("the manifest's SHA-256 is recorded in the audit trail (chain of custody)")
        else:
            report.problems.append("the manifest's SHA-256 is not in the audit trail: it was changed or the "
                                   "package was not exported by this workbench")
    return report
