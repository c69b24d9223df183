"""The API's pages, on the shared keyset paginator (`salesmonk.paging`), ordered by
`(created_at, id)`: our own insertion time and id never change, so a client paging while the
mirror updates records sees every record once; records created meanwhile sort after every
existing one and show up on a later page. Cursors are signed and bound to the object type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet

from salesmonk.paging import Cursor, cursor_encode, keyset_rows, row_cursor

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    rows: list[M]
    next: str | None
    previous: str | None


def paginate(queryset: QuerySet[M], *, cursor: Cursor | None, size: int, scope: str) -> Page[M]:
    """One page of `size` rows in one query. `previous` is offered whenever the request
    came with a cursor."""

    def at(row: M, *, backwards: bool) -> str:
        return cursor_encode(row_cursor(row, backwards=backwards), scope=scope)

    rows, more = keyset_rows(queryset, cursor=cursor, size=size)
    if cursor is not None and cursor.backwards:
        previous = at(rows[0], backwards=True) if more else None
        following = (
            at(rows[-1], backwards=False)
            if rows
            else cursor_encode(Cursor(cursor.at, cursor.id), scope=scope)
        )
        return Page(rows, following, previous)

    following = at(rows[-1], backwards=False) if more else None
    previous = None
    if cursor is not None:
        previous = (
            at(rows[0], backwards=True)
            if rows
            else cursor_encode(Cursor(cursor.at, cursor.id, backwards=True), scope=scope)
        )
    return Page(rows, following, previous)
