"""Server-side query cursors behind `nextRecordsUrl`.

The first `query` call evaluates the whole result once; later pages only project their rows.
Cursors expire after 15 idle minutes and at most `MAX_CURSORS` are kept per org (oldest go).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from salesforce_emulator.ids import base62
from salesforce_emulator.soql.types import QueryResult

CURSOR_IDLE_SECONDS = 15 * 60
MAX_CURSORS = 50


@dataclass
class Cursor:
    locator: str
    result: QueryResult
    batch_size: int
    include_deleted: bool
    last_used: float = field(default_factory=time.monotonic)


class CursorStore:
    def __init__(self) -> None:
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._lock = threading.Lock()
        self.idle_seconds = CURSOR_IDLE_SECONDS

    def open(self, result: QueryResult, batch_size: int, include_deleted: bool) -> Cursor:
        locator = "01g" + base62(secrets.randbits(64), 12)
        cursor = Cursor(locator, result, batch_size, include_deleted)
        with self._lock:
            self._expire()
            self._cursors[locator] = cursor
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        return cursor

    def get(self, locator: str) -> Cursor | None:
        with self._lock:
            self._expire()
            cursor = self._cursors.get(locator)
            if cursor is not None:
                cursor.last_used = time.monotonic()
                self._cursors.move_to_end(locator)
            return cursor

    def close(self, locator: str) -> None:
        with self._lock:
            self._cursors.pop(locator, None)

    def clear(self) -> None:
        with self._lock:
            self._cursors.clear()

    def __len__(self) -> int:
        return len(self._cursors)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        for key in [k for k, c in self._cursors.items() if c.last_used < cutoff]:
            del self._cursors[key]
