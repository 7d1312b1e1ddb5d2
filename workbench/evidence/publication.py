"""An evidence package appears under its name only once its custody record is in the audit trail.

A package is written into a hidden staging folder (``.NAME.staging``), its
files flushed to disk, its custody record committed, and only then renamed to
``NAME``. A crash before the commit leaves a staging folder that is not a
package (nothing lists or verifies it) and that the next export into the same
folder removes; a crash between the commit and the rename leaves one whose
manifest is in the audit trail, which the next export renames into place.

    >>> folder = staging_folder(parent, "PV-BR-2026-001234_CCTV-PZ5339-001_...")   # doctest: +SKIP
    >>> published = publish(package)                                            # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import select

from workbench.access.audit_actions import CUSTODY_ACTION
from workbench.evidence.package import MANIFEST, EvidencePackage
from workbench.footage.probe import sha256_of
from workbench.store import Store
from workbench.store.models import AuditEvent

_SUFFIX = ".staging"


def staging_folder(parent: Path, name: str) -> Path:
    """A new, empty hidden folder in which the package ``name`` is written."""
    folder = parent / f".{name}{_SUFFIX}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def final_name(staged: Path) -> str:
    """The name a staging folder's package gets once published."""
    return staged.name.removeprefix(".").removesuffix(_SUFFIX)


def publish(package: EvidencePackage) -> EvidencePackage:
    """Flush the package's files to disk and rename its staging folder to its final name."""
    for file in package.folder.iterdir():
        with open(file, "rb+") as handle:
            os.fsync(handle.fileno())
    target = package.folder.with_name(final_name(package.folder))
    os.replace(package.folder, target)
    _fsync_folder(target.parent)
    return EvidencePackage(target, package.manifest, package.manifest_sha256)


def settle_staged(store: Store, parent: Path) -> None:
    """Finish or remove the staging folders a crashed export left in ``parent``."""
    staged = [p for p in parent.glob(f".*{_SUFFIX}") if p.is_dir()] if parent.is_dir() else []
    if not staged:
        return
    with store.snapshot() as session:
        recorded = {str(r.get("manifest_sha256")) for r in session.execute(
            select(AuditEvent.resource).where(AuditEvent.action == CUSTODY_ACTION)).scalars() if isinstance(r, dict)}
    for folder in staged:
        manifest = folder / MANIFEST
        if manifest.is_file() and sha256_of(manifest) in recorded and not (parent / final_name(folder)).exists():
            os.replace(folder, parent / final_name(folder))
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
