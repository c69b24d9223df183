"""Per-org clock: real UTC time plus an offset that the control API can move.

Salesforce timestamps have second precision, so `now()` drops microseconds; several writes in
one second share a timestamp, which exposes `>` versus `>=` watermark bugs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

WIRE_DATETIME = "%Y-%m-%dT%H:%M:%S.000+0000"


class Clock:
    def __init__(self, offset_seconds: float = 0.0, frozen_at: datetime | None = None) -> None:
        self.offset_seconds = offset_seconds
        self.frozen_at = frozen_at

    def now(self) -> datetime:
        if self.frozen_at is not None:
            return self.frozen_at.replace(microsecond=0)
        real = datetime.now(UTC) + timedelta(seconds=self.offset_seconds)
        return real.replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        if self.frozen_at is not None:
            self.frozen_at += timedelta(seconds=seconds)
        else:
            self.offset_seconds += seconds

    def set(self, when: datetime) -> None:
        """Jump to `when` and keep ticking from there."""
        self.offset_seconds = (when - datetime.now(UTC)).total_seconds()
        if self.frozen_at is not None:
            self.frozen_at = when

    def freeze(self, frozen: bool) -> None:
        """Stop the clock, or let it tick again from where it stood (advances kept)."""
        if frozen:
            self.frozen_at = self.now()
        elif self.frozen_at is not None:
            stood, self.frozen_at = self.frozen_at, None
            self.set(stood)

    def stamp(self) -> str:
        return fmt_datetime(self.now())

    def today(self) -> str:
        return self.now().date().isoformat()

    def to_json(self) -> dict:
        return {
            "offset_seconds": self.offset_seconds,
            "frozen_at": fmt_datetime(self.frozen_at) if self.frozen_at else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> Clock:
        frozen = data.get("frozen_at")
        return cls(data.get("offset_seconds", 0.0), parse_datetime(frozen) if frozen else None)


def fmt_datetime(dt: datetime) -> str:
    """The wire format: `2024-05-20T20:49:32.000+0000`, always UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime(WIRE_DATETIME)


def parse_datetime(text: str, *, assume_utc: bool = True) -> datetime:
    """Parse ISO-8601 as clients send it (`Z`, `+00:00`, `+0000`, with or without millis)."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    if len(t) >= 5 and t[-5] in "+-" and t[-4:].isdigit() and ":" not in t[-5:]:
        t = t[:-2] + ":" + t[-2:]
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        if not assume_utc:
            raise ValueError("naive datetime")
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_date(text: str) -> date:
    return date.fromisoformat(text)
