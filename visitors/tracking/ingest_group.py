"""Group commit for the ingest endpoint: one writer thread per process.

Each request thread hands its validated submission to the process's writer and waits.
The writer takes everything queued while it was busy, writes it in ONE transaction (one
statement per table for the whole group, one COMMIT, one wait for the disk) and only then
wakes the waiting requests: a request is answered after the COMMIT that holds its events,
so an acknowledged event is never lost. Under load the groups grow by themselves (the
requests that arrived during the previous commit); an idle server writes groups of one
without waiting for company.

When a group fails because the database refused something in it (the transaction rolled
back), its requests are written again one by one, each in its own transaction: a bad request
fails alone, and the others are committed. When the connection itself broke, the COMMIT may
have happened unseen, so nothing is written again and the group's requests get the error.
The writer uses its own database connection, so it only serves callers outside a
transaction of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from django.db import connection

log = logging.getLogger(__name__)

T = TypeVar("T")

# A group's statements grow with it; past this many requests the gain per request is small.
MAX_GROUP = 64


class _Ticket(Generic[T]):
    """One queued submission. `done` is a plain lock held from creation until the writer
    releases it once, after the commit: waiting on it is one blocking acquire (an `Event`
    builds a Condition and a fresh waiter lock for every wait)."""

    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Lock()
        self.done.acquire()
        self.result: int | None = None
        self.error: BaseException | None = None

    def settle(self, result: int | Exception) -> None:
        if isinstance(result, Exception):
            self.error = result
        else:
            self.result = result


class GroupWriter(Generic[T]):
    """Writes submissions in groups. `write_group` writes a list in one transaction and
    returns one result per item: a count, or the exception refusing that item alone."""

    def __init__(
        self,
        *,
        write_group: Callable[[Sequence[T]], list[int | Exception]],
        max_group: int = MAX_GROUP,
    ) -> None:
        self._write_group = write_group
        self._max_group = max_group
        self._queue: list[_Ticket[T]] = []
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, item: T) -> int:
        """Queue `item`, wait until the transaction holding it has committed and return its
        result, or raise what writing it raised."""
        ticket = _Ticket(item)
        with self._wakeup:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="ingest-group-writer", daemon=True
                )
                self._thread.start()
            self._queue.append(ticket)
            self._wakeup.notify()
        ticket.done.acquire()  # released by the writer after the group's COMMIT
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    def stop(self) -> None:
        """Finish what is queued, close the writer's connection and end its thread (a new
        submission starts another)."""
        with self._wakeup:
            thread = self._thread
            self._stopping = True
            self._wakeup.notify()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            while True:
                with self._wakeup:
                    while not self._queue and not self._stopping:
                        self._wakeup.wait()
                    if not self._queue:
                        return
                    group = self._queue[: self._max_group]
                    del self._queue[: self._max_group]
                try:
                    self._write(group)
                except Exception:  # already handed to the group's requests; keep serving
                    log.exception("ingest group writer")
        finally:
            connection.close()

    def _write(self, group: list[_Ticket[T]]) -> None:
        try:
            _tidy_connection()
            try:
                results = self._write_group([t.item for t in group])
            except Exception as exc:
                if len(group) == 1 or not _rolled_back():
                    for ticket in group:
                        ticket.error = exc
                    return
                log.warning("ingest group of %d failed (%r); writing one by one", len(group), exc)
                for ticket in group:
                    try:
                        (result,) = self._write_group([ticket.item])
                    except Exception as one_exc:
                        result = one_exc
                    ticket.settle(result)
                return
            for ticket, result in zip(group, results, strict=True):
                ticket.settle(result)
        except BaseException as exc:  # never leave a request waiting
            for ticket in group:
                if ticket.error is None and ticket.result is None:
                    ticket.error = exc
            raise
        finally:
            for ticket in group:
                ticket.done.release()


def _rolled_back() -> bool:
    """Whether the failed group certainly wrote nothing, so its requests may be written
    again: the database refused a statement (or the commit's deferred checks) and the
    connection still works. When the connection broke, the COMMIT may have happened
    without our hearing of it; writing again could count those events twice, so the
    group's requests get the error instead (a 503, nothing acknowledged)."""
    if not connection.errors_occurred:
        return True  # data and integrity errors: the transaction was rolled back
    usable = connection.connection is not None and connection.is_usable()
    if usable:
        connection.errors_occurred = False
    return usable


def _tidy_connection() -> None:
    """What the end of a request does for request threads (drop a broken or expired
    connection), without the per-request health-check round trip: the connection is only
    tested after an error."""
    if connection.connection is None:
        return
    expired = connection.close_at is not None and time.monotonic() >= connection.close_at
    if connection.errors_occurred or expired or not connection.get_autocommit():
        connection.close_if_unusable_or_obsolete()
