"""Per-key rate limit of the unified API, counted in Django's cache.

A fixed window per key: `cache.add` starts the window's counter, `cache.incr` counts
atomically on Redis and memcached (and within a process on the local-memory cache), so
concurrent requests cannot slip past the limit the way a read-modify-write list would.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache


class RateLimited(Exception):
    """Too many requests with one key; retry after `retry_after` seconds."""

    def __init__(self, *, retry_after: int, limit: int, window: int) -> None:
        super().__init__(f"Rate limit of {limit} requests per {window} s reached.")
        self.retry_after, self.limit, self.window = retry_after, limit, window


def rate_limit_hit(*, key_id: str, now: float | None = None) -> None:
    """Count one request of `key_id`; raise `RateLimited` once the window's budget is spent."""
    limit: int = settings.CRM_API_RATE_LIMIT
    window: int = settings.CRM_API_RATE_WINDOW_SECONDS
    now = time.time() if now is None else now
    start = math.floor(now / window) * window
    bucket = f"crm-api:rate:{key_id}:{start}"
    cache.add(bucket, 0, timeout=window + 1)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window + 1)
        count = 1
    if count > limit:
        retry_after = max(1, math.ceil(start + window - now))
        raise RateLimited(retry_after=retry_after, limit=limit, window=window)
