"""Claims: one worker at a time per tenant for a kind of work (read sync, write drain).

A claim is a timestamp on a row. Taking it is a conditional UPDATE that succeeds only when
the column is empty or older than the claim's `ttl` (its holder died); the holder renews it
as a heartbeat, conditionally on the value it last wrote, so a holder that stalled and was
taken over learns it before doing more; releasing clears it only if it is still ours.

Every time is the database's clock (`db_now`), never the app server's: workers on several
machines agree on when a claim expired even when their clocks drift.

A short claim needs a heartbeat that does not wait for the holder's Salesforce calls (a
read may take two minutes): `Heartbeat` renews it from a thread while the work runs, so a
killed worker's claim expires within `ttl` and a live one never does.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from types import TracebackType
from typing import Any

from django.db import connection, connections
from django.db.models import Model, Q
from django.utils import timezone

log = logging.getLogger(__name__)

CLAIM_TTL = dt.timedelta(minutes=15)


def db_now() -> dt.datetime:
    """The database server's time. SQLite runs on this machine, so its clock is ours."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        now: dt.datetime = cursor.fetchone()[0]
    return now


class Claim:
    def __init__(
        self, model: type[Model], pk: Any, field: str, at: dt.datetime, guard: dict[str, Any]
    ) -> None:
        self.model, self.pk, self.field, self.at, self.guard = model, pk, field, at, guard
        self.lost = threading.Event()  # set by a heartbeat that found the claim gone
        self.beating = False
        self._lock = threading.Lock()

    @classmethod
    def take(
        cls, model: type[Model], pk: Any, field: str, *, ttl: dt.timedelta = CLAIM_TTL, **guard: Any
    ) -> Claim | None:
        """The claim, or None when someone else holds it (or `guard`, e.g. a status, fails)."""
        now = db_now()
        free = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now - ttl})
        taken = model.objects.filter(free, pk=pk, **guard).update(**{field: now})
        return cls(model, pk, field, now, guard) if taken == 1 else None

    def renew(self) -> bool:
        """Heartbeat; False when the claim was lost (taken over, or the guard no longer
        holds). While a `Heartbeat` thread renews it, this only reports what it found."""
        if self.beating:
            return not self.lost.is_set()
        return self._renew()

    def _renew(self) -> bool:
        with self._lock:
            if self.lost.is_set():
                return False
            beat = db_now()
            mine = self.model.objects.filter(pk=self.pk, **{self.field: self.at}, **self.guard)
            if mine.update(**{self.field: beat}) != 1:
                self.lost.set()
                return False
            self.at = beat
            return True

    def release(self, **changes: Any) -> None:
        """Clear the claim (and apply `changes` to the row) if it is still ours."""
        with self._lock:
            self.model.objects.filter(pk=self.pk, **{self.field: self.at}).update(
                **{self.field: None}, **changes
            )


class Heartbeat:
    """Renew `claim` every `every` seconds from a thread while the `with` block runs.

    Inside a caller's transaction (a test's, or an atomic block) a second connection could
    not see the claim or would wait on its lock, so there the holder renews at its own
    checkpoints as before (`Claim.renew`)."""

    def __init__(self, claim: Claim, *, every: float) -> None:
        self.claim, self.every = claim, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if not connection.in_atomic_block:
            self.claim.beating = True
            self._thread = threading.Thread(target=self._beat, name="claim-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.claim.beating = False

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    if not self.claim._renew():
                        return
                except Exception:  # a database hiccup: try again at the next beat
                    log.warning("Could not renew a claim", exc_info=True)
        finally:
            connections.close_all()
