"""Refused tokens per client address: the first ones audited one by one, a flood answered 429 and counted.

A request whose token the service refuses (missing, malformed, unknown,
expired) costs its address one unit of a bucket that holds ``burst`` units and
refills at ``per_minute``. While the bucket is empty, requests from that
address whose token the service has not accepted recently are answered 429 at
once, without asking the hub, and are not audited one by one: every
``window_s`` seconds one ``service-request`` event per address says how many
were held back. The audit trail thus grows by at most ``burst`` events, plus
``per_minute`` a minute and one summary a window, per address, however hard a
client floods; a user whose token was accepted is never held back.

    >>> throttle = RefusalThrottle(burst=2, per_minute=0, window_s=60, clock=lambda: 0.0)
    >>> throttle.refused("10.0.0.9"); throttle.refused("10.0.0.9")
    >>> throttle.allows("10.0.0.9"), throttle.allows("10.0.0.8")
    (False, True)
    >>> throttle.held_back(force=True)
    [('10.0.0.9', 1)]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MANY = "(other addresses)"   # where refusals go once ``max_addresses`` addresses are being followed


@dataclass
class RefusalThrottle:
    """Token buckets of refused requests per address, and the count of requests held back since the last summary."""

    burst: int = 20
    per_minute: float = 12.0
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    max_addresses: int = 10_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)   # address -> (level, when)
    _held: dict[str, int] = field(default_factory=dict)
    _since: float | None = None

    def _key(self, address: str) -> str:
        if address in self._buckets or len(self._buckets) < self.max_addresses:
            return address
        self._forget_full()
        return address if len(self._buckets) < self.max_addresses else MANY

    def _level(self, address: str) -> float:
        level, when = self._buckets.get(address, (float(self.burst), self.clock()))
        return min(float(self.burst), level + (self.clock() - when) * self.per_minute / 60.0)

    def _forget_full(self) -> None:
        """Stop following addresses whose bucket has refilled (they are as good as new)."""
        for address in [a for a in self._buckets if self._level(a) >= self.burst and a not in self._held]:
            del self._buckets[address]

    def allows(self, address: str) -> bool:
        """Whether a request from ``address`` may have its token checked; if not, it is counted as held back."""
        key = self._key(address)
        if self._level(key) >= 1.0:
            return True
        self._held[key] = self._held.get(key, 0) + 1
        if self._since is None:
            self._since = self.clock()
        return False

    def refused(self, address: str) -> None:
        """A token from ``address`` was refused: it costs one unit."""
        key = self._key(address)
        self._buckets[key] = (max(0.0, self._level(key) - 1.0), self.clock())

    def retry_after(self, address: str) -> int:
        """Seconds until ``address`` may try a token again."""
        missing = 1.0 - self._level(self._key(address))
        return 1 if missing <= 0 or self.per_minute <= 0 else max(1, int(missing * 60.0 / self.per_minute + 0.999))

    def held_back(self, *, force: bool = False) -> list[tuple[str, int]]:
        """The counts to summarise (address, requests held back) once a window has passed (or ``force``)."""
        if not self._held or (not force and self._since is not None
                              and self.clock() - self._since < self.window_s):
            return []
        counts, self._held, self._since = sorted(self._held.items()), {}, None
        return counts
