"""Search the distinct plates: exact, wildcard and OCR-aware fuzzy, fast over millions.

ANPR cameras confuse characters that look alike: O/0/D/Q, I/1/L, B/8, S/5,
Z/2, G/6. The fuzzy distance charges such a confusion 0.2 and any other
substitution, insertion or deletion 1. The index folds each plate to a
*skeleton* (every confusion class to one character) and keeps, for every
skeleton and every skeleton with one character deleted, a 64-bit hash in a
sorted NumPy array: a query looks up its own variants with ``searchsorted``
(no loop over the plates), then ranks the few candidates exactly.

    >>> index = PlateIndex(["1ABC234", "1A8C234", "2XYZ987", "1ABC284"])
    >>> index.fuzzy("1ABC234", max_distance=1)[:3]
    [('1ABC234', 0.0), ('1A8C234', 0.2), ('1ABC284', 1.0)]
    >>> index.wildcard("1AB?2*")
    ['1ABC234', '1ABC284']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from workbench.errors import InvalidInput
from workbench.plates.plate_format import MAX_LENGTH, SEPARATORS, normalise

CONFUSIONS = ["O0DQ", "I1L", "B8", "S5", "Z2", "G6"]
CONFUSION_COST = 0.2
_SKELETON = str.maketrans({ch: group[0] for group in CONFUSIONS for ch in group})
_CLASS = {ch: i for i, group in enumerate(CONFUSIONS) for ch in group}
_WILDCARD = re.compile(r"[A-Z0-9?*]+")
_WIDTH = MAX_LENGTH + 1
_PLATE = f"S{MAX_LENGTH}"   # a known plate: fixed-width ASCII bytes (12), not a Python string (about 60)
_PRIME = np.uint64(1099511628211)
_OFFSET = np.uint64(1469598103934665603)


def skeleton(plate: str) -> str:
    """The plate with each OCR confusion class folded to one character (``1A8C234`` -> ``IABC2S4``)."""
    return plate.translate(_SKELETON)


def ocr_distance(a: str, b: str) -> float:
    """Edit distance where a look-alike substitution costs CONFUSION_COST and other edits cost 1."""
    prev = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        cur = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                sub = 0.0
            elif ca in _CLASS and _CLASS.get(cb) == _CLASS[ca]:
                sub = CONFUSION_COST
            else:
                sub = 1.0
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + sub)
        prev = cur
    return prev[-1]


def _as_matrix(plates: Iterable[str] | np.ndarray) -> np.ndarray:
    """Plates (strings, or an array of ASCII bytes) as a zero-padded (n, _WIDTH) uint8 matrix."""
    arr = np.asarray(plates if isinstance(plates, np.ndarray) else list(plates)).astype(f"S{_WIDTH}")
    return arr.view(np.uint8).reshape(len(arr), _WIDTH) if len(arr) else np.zeros((0, _WIDTH), np.uint8)


_SKELETON_BYTES = np.arange(256, dtype=np.uint8)
_SKELETON_BYTES[list(_SKELETON)] = [ord(ch) for ch in _SKELETON.values()]   # :func:`skeleton` on ASCII codes


def _hash_rows(matrix: np.ndarray) -> np.ndarray:
    """FNV-1a over each row (vectorised over rows), folded to 32 bits: a collision only adds a candidate, which
    the exact distance then drops."""
    h = np.full(matrix.shape[0], _OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in range(matrix.shape[1]):
            h = (h ^ matrix[:, col].astype(np.uint64)) * _PRIME
    return (h ^ (h >> np.uint64(32))).astype(np.uint32)


def _variants(matrix: np.ndarray) -> list[np.ndarray]:
    """The rows themselves, then each row with position p deleted (shifted left, zero-padded)."""
    out = [matrix]
    for p in range(matrix.shape[1] - 1):
        deleted = np.concatenate([matrix[:, :p], matrix[:, p + 1:], np.zeros((len(matrix), 1), np.uint8)], axis=1)
        keep = matrix[:, p] != 0  # deleting the padding is not a variant
        out.append(np.where(keep[:, None], deleted, 0))
    return out


def _plate_array(plates: Iterable[str]) -> np.ndarray:
    """Distinct plates, sorted, as fixed-width ASCII bytes (normalised plates are A-Z and 0-9)."""
    return np.unique(np.array(list(plates), dtype=_PLATE))


class _Part:
    """Sorted distinct plates (ASCII bytes) and the sorted hashes of their skeleton variants (each with its
    plate's rank)."""

    def __init__(self, plates: np.ndarray) -> None:
        self.plates = plates
        skeletons = _SKELETON_BYTES[_as_matrix(plates)]
        hashes, owners = [], []
        for variant in _variants(skeletons):
            valid = variant.any(axis=1)
            hashes.append(_hash_rows(variant[valid]))
            owners.append(np.nonzero(valid)[0].astype(np.int32))
        all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, np.uint32)
        all_owners = np.concatenate(owners) if owners else np.zeros(0, np.int32)
        order = np.argsort(all_hashes, kind="stable")
        self.hashes, self.owners = all_hashes[order], all_owners[order]

    def known(self, plates: np.ndarray) -> np.ndarray:
        """Which of the (sorted) ``plates`` this part holds."""
        at = np.searchsorted(self.plates, plates)
        return (at < len(self.plates)) & (self.plates[np.minimum(at, max(len(self.plates) - 1, 0))] == plates) \
            if len(self.plates) else np.zeros(len(plates), dtype=bool)

    def candidates(self, keys: np.ndarray) -> list[str]:
        lo = np.searchsorted(self.hashes, keys, side="left")
        hi = np.searchsorted(self.hashes, keys, side="right")
        return [self.plates[o].decode() for a, b in zip(lo, hi) for o in set(self.owners[a:b].tolist())]

    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(self.plates.nbytes + self.hashes.nbytes + self.owners.nbytes)


class PlateIndex:
    """An index of distinct normalised plates for exact, wildcard and fuzzy lookup, grown incrementally.

    New plates (:meth:`add`) go into a small second part that is searched
    with the main one and folded into it once it holds a sixteenth as many
    plates: adding a day's new plates costs a sort of that day's, not of the
    tens of millions already known.

    >>> index = PlateIndex(["1ABC234"])
    >>> index.add(["1A8C234", "1ABC234"]), len(index), index.fuzzy("1ABC234")
    (1, 2, [('1ABC234', 0.0), ('1A8C234', 0.2)])
    """

    def __init__(self, plates: Iterable[str]) -> None:
        self._main = _Part(_plate_array(plates))
        self._recent = _Part(_plate_array([]))

    def add(self, plates: Iterable[str]) -> int:
        """Add the plates not known yet; returns how many were new."""
        fresh = _plate_array(plates)
        if not len(fresh):
            return 0
        fresh = fresh[~self._main.known(fresh) & ~self._recent.known(fresh)]
        if len(fresh):
            recent = np.union1d(self._recent.plates, fresh)
            if len(recent) * 16 > max(len(self._main.plates), 16_384):
                self._main = _Part(np.union1d(self._main.plates, recent))
                self._recent = _Part(_plate_array([]))
            else:
                self._recent = _Part(recent)
        return len(fresh)

    @property
    def plates(self) -> np.ndarray:
        """Every known plate, sorted (strings)."""
        return np.union1d(self._main.plates, self._recent.plates).astype(f"U{MAX_LENGTH}")

    def nbytes(self) -> int:
        """Memory the index holds (about 80 bytes a plate: see docs/capacity-plan.md)."""
        return self._main.nbytes() + self._recent.nbytes()

    def __len__(self) -> int:
        return len(self._main.plates) + len(self._recent.plates)

    def exact(self, plate: str) -> list[str]:
        """``[plate]`` if it is known (after normalisation), else ``[]``."""
        p = normalise(plate)
        return [p] if any(part.known(np.array([p], dtype=_PLATE))[0] for part in (self._main, self._recent)) else []

    def fuzzy(self, plate: str, *, max_distance: float = 1.0, limit: int = 50) -> list[tuple[str, float]]:
        """Known plates within ``max_distance`` (OCR-aware), closest first.

        Any number of look-alike confusions plus at most one other edit are
        found; ``max_distance`` then bounds the exact weighted distance.
        """
        query = normalise(plate)
        variants = _variants(_SKELETON_BYTES[_as_matrix([query])])
        keys = np.unique(np.concatenate([_hash_rows(v[v.any(axis=1)]) for v in variants]))
        candidates = set(self._main.candidates(keys)) | set(self._recent.candidates(keys))
        scored = [(p, ocr_distance(query, p)) for p in candidates]
        ranked = sorted((s for s in scored if s[1] <= max_distance), key=lambda s: (s[1], s[0]))
        return ranked[:limit]

    def wildcard(self, pattern: str, *, limit: int = 10_000) -> list[str]:
        """Known plates matching a pattern where ``?`` is one character and ``*`` any run.

        The pattern is normalised like a plate (separators dropped); it is
        matched as text, never passed to SQL.
        """
        if not isinstance(pattern, str):
            raise InvalidInput("a plate pattern is text")
        if len(pattern) > 4 * MAX_LENGTH:
            raise InvalidInput(f"plate pattern of {len(pattern)} characters: a plate has at most {MAX_LENGTH}")
        wild = "".join(ch if ch in "?*" else normalise(ch) for ch in pattern if ch not in SEPARATORS)
        if not _WILDCARD.fullmatch(wild):
            raise InvalidInput(f"plate pattern {pattern!r}: use letters, digits, ? and *")
        prefix = re.match(r"[A-Z0-9]*", wild).group(0)  # type: ignore[union-attr]
        regex = re.compile("".join("." if ch == "?" else ".*" if ch == "*" else ch for ch in wild).encode())
        out: list[str] = []
        for part in (self._main, self._recent):
            lo = np.searchsorted(part.plates, prefix.encode(), side="left")
            hi = np.searchsorted(part.plates, prefix.encode() + b"\x7f", side="left") if prefix else len(part.plates)
            out += [p.decode() for p in part.plates[lo:hi] if regex.fullmatch(p)]
        return sorted(out)[:limit]

    def search(self, query: str, *, fuzzy: bool = False, max_distance: float = 1.0) -> list[tuple[str, float]]:
        """One entry point: a pattern with ? or * is a wildcard, else exact, or fuzzy when asked.

        Returns (plate, distance) pairs, best first.
        """
        if any(ch in query for ch in "?*"):
            return [(p, 0.0) for p in self.wildcard(query)]
        if fuzzy:
            return self.fuzzy(query, max_distance=max_distance)
        return [(p, 0.0) for p in self.exact(query)]
