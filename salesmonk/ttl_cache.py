"""A small per-process cache whose entries expire a fixed time after they were stored.

For answers that are read on every request and may be a little stale (a site behind its
public key, an IP address's company). Bounded by emptying it when full: under any real
traffic that only costs a few more lookups, and it needs no bookkeeping per read. Not shared
between processes and not locked: two threads storing the same key store the same answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self, *, seconds: float, max_size: int, clock: Callable[[], float] | None = None
    ) -> None:
        """`clock` for tests; by default `time.monotonic`, looked up on each use."""
        self.seconds, self.max_size, self._clock = seconds, max_size, clock
        self._entries: dict[K, tuple[float, V]] = {}

    def _now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def get(self, key: K, default: V | None = None) -> V | None:
        """The value stored for `key` less than `seconds` ago, else `default`."""
        hit = self._entries.get(key)
        if hit is not None and hit[0] > self._now():
            return hit[1]
        return default

    def set(self, key: K, value: V) -> None:
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[key] = (self._now() + self.seconds, value)

    def get_or_set(self, key: K, compute: Callable[[], V]) -> V:
        """The stored value, or `compute()` stored (None too: an answer that nothing was
        found is kept like any other)."""
        hit = self._entries.get(key)
        if hit is not None and hit[0] > self._now():
            return hit[1]
        value = compute()
        self.set(key, value)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
