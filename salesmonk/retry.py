"""The one backoff rule for calls to other services: wait `first` seconds after the first
failed attempt and twice as long after each further one, never less than the service asked
for (a `Retry-After`).

Used where a call is retried: the Salesforce client sleeps this long between attempts of
one call; a Slack alert delivery is sent again by a later task this long after it failed.
"""

from __future__ import annotations


def backoff_seconds(failures: int, *, first: float, at_least: float | None = None) -> float:
    """The wait after `failures` failed attempts (1 after the first): `first`, then twice,
    four times, eight times `first`…; `at_least` when that is longer."""
    delay = first * 2 ** max(failures - 1, 0)
    return delay if at_least is None else max(delay, at_least)
