"""Claims: one worker at a time per tenant for a kind of work (read sync, write drain).

A claim is a timestamp on a row. Taking it is a conditional UPDATE that succeeds only when
the column is empty or older than `CLAIM_TTL` (its holder died); the holder renews it as a
heartbeat, conditionally on the value it last wrote, so a holder that stalled and was taken
over learns it before doing more; releasing clears it only if it is still ours.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model, Q
from django.utils import timezone

CLAIM_TTL = dt.timedelta(minutes=15)


class Claim:
    def __init__(
        self, model: type[Model], pk: Any, field: str, at: dt.datetime, guard: dict[str, Any]
    ) -> None:
        self.model, self.pk, self.field, self.at, self.guard = model, pk, field, at, guard

    @classmethod
    def take(cls, model: type[Model], pk: Any, field: str, **guard: Any) -> Claim | None:
        """The claim, or None when someone else holds it (or `guard`, e.g. a status, fails)."""
        now = timezone.now()
        free = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now - CLAIM_TTL})
        taken = model.objects.filter(free, pk=pk, **guard).update(**{field: now})
        return cls(model, pk, field, now, guard) if taken == 1 else None

    def renew(self) -> bool:
        """Heartbeat; False when the claim was lost (taken over, or the guard no longer holds)."""
        beat = timezone.now()
        renewed = self.model.objects.filter(pk=self.pk, **{self.field: self.at}, **self.guard)
        if renewed.update(**{self.field: beat}) != 1:
            return False
        self.at = beat
        return True

    def release(self, **changes: Any) -> None:
        """Clear the claim (and apply `changes` to the row) if it is still ours."""
        self.model.objects.filter(pk=self.pk, **{self.field: self.at}).update(
            **{self.field: None}, **changes
        )
