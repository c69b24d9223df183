"""Relative date literal ranges and datetime literal conversion, evaluated at a fixed `now`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from salesforce_emulator.soql.literals import LiteralError, date_range, datetime_to_utc

NOW = datetime(2024, 3, 13, 15, 30, tzinfo=UTC)  # Wednesday; the week began Sunday 10 March


@pytest.mark.parametrize(
    ("name", "n", "start", "end"),
    [
        ("TODAY", None, date(2024, 3, 13), date(2024, 3, 14)),
        ("YESTERDAY", None, date(2024, 3, 12), date(2024, 3, 13)),
        ("TOMORROW", None, date(2024, 3, 14), date(2024, 3, 15)),
        ("THIS_WEEK", None, date(2024, 3, 10), date(2024, 3, 17)),
        ("LAST_WEEK", None, date(2024, 3, 3), date(2024, 3, 10)),
        ("NEXT_WEEK", None, date(2024, 3, 17), date(2024, 3, 24)),
        ("THIS_MONTH", None, date(2024, 3, 1), date(2024, 4, 1)),
        ("LAST_MONTH", None, date(2024, 2, 1), date(2024, 3, 1)),
        ("NEXT_MONTH", None, date(2024, 4, 1), date(2024, 5, 1)),
        ("THIS_QUARTER", None, date(2024, 1, 1), date(2024, 4, 1)),
        ("LAST_QUARTER", None, date(2023, 10, 1), date(2024, 1, 1)),
        ("THIS_YEAR", None, date(2024, 1, 1), date(2025, 1, 1)),
        ("LAST_YEAR", None, date(2023, 1, 1), date(2024, 1, 1)),
        ("NEXT_YEAR", None, date(2025, 1, 1), date(2026, 1, 1)),
        ("LAST_90_DAYS", None, date(2023, 12, 14), date(2024, 3, 14)),
        ("NEXT_90_DAYS", None, date(2024, 3, 14), date(2024, 6, 12)),
        ("LAST_N_DAYS", 7, date(2024, 3, 6), date(2024, 3, 14)),
        ("NEXT_N_DAYS", 3, date(2024, 3, 14), date(2024, 3, 17)),
        ("LAST_N_WEEKS", 2, date(2024, 2, 25), date(2024, 3, 10)),
        ("NEXT_N_WEEKS", 1, date(2024, 3, 17), date(2024, 3, 24)),
        ("LAST_N_MONTHS", 2, date(2024, 1, 1), date(2024, 3, 1)),
        ("NEXT_N_MONTHS", 10, date(2024, 4, 1), date(2025, 2, 1)),
        ("LAST_N_YEARS", 1, date(2023, 1, 1), date(2024, 1, 1)),
    ],
)
def test_date_ranges(name: str, n: int | None, start: date, end: date) -> None:
    assert date_range(name, n, NOW) == (start, end)


def test_now_is_taken_in_utc() -> None:
    late_in_new_york = datetime(2024, 3, 13, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert date_range("TODAY", None, late_in_new_york) == (date(2024, 3, 14), date(2024, 3, 15))
    assert date_range("TODAY", None, datetime(2024, 3, 13, 23, 59)) == (
        date(2024, 3, 13),
        date(2024, 3, 14),
    )


def test_sunday_starts_the_week() -> None:
    sunday = datetime(2024, 3, 10, tzinfo=UTC)
    assert date_range("THIS_WEEK", None, sunday) == (date(2024, 3, 10), date(2024, 3, 17))


@pytest.mark.parametrize(
    ("literal", "stored"),
    [
        ("2024-01-31T10:00:00Z", "2024-01-31T10:00:00.000+0000"),
        ("2024-01-31T10:00:00.5Z", "2024-01-31T10:00:00.500+0000"),
        ("2024-01-31T10:00:00.123Z", "2024-01-31T10:00:00.123+0000"),
        ("2024-01-31T10:00:00+01:00", "2024-01-31T09:00:00.000+0000"),
        ("2024-01-01T00:30:00+01:00", "2023-12-31T23:30:00.000+0000"),
        ("2024-01-31T22:00:00-08:00", "2024-02-01T06:00:00.000+0000"),
    ],
)
def test_datetime_literals_become_the_stored_utc_form(literal: str, stored: str) -> None:
    assert datetime_to_utc(literal) == stored


def test_impossible_datetime_is_refused() -> None:
    with pytest.raises(LiteralError):
        datetime_to_utc("2024-02-30T00:00:00Z")
