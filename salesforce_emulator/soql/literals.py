"""Literal values: string escapes, LIKE patterns, datetimes and relative date ranges.

Stored rows hold dates as `YYYY-MM-DD` and datetimes as `YYYY-MM-DDTHH:MM:SS.mmm+0000`
(UTC), so every literal is converted to that exact shape once, and the compiled predicate
then compares plain strings.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

# Escapes valid in every quoted string (SOQL "Quoted String Escape Sequences").
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
# Escapes only meaningful inside a LIKE pattern.
_LIKE_ESCAPES = frozenset("%_")


class LiteralError(ValueError):
    """A literal that parses but is not valid SOQL; the parser adds the position."""


def _scan(body: str, like: bool) -> list[tuple[str, bool]]:
    """Split a string literal body into (character, escaped) pairs."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch != "\\":
            out.append((ch, False))
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < n else ""
        if nxt in _ESCAPES:
            out.append((_ESCAPES[nxt], True))
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append((chr(int(body[i + 2 : i + 6], 16)), True))
            i += 6
        elif like and nxt in _LIKE_ESCAPES:
            out.append((nxt, True))
            i += 2
        else:
            raise LiteralError(
                f"Invalid string literal '{body}'. Illegal character sequence '\\{nxt}' "
                "in string literal."
            )
    return out


def unescape(raw: str) -> str:
    """The value of a quoted literal `'…'` outside LIKE."""
    return "".join(ch for ch, _ in _scan(raw[1:-1], like=False))


def like_regex(raw: str) -> re.Pattern[str]:
    """A case-insensitive regex for a LIKE pattern: `%` any run, `_` one char, `\\%` literal."""
    parts = []
    for ch, escaped in _scan(raw[1:-1], like=True):
        if not escaped and ch == "%":
            parts.append(".*")
        elif not escaped and ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def check_date(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise LiteralError(f"invalid date: {text}") from None
    return text


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(?:Z|([+-])(\d{2}):(\d{2}))"
)


def datetime_to_utc(text: str) -> str:
    """`2024-01-31T10:00:00+01:00` → `2024-01-31T09:00:00.000+0000`, the stored form."""
    m = _DATETIME.fullmatch(text)
    if m is None:
        raise LiteralError(f"invalid datetime: {text}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    millis = int((m.group(7) or "0").ljust(3, "0"))
    offset = timedelta(0)
    if m.group(8):
        offset = timedelta(hours=int(m.group(9)), minutes=int(m.group(10)))
        if m.group(8) == "-":
            offset = -offset
    try:
        local = datetime(year, month, day, hour, minute, second, millis * 1000)
    except ValueError:
        raise LiteralError(f"invalid datetime: {text}") from None
    return format_datetime(local - offset)


def format_datetime(value: datetime) -> str:
    """A naive-UTC or aware datetime in the stored wire form."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


# Relative date literals. Weeks start on Sunday (the en_US locale); ranges are computed in
# UTC because the emulator has no per-user time zone.
FIXED_RANGES = frozenset(
    {
        "YESTERDAY", "TODAY", "TOMORROW",
        "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK",
        "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH",
        "LAST_90_DAYS", "NEXT_90_DAYS",
        "LAST_QUARTER", "THIS_QUARTER", "NEXT_QUARTER",
        "LAST_YEAR", "THIS_YEAR", "NEXT_YEAR",
    }
)  # fmt: skip
N_RANGES = frozenset(
    {
        "LAST_N_DAYS", "NEXT_N_DAYS", "LAST_N_WEEKS", "NEXT_N_WEEKS",
        "LAST_N_MONTHS", "NEXT_N_MONTHS", "LAST_N_QUARTERS", "NEXT_N_QUARTERS",
        "LAST_N_YEARS", "NEXT_N_YEARS",
    }
)  # fmt: skip


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


# Long on purpose: one branch per SOQL relative date literal, as Salesforce lists them.
def date_range(name: str, n: int | None, now: datetime) -> tuple[date, date]:  # noqa: C901
    """[start, end) in days for a relative date literal, evaluated at `now` (UTC)."""
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    today = now.date()
    if name == "LAST_90_DAYS":
        name, n = "LAST_N_DAYS", 90
    elif name == "NEXT_90_DAYS":
        name, n = "NEXT_N_DAYS", 90
    direction, _, unit = name.partition("_N_") if "_N_" in name else name.partition("_")
    count = 1 if n is None else n
    if unit in ("DAY", "DAYS") or name in ("YESTERDAY", "TODAY", "TOMORROW"):
        if name == "YESTERDAY":
            return today - timedelta(days=1), today
        if name == "TOMORROW":
            return today + timedelta(days=1), today + timedelta(days=2)
        if name == "TODAY":
            return today, today + timedelta(days=1)
        if direction == "LAST":  # the past n days and today
            return today - timedelta(days=count), today + timedelta(days=1)
        return today + timedelta(days=1), today + timedelta(days=1 + count)
    if unit in ("WEEK", "WEEKS"):
        start = today - timedelta(days=(today.weekday() + 1) % 7)
        step = timedelta(days=7)
    elif unit in ("MONTH", "MONTHS"):
        start, step = today.replace(day=1), None
        months = 1
    elif unit in ("QUARTER", "QUARTERS"):
        start, step = date(today.year, (today.month - 1) // 3 * 3 + 1, 1), None
        months = 3
    elif unit in ("YEAR", "YEARS"):
        start, step = date(today.year, 1, 1), None
        months = 12
    else:  # pragma: no cover - names are checked by the parser
        raise LiteralError(f"unknown date literal {name}")
    shift = {"LAST": -count, "THIS": 0, "NEXT": 1}[direction]
    span = 1 if direction == "THIS" else count
    if step is not None:
        return start + step * shift, start + step * (shift + span)
    return _add_months(start, months * shift), _add_months(start, months * (shift + span))
