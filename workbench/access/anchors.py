"""Signed anchors of the audit chain's head, kept outside the database.

Whoever can write the audit table can rebuild a chain that is consistent from
the first event to the last. An anchor pins the chain as it was: the head's
sequence number and hash, and the time, signed with an Ed25519 key and
appended to ``anchors.jsonl`` in a directory kept apart from the database
(``WORKBENCH_ANCHOR_DIR``; owned by the service's system user in a deployment,
or copied to write-once storage). Each anchor also carries the hash of the
anchor before it, and each one is announced in the trail itself by an
``audit-anchor`` event, so:

- events cut off the end with the head moved back: an anchored event is gone;
- a chain rewritten from the start with recomputed hashes: an anchored hash differs;
- an anchor edited: its signature fails; removed from the middle: the next
  anchor's link fails; removed from the end: the trail's ``audit-anchor``
  events name anchors the file no longer has.

    >>> anchor = write_anchor(store, Path("/srv/workbench-anchors"), now=now, actor=actor)   # doctest: +SKIP
    >>> print(verify_anchors(store, Path("/srv/workbench-anchors")))                          # doctest: +SKIP
    anchors intact: 31 anchors, each anchored event still in the chain

The signing key is created on first use with mode 0600 (``anchor-signing.key``)
and its public key written alongside (``anchor-signing.pub``); give the
auditors a copy of the public key and verify with ``--public-key``, so that a
replaced key pair is noticed too.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from workbench.access import audit
from workbench.errors import ConfigurationError
from workbench.store import Store
from workbench.store.models import AuditEvent, AuditHead

ANCHOR_FILE = "anchors.jsonl"
KEY_FILE = "anchor-signing.key"
PUBLIC_KEY_FILE = "anchor-signing.pub"
ANCHOR_ACTION = "audit-anchor"
DAILY = timedelta(days=1)
_SIGNED = ("n", "seq", "head", "time", "prev", "key")


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of an anchor key (SHA-256 of its raw bytes), printed for the auditors."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def signing_key(directory: Path) -> Ed25519PrivateKey:
    """The anchor signing key of ``directory``, created (mode 0600, public key alongside) on first use."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            raise ConfigurationError(f"{path} is readable by others: chmod 600 it (only the service signs anchors)")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    (directory / PUBLIC_KEY_FILE).write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (``anchor-signing.pub``)."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the anchor public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path} is not an Ed25519 public key")
    return key


def anchor_digest(line: str) -> str:
    """The hash the next anchor links to: SHA-256 of this anchor's line as written."""
    return hashlib.sha256(line.strip().encode("utf-8")).hexdigest()


def _lines(directory: Path) -> list[str]:
    path = directory / ANCHOR_FILE
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()] if path.is_file() else []


@dataclass(frozen=True)
class Anchor:
    """One signed anchor: the chain's head (``seq``, ``head`` hash) at ``time``."""

    n: int
    seq: int
    head: str
    time: str
    digest: str


def write_anchor(store: Store, directory: Path, *, now: datetime, actor: audit.Actor) -> Anchor:
    """Sign the chain's current head and append it to the anchor file; the trail records it too.

    The head row stays locked while the anchor is written, so the anchored
    head is the last event at that moment.
    """
    directory = Path(directory)
    _check_apart(store, directory)
    key = signing_key(directory)
    with open(directory / ANCHOR_FILE, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.chmod(directory / ANCHOR_FILE, 0o644)
        lines = _lines(directory)
        with store.session() as session:
            head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
            seq, head_hash = (head.seq, head.hash) if head else (0, audit.GENESIS)
            fields = {"n": len(lines) + 1, "seq": seq, "head": head_hash,
                      "time": now.astimezone(timezone.utc).isoformat(),
                      "prev": anchor_digest(lines[-1]) if lines else audit.GENESIS,
                      "key": key_fingerprint(key.public_key())}
            signature = base64.b64encode(key.sign(_canonical(fields))).decode("ascii")
            line = json.dumps({**fields, "signature": signature}, sort_keys=True, separators=(",", ":"))
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            digest = anchor_digest(line)
            audit.append(session, actor, ANCHOR_ACTION, time=now, result_count=seq,
                         resource={"n": fields["n"], "seq": seq, "anchor": digest, "key": fields["key"]})
    return Anchor(fields["n"], seq, head_hash, fields["time"], digest)


def _check_apart(store: Store, directory: Path) -> None:
    """Refuse an anchor directory beside or below an SQLite catalogue: anchors must outlive the database."""
    database = store.engine.url.database if store.dialect == "sqlite" else None
    if database:
        beside = Path(database).resolve().parent
        if directory.resolve() == beside or beside in directory.resolve().parents:
            raise ConfigurationError(f"the anchor directory {directory} lies with the database ({beside}): keep "
                                     "it apart (another volume, owned by the service)")


def anchor_if_due(store: Store, directory: Path | None, *, now: datetime, actor: audit.Actor,
                  every: timedelta = DAILY) -> Anchor | None:
    """Write an anchor when the last one is older than ``every`` (at least daily); None when not due."""
    if directory is None:
        return None
    lines = _lines(Path(directory))
    if lines:
        try:
            last = datetime.fromisoformat(json.loads(lines[-1])["time"])
        except (ValueError, KeyError, TypeError):
            last = None   # an unreadable last anchor: write a new one, verify will name the bad line
        if last is not None and now - last < every:
            return None
    return write_anchor(store, Path(directory), now=now, actor=actor)


@dataclass
class AnchorCheck:
    """Outcome of :func:`verify_anchors`: every problem found, in words."""

    anchors: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"anchors intact: {self.anchors} anchors, each anchored event still in the chain"
        return "anchors do NOT match the trail:\n" + "\n".join(f"  - {p}" for p in self.problems)


def verify_anchors(store: Store, directory: Path, *, public_key: Path | None = None) -> AnchorCheck:
    """Check every anchor's signature and link, and that the chain still holds each anchored event.

    ``public_key`` defaults to the one beside the anchors; pass the auditors'
    own copy to notice a replaced key pair.
    """
    directory = Path(directory)
    check = AnchorCheck()
    key_path = Path(public_key) if public_key else directory / PUBLIC_KEY_FILE
    if not key_path.is_file():
        check.problems.append(f"no anchor public key at {key_path}")
        return check
    key = load_public_key(key_path)
    anchors = _read_signed(_lines(directory), key, check)
    check.anchors = len(anchors)
    _check_against_chain(store, anchors, check)
    return check


def _read_signed(lines: list[str], key: Ed25519PublicKey, check: AnchorCheck) -> dict[int, dict[str, Any]]:
    """The anchors whose signature verifies, by number; problems for the others and for broken links."""
    good: dict[int, dict[str, Any]] = {}
    prev, last_seq = audit.GENESIS, 0
    for number, line in enumerate(lines, 1):
        try:
            anchor = json.loads(line)
            key.verify(base64.b64decode(anchor["signature"]), _canonical({k: anchor[k] for k in _SIGNED}))
        except (ValueError, KeyError, TypeError, InvalidSignature):
            check.problems.append(f"anchor line {number}: the signature does not verify (edited, or signed "
                                  "with another key)")
            prev = anchor_digest(line)
            continue
        if anchor["n"] != number or anchor["prev"] != prev:
            check.problems.append(f"anchor {anchor['n']} (line {number}): it does not follow the anchor before "
                                  "it: anchors were removed or reordered")
        if anchor["seq"] < last_seq:
            check.problems.append(f"anchor {anchor['n']}: the head went back from event {last_seq} to "
                                  f"{anchor['seq']}")
        good[number] = {**anchor, "digest": anchor_digest(line)}
        prev, last_seq = anchor_digest(line), max(last_seq, anchor["seq"])
    return good


def _check_against_chain(store: Store, anchors: dict[int, dict[str, Any]], check: AnchorCheck) -> None:
    seqs = sorted({a["seq"] for a in anchors.values() if a["seq"] > 0})
    with store.session() as session:
        hashes: dict[int, str] = {0: audit.GENESIS}
        for start in range(0, len(seqs), 500):
            hashes.update(session.execute(select(AuditEvent.seq, AuditEvent.hash)
                                          .where(AuditEvent.seq.in_(seqs[start:start + 500]))).all())
        announced = session.execute(select(AuditEvent.seq, AuditEvent.resource)
                                    .where(AuditEvent.action == ANCHOR_ACTION)).all()
    for anchor in anchors.values():
        found = hashes.get(anchor["seq"])
        if found is None:
            check.problems.append(f"anchor {anchor['n']} ({anchor['time']}) names event {anchor['seq']}, which is "
                                  "no longer in the trail: events were removed from the end")
        elif found != anchor["head"]:
            check.problems.append(f"anchor {anchor['n']} ({anchor['time']}): event {anchor['seq']} no longer has "
                                  "the anchored hash: the chain was rewritten")
    for seq, resource in announced:
        n = resource.get("n") if isinstance(resource, dict) else None
        if not isinstance(n, int) or n not in anchors or anchors[n]["digest"] != resource.get("anchor"):
            check.problems.append(f"event {seq} records anchor {n}, which the anchor file does not hold as "
                                  "written: the anchor file was truncated or replaced")
