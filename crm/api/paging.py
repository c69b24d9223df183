"""Cursor pagination over (created_at, id): our own insertion time and id never change, so
a client paging while the mirror updates records sees every record once; records created
meanwhile sort after every existing one and show up on a later page.

Cursors are signed (and bound to the object type), so a damaged or forged cursor is a clean
400 rather than a query on garbage.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """A position between two records; `backwards` pages towards older records."""

    created_at: dt.datetime
    id: uuid.UUID
    backwards: bool = False


@dataclass(frozen=True)
class Page(Generic[M]):
    rows: list[M]
    next: str | None
    previous: str | None


def _salt(scope: str) -> str:
    return f"crm.api.cursor:{scope}"


def cursor_encode(cursor: Cursor, *, scope: str) -> str:
    payload = [cursor.created_at.isoformat(), cursor.id.hex, "p" if cursor.backwards else "n"]
    return signing.dumps(payload, salt=_salt(scope), compress=False)


def cursor_decode(value: str, *, scope: str) -> Cursor:
    try:
        created, ident, direction = signing.loads(value, salt=_salt(scope))
        created_at = dt.datetime.fromisoformat(created)
        if created_at.tzinfo is None or direction not in ("n", "p"):
            raise ValueError(value)
        return Cursor(created_at, uuid.UUID(hex=ident), backwards=direction == "p")
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not valid; pass `next` or `previous` as given.") from exc


def _after(c: Cursor) -> Q:
    # created_at >= c AND (created_at > c OR id > c.id): the first term bounds an index range.
    return Q(created_at__gte=c.created_at) & (Q(created_at__gt=c.created_at) | Q(id__gt=c.id))


def _before(c: Cursor) -> Q:
    return Q(created_at__lte=c.created_at) & (Q(created_at__lt=c.created_at) | Q(id__lt=c.id))


def paginate(queryset: QuerySet[M], *, cursor: Cursor | None, size: int, scope: str) -> Page[M]:
    """One page of `size` rows in one query (it reads one row more to know if there is a
    further page). `previous` is offered whenever the request came with a cursor."""

    def at(row: M, *, backwards: bool) -> str:
        return cursor_encode(
            Cursor(row.created_at, row.pk, backwards=backwards),  # type: ignore[attr-defined]
            scope=scope,
        )

    if cursor is not None and cursor.backwards:
        rows = list(queryset.filter(_before(cursor)).order_by("-created_at", "-id")[: size + 1])
        more = len(rows) > size
        rows = rows[:size][::-1]
        previous = at(rows[0], backwards=True) if more else None
        following = (
            at(rows[-1], backwards=False)
            if rows
            else cursor_encode(Cursor(cursor.created_at, cursor.id), scope=scope)
        )
        return Page(rows, following, previous)

    if cursor is not None:
        queryset = queryset.filter(_after(cursor))
    rows = list(queryset.order_by("created_at", "id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    following = at(rows[-1], backwards=False) if more else None
    previous = None
    if cursor is not None:
        previous = (
            at(rows[0], backwards=True)
            if rows
            else cursor_encode(Cursor(cursor.created_at, cursor.id, backwards=True), scope=scope)
        )
    return Page(rows, following, previous)
