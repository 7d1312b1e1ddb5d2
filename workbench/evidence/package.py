"""Evidence packages: the clip(s), a manifest that ties them to their sources, and its verification.

A package is a folder::

    PV-BR-2026-001234_CCTV-PZ5339-101_20261120T081512Z/
        clip-1.mp4          the footage (stream copy, or re-encoded when redacted)
        manifest.json       sources (segment hashes), clip and read-me hashes, case, user, purpose, time, tool version
        LISEZMOI.txt        how to verify it (FR / NL / EN)

The SHA-256 of ``manifest.json`` and of each clip is written to the audit
trail as the chain-of-custody record, by the export itself; :func:`verify_package`
recomputes every hash. It reads only plain files inside the package: a
manifest naming an absolute path, ``..``, a sub-folder or a symbolic link is
refused, never followed.

    >>> report = verify_package(Path("PV-BR-2026-001234_..."))     # doctest: +SKIP
    >>> report.ok, report.problems                                 # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from workbench.errors import EvidenceError, InvalidInput, NotFound
from workbench.footage.probe import sha256_of

MANIFEST = "manifest.json"
README_FILE = "LISEZMOI.txt"
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
    """Hash every clip listed in ``manifest['items']`` and the read-me, write both; returns the package."""
    for item in manifest["items"]:
        path = folder / item["file"]
        item["sha256"], item["bytes"] = sha256_of(path), path.stat().st_size
    (folder / README_FILE).write_text(README, encoding="utf-8")
    readme = {"file": README_FILE, "sha256": sha256_of(folder / README_FILE)}
    tool = {"name": "workbench", "version": tool_version()}
    manifest = {"format": FORMAT, **manifest, "readme": readme, "tool": tool}
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    return EvidencePackage(folder, manifest, sha256_of(folder / MANIFEST))


@dataclass(frozen=True)
class PackageFiles:
    """A copy of a package's folder as bytes: what a client sends the workbench service to verify there.

    ``files`` holds the regular files by name; ``others`` names what the folder
    holds besides them (sub-folders, symbolic links), so that the service sees
    the folder as the client has it, without anything being followed.

    >>> copy = PackageFiles.read(Path("PV-BR-2026-001234_..."))       # doctest: +SKIP
    >>> copy.write(Path(tempfile.mkdtemp())).name                      # doctest: +SKIP
    'PV-BR-2026-001234_...'
    """

    name: str
    files: dict[str, bytes]
    others: dict[str, str] = field(default_factory=dict)   # name -> "folder" or "link"

    @classmethod
    def read(cls, folder: Path | str) -> PackageFiles:
        """The package folder's files (read, never followed out of the folder)."""
        folder = package_folder(folder)
        files: dict[str, bytes] = {}
        others: dict[str, str] = {}
        for path in sorted(folder.iterdir()):
            if path.is_symlink():
                others[path.name] = "link"
            elif path.is_file():
                files[path.name] = path.read_bytes()
            else:
                others[path.name] = "folder"
        return cls(folder.name, files, others)

    def write(self, parent: Path) -> Path:
        """Write the copy into ``parent``/<name> (links as links to nothing, sub-folders empty); its folder."""
        names = [self.name, *self.files, *self.others]
        if not all(isinstance(n, str) and _plain_name(n) for n in names) \
                or not all(isinstance(d, bytes) for d in self.files.values()) \
                or not set(self.others.values()) <= {"link", "folder"} or set(self.files) & set(self.others):
            raise InvalidInput("a package copy holds plain file names (no path, '..' or control character) and "
                               "the bytes of each file")
        folder = Path(parent) / self.name
        folder.mkdir()
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        for name, kind in self.others.items():
            if kind == "link":
                (folder / name).symlink_to(folder / f".{name}.nowhere")
            else:
                (folder / name).mkdir()
        return folder


def package_folder(folder: Path | str) -> Path:
    """``folder`` if it is a folder (NotFound in words otherwise)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"{folder} is not a folder: give the evidence package's folder")
    return folder


def _plain_name(name: str) -> bool:
    return 0 < len(name) <= 255 and name not in {".", ".."} and not any(c in name for c in "/\\\x00") \
        and name.isprintable()


@dataclass(frozen=True)
class CustodyRecord:
    """A custody record of the audit trail, as :func:`verify_package` weighs it.

    ``problem`` says why the record does not vouch for a package (None when it
    does: written by the export of an investigator member of the case).
    """

    seq: int
    user_name: str | None
    case_reference: str | None
    clips: tuple[str, ...]
    problem: str | None = None
    camera: str | None = None


@dataclass
class Verification:
    """The outcome of :func:`verify_package`: what was checked and what failed."""

    folder: Path
    manifest_sha256: str | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    custody_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        verdict = "NOT VERIFIED" if self.problems else "VERIFIED" if self.custody_checked else \
            "FILES MATCH THE MANIFEST (custody not checked: this proves nothing about who made the package)"
        head = f"{self.folder.name}: {verdict}"
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
        if not isinstance(item["source"].get("sha256"), str):
            return f"item {n}: its source has no SHA-256"
    readme = manifest.get("readme")
    if not isinstance(readme, dict) or not isinstance(readme.get("file"), str) \
            or not isinstance(readme.get("sha256"), str):
        return "'readme' is missing or lacks its file name and SHA-256"
    return None


def _plain_file(folder: Path, name: object) -> tuple[Path | None, str | None]:
    """The file ``name`` inside ``folder`` if it is a plain name of a regular file there; else why not.

    Never follows a path out of the package: absolute paths, ``..``, sub-folders
    and symbolic links are refused without being opened.
    """
    if not isinstance(name, str) or not name or name in {".", ".."} or "/" in name or "\\" in name \
            or "\x00" in name or Path(name).is_absolute():
        return None, f"the manifest names {str(name)[:80]!r}, which is not a file name inside the package"
    path = folder / name
    if path.is_symlink():
        return None, f"{name} is a symbolic link: a package holds its own files only"
    if not path.is_file():
        return None, f"{name} is missing"
    return path, None


def verify_package(folder: Path, known_sources: dict[str, int] | None = None,
                   custody: dict[str, CustodyRecord] | None = None) -> Verification:
    """Check a package: manifest readable, every clip and the read-me present with their hash, nothing extra.

    ``known_sources`` (segment SHA-256 -> id, from the catalogue) and
    ``custody`` (custody records of the audit trail by manifest SHA-256) add
    the checks that need the workbench's catalogue; without them only the
    files are checked, which proves nothing about who made the package.
    """
    folder = Path(folder)
    report = Verification(folder, custody_checked=custody is not None)
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file():
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
        report.problems.append(f"{MANIFEST} is not a readable manifest: {malformed}")
        return report
    items = manifest["items"]
    files = [item["file"] for item in items] + [manifest["readme"]["file"]]
    if manifest.get("format") != FORMAT:
        report.problems.append(f"unknown package format {manifest.get('format')!r}")
    for entry in items + [manifest["readme"]]:
        _check_file(folder, entry, report)
    if known_sources is not None:
        for item in items:
            source = str((item.get("source") or {}).get("sha256"))
            if source in known_sources:
                report.checked.append(f"{item['file']}: source segment {known_sources[source]} is in the archive")
            else:
                report.problems.append(f"{item['file']}: its source segment ({source[:16]}...) is not in the "
                                       "archive (purged, or never archived here)")
    listed = set(map(str, files)) | {MANIFEST}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed)
    if extra:
        report.problems.append(f"files not in the manifest: {', '.join(extra)}")
    if custody is not None:
        _check_custody(manifest, report, custody)
    return report


def _check_file(folder: Path, entry: dict[str, Any], report: Verification) -> None:
    clip, problem = _plain_file(folder, entry.get("file"))
    if clip is None:
        report.problems.append(str(problem))
    elif ("bytes" in entry and clip.stat().st_size != entry["bytes"]) or sha256_of(clip) != entry.get("sha256"):
        report.problems.append(f"{entry['file']} has changed since export (SHA-256 differs from the manifest)")
    else:
        report.checked.append(f"{entry['file']}: SHA-256 {str(entry['sha256'])[:16]}... matches")


def _check_custody(manifest: dict[str, Any], report: Verification, custody: dict[str, CustodyRecord]) -> None:
    """The manifest's hash must have a custody record that vouches for it, naming these very clips."""
    record = custody.get(str(report.manifest_sha256))
    if record is None:
        report.problems.append("the manifest's SHA-256 is not in the audit trail: it was changed or the "
                               "package was not exported by this workbench")
        return
    if record.problem:
        report.problems.append(f"the custody record (audit event {record.seq}) does not vouch for this "
                               f"package: {record.problem}")
        return
    exported_by = (manifest.get("exported_by") or {}).get("user")
    case = (manifest.get("case") or {}).get("reference")
    if (exported_by, case, manifest.get("camera")) != (record.user_name, record.case_reference, record.camera):
        report.problems.append(f"the manifest names {exported_by} in case {case} for {manifest.get('camera')}, "
                               f"the custody record {record.user_name} in case {record.case_reference} for "
                               f"{record.camera}")
    elif tuple(item["sha256"] for item in manifest["items"]) != record.clips:
        report.problems.append("the clips are not the ones the custody record names (clip from another package?)")
    else:
        report.checked.append(f"the manifest's SHA-256 and its clips are recorded in the audit trail by "
                              f"{record.user_name}'s export (event {record.seq}, chain of custody)")
