"""The one keyset paginator, for the unified CRM API and the Visitors and Companies lists.

A page is an index range after (or before) a cursor on `(<time column>, id)`, never OFFSET, so
page 2,000 costs what page 1 costs and a list that changes while someone pages through it
shows every row once. The range is written `at >= x AND (at > x OR id > y)` so its first
half bounds an index range. Cursors are signed and bound to a scope (the list or API object
they came from), so a damaged, truncated or forged cursor is `InvalidCursor` (a clean 400)
rather than a query on garbage.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core import signing
from django.db.models import F, Model, Q, QuerySet

M = TypeVar("M", bound=Model)

# The salt's prefix predates the lists' use of these cursors: the API's cursors handed out
# before stay valid.
_SALT = "crm.api.cursor"


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """A position between two rows, at the row with time `at` and id `id`; `backwards`
    pages towards the start of the list."""

    at: dt.datetime
    id: uuid.UUID
    backwards: bool = False


def cursor_encode(cursor: Cursor, *, scope: str) -> str:
    payload = [cursor.at.isoformat(), cursor.id.hex, "p" if cursor.backwards else "n"]
    return signing.dumps(payload, salt=f"{_SALT}:{scope}", compress=False)


def cursor_decode(value: str, *, scope: str) -> Cursor:
    try:
        at_text, ident, direction = signing.loads(value, salt=f"{_SALT}:{scope}")
        at = dt.datetime.fromisoformat(at_text)
        if at.tzinfo is None or direction not in ("n", "p"):
            raise ValueError(value)
        return Cursor(at, uuid.UUID(hex=ident), backwards=direction == "p")
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not valid; pass `next` or `previous` as given.") from exc


def _beyond(cursor: Cursor, *, at_field: str, later: bool) -> Q:
    """Rows after the cursor's position in `(at, id)` order (`later`), or before it."""
    if later:
        return Q(**{f"{at_field}__gte": cursor.at}) & (
            Q(**{f"{at_field}__gt": cursor.at}) | Q(id__gt=cursor.id)
        )
    return Q(**{f"{at_field}__lte": cursor.at}) & (
        Q(**{f"{at_field}__lt": cursor.at}) | Q(id__lt=cursor.id)
    )


def keyset_rows(
    queryset: QuerySet[Any],
    *,
    cursor: Cursor | None,
    size: int,
    at_field: str = "created_at",
    newest_first: bool = False,
) -> tuple[list[Any], bool]:
    """Up to `size` rows of `queryset` in list order — `(at_field, id)` ascending, or
    descending with `newest_first` — following `cursor` (preceding it when the cursor pages
    `backwards`), and whether more rows lie beyond them in that direction. One query: it
    reads one row more than it returns."""
    backwards = cursor is not None and cursor.backwards
    ascending = newest_first == backwards
    if cursor is not None:
        queryset = queryset.filter(_beyond(cursor, at_field=at_field, later=ascending))
    at, pk = F(at_field), F("id")
    order = (at.asc(), pk.asc()) if ascending else (at.desc(), pk.desc())
    rows = list(queryset.order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return rows, more


def row_cursor(row: Any, *, at_field: str = "created_at", backwards: bool = False) -> Cursor:
    return Cursor(getattr(row, at_field), row.pk, backwards=backwards)
