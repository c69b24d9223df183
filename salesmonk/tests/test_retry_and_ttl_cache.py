"""The shared backoff rule and the per-process TTL cache."""

from __future__ import annotations

from salesmonk.retry import backoff_seconds
from salesmonk.ttl_cache import TtlCache


def test_backoff_doubles_from_the_first_wait() -> None:
    assert [backoff_seconds(n, first=60) for n in (0, 1, 2, 3, 4)] == [60, 60, 120, 240, 480]
    assert backoff_seconds(3, first=0.5) == 2.0


def test_backoff_waits_at_least_what_the_service_asked() -> None:
    assert backoff_seconds(1, first=60, at_least=300.0) == 300.0
    assert backoff_seconds(4, first=60, at_least=300.0) == 480
    assert backoff_seconds(1, first=60, at_least=None) == 60


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_seconds() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(seconds=30, max_size=10, clock=clock)
    cache.set("a", "site")
    clock.now += 29.9
    assert cache.get("a") == "site"
    clock.now += 0.1
    assert cache.get("a") is None
    assert cache.get("a", "default") == "default"


def test_get_or_set_keeps_none_answers() -> None:
    clock, calls = Clock(), []
    cache: TtlCache[str, str | None] = TtlCache(seconds=300, max_size=10, clock=clock)

    def lookup() -> str | None:
        calls.append(1)
        return None

    assert cache.get_or_set("10.0.0.1", lookup) is None
    assert cache.get_or_set("10.0.0.1", lookup) is None
    assert len(calls) == 1
    clock.now += 300
    assert cache.get_or_set("10.0.0.1", lookup) is None
    assert len(calls) == 2


def test_a_full_cache_is_emptied_before_the_next_entry() -> None:
    cache: TtlCache[int, int] = TtlCache(seconds=60, max_size=3)
    for n in range(3):
        cache.set(n, n)
    assert len(cache) == 3
    cache.set(3, 3)
    assert len(cache) == 1
    assert cache.get(0) is None
    assert cache.get(3) == 3
    cache.clear()
    assert len(cache) == 0
