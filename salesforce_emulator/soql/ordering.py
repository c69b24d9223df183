"""Rows of one object kept in ORDER BY order between writes: the emulator's "index".

Incremental syncs ask the same `ORDER BY SystemModstamp, Id` again and again over data that
mostly has not changed. Sorting is the costliest step of a query, and a stable sort commutes
with filtering, so the sorted rows of the whole object are kept per order spec and reused
until the object's revision changes; each query then only filters the presorted list.

Only sources that report a per-object `revision(object_name)` are cached, and only orders
on the object's own fields (a parent's field can change without the object changing).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Row = Mapping[str, Any]
SortKeys = list[tuple[Callable[[Row], Any], bool, bool]]
MAX_ORDERS_PER_SOURCE = 16

_cache: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[Any, ...], tuple[int, list[Row]]]]
_cache = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def presorted(
    source: Any,
    object_name: str,
    spec: tuple[Any, ...],
    rows: Callable[[], Iterable[Row]],
    sort: Callable[[list[Row], SortKeys], None],
    keys: SortKeys,
) -> list[Row] | None:
    """All rows of `object_name` in `spec` order, from cache when nothing was written since;
    None when the source cannot say whether it changed."""
    revision = getattr(source, "revision", None)
    if revision is None:
        return None
    current = revision(object_name)
    cache_key = (object_name, spec)
    with _lock:
        per_source = _cache.setdefault(source, OrderedDict())
        hit = per_source.get(cache_key)
        if hit is not None and hit[0] == current:
            per_source.move_to_end(cache_key)
            return hit[1]
    ordered = list(rows())
    sort(ordered, keys)
    with _lock:
        per_source[cache_key] = (current, ordered)
        per_source.move_to_end(cache_key)
        while len(per_source) > MAX_ORDERS_PER_SOURCE:
            per_source.popitem(last=False)
    return ordered
