"""The ingest hot path's statements, written by hand.

Building these with the ORM (model instances, `bulk_update` CASE expressions, expression
resolution) cost several times the database's own time per request, so the few statements
of a page-view batch are fixed parameterized SQL run through `connection.cursor()`. Values
are always parameters, never formatted into the SQL.

PostgreSQL gets one statement per table whose rows travel as ONE JSON parameter (a JSON
array of row arrays, read back with `jsonb_array_elements` and a cast per column: `jsonb`,
because a `json` value is re-parsed from its start for every column read), and the
statements of one step are sent together in one round trip (the backend's cursor binds
parameters on the client and sends one simple query). Passing each value as its own
placeholder in a multi-row `VALUES` made the driver split and quote a query of hundreds of
placeholders on every call — a third of the ingest's Python time; the statement text never
changes, and PostgreSQL reads the JSON faster than it parses as many literals. The JSON is
written by orjson, which formats UUIDs and datetimes itself: the standard library's
encoder, calling back into Python for each of them, took 8% of the ingest's Python time.
SQLite, the development and test database, runs the same rows with `executemany` (its
statements are in-process calls, not round trips).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import orjson
from django.db import connection

from visitors.models import UTM_FIELDS, Device, Event

Row = Sequence[Any]

Column = tuple[str, str]  # (name, PostgreSQL type the JSON value is cast to)

_UTM_COLUMNS: tuple[Column, ...] = tuple((name, "text") for name in UTM_FIELDS)
_VISITOR_COLUMNS: tuple[Column, ...] = (
    ("id", "uuid"), ("tenant_id", "uuid"), ("email", "text"), ("first_name", "text"),
    ("last_name", "text"), ("phone", "text"), ("company_id", "uuid"),
    ("company_source", "text"), ("first_seen_at", "timestamptz"),
    ("last_seen_at", "timestamptz"), ("total_sessions", "integer"),
    ("total_events", "integer"), *_UTM_COLUMNS, ("identified_at", "timestamptz"),
    ("merged_into_id", "uuid"), ("created_at", "timestamptz"),
)  # fmt: skip
_DEVICE_COLUMNS: tuple[Column, ...] = (
    ("id", "uuid"), ("tenant_id", "uuid"), ("site_id", "uuid"), ("anonymous_id", "text"),
    ("visitor_id", "uuid"), ("session_id", "uuid"), ("ip", "inet"), ("user_agent", "text"),
    ("first_seen_at", "timestamptz"), ("last_seen_at", "timestamptz"),
)  # fmt: skip
_SESSION_COLUMNS: tuple[Column, ...] = (
    ("id", "uuid"), ("tenant_id", "uuid"), ("visitor_id", "uuid"), ("device_id", "uuid"),
    ("started_at", "timestamptz"), ("last_event_at", "timestamptz"),
    ("event_count", "integer"), ("landing_url", "text"), ("referrer", "text"),
)  # fmt: skip
_EVENT_COLUMNS: tuple[Column, ...] = (
    ("tenant_id", "uuid"), ("site_id", "uuid"), ("visitor_id", "uuid"), ("device_id", "uuid"),
    ("session_id", "uuid"), ("type", "text"), ("occurred_at", "timestamptz"),
    ("received_at", "timestamptz"), ("url", "text"), ("path", "text"), ("title", "text"),
    ("referrer", "text"), *_UTM_COLUMNS, ("data", "jsonb"),
)  # fmt: skip


# Both are pure functions of a columns tuple: built once per statement shape, not per group.
@cache
def _names(columns: tuple[Column, ...]) -> str:
    return ", ".join(name for name, _ in columns)


@cache
def _from_json(columns: tuple[Column, ...], *, named: bool = False) -> str:
    """The select list reading a row array `j` into `columns` (a text value may fail its
    column's length: that is the database refusing it, as with any other parameter)."""
    exprs = []
    for index, (name, cast) in enumerate(columns):
        if cast == "jsonb":
            expr = f"(j->{index})::jsonb"
        elif cast == "text":
            expr = f"j->>{index}"
        else:
            expr = f"(j->>{index})::{cast}"
        exprs.append(f"{expr} AS {name}" if named else expr)
    return ", ".join(exprs)


def _rows_json(rows: Sequence[Row]) -> str:
    """The rows as one JSON array: UUIDs as their canonical text, datetimes as ISO 8601 with
    their offset (what `str()` and `isoformat()` give, which PostgreSQL's casts read)."""
    return orjson.dumps(rows).decode()


def _array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal (`{"a","b"}`), passed as ONE text parameter: a constant
    array tells the planner how many rows it matches, which a JSON document does not."""
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _one_round_trip() -> bool:
    """Several statements in one `execute`: PostgreSQL with client-side parameter binding
    (Django's default; server-side binding sends each statement on its own)."""
    options = connection.settings_dict.get("OPTIONS", {})
    return _postgres() and options.get("server_side_binding") is not True


def db_uuid(value: uuid.UUID | None) -> Any:
    """A UUID as the backend stores it (native on PostgreSQL, 32 hex digits on SQLite)."""
    if value is None or connection.features.has_native_uuid_field:
        return value
    return value.hex


def db_time(value: dt.datetime) -> Any:
    return value if _postgres() else connection.ops.adapt_datetimefield_value(value)


def _same(value: Any) -> Any:
    return value


def preparers() -> tuple[Callable[[uuid.UUID | None], Any], Callable[[dt.datetime], Any]]:
    """`db_uuid` and `db_time` for the current backend, looked up once per batch: on
    PostgreSQL values pass as they are, and the per-value backend checks cost more than
    the rest of building a row."""
    if _postgres():
        return _same, _same
    return db_uuid, db_time


def db_ip(value: str | None) -> Any:
    """Prepared like the ORM does (IPv6 normalized); on PostgreSQL the normalized text,
    which travels inside the rows' JSON."""
    field = Device._meta.get_field("ip")
    if _postgres():
        return field.get_prep_value(value)
    return field.get_db_prep_value(value, connection)


def db_json(value: dict[str, Any]) -> Any:
    """A JSON column value: the dict itself on PostgreSQL (it travels inside the rows' JSON),
    prepared like the ORM does elsewhere."""
    if _postgres():
        return value
    return Event._meta.get_field("data").get_db_prep_value(value, connection)


def _read_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(value)


DeviceRow = tuple[uuid.UUID, str, uuid.UUID, uuid.UUID, "uuid.UUID | None", dt.datetime]


def devices_lock(keys: Sequence[tuple[uuid.UUID, str]]) -> list[DeviceRow]:
    """(site, anonymous id, device, visitor, current session, last seen) of the devices
    among `keys` ((site, anonymous id) pairs), locked in id order so concurrent writers
    queue, not deadlock."""
    sql, params = _lock_statement(keys)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _read_devices(cursor.fetchall())


def devices_lock_after(
    read: Statement, keys: Sequence[tuple[uuid.UUID, str]]
) -> tuple[list[Any], list[DeviceRow]]:
    """`read`'s rows, then `devices_lock(keys)`'s: one round trip on PostgreSQL (the group
    writer reads its sites fresh this way, in the transaction that writes)."""
    read_sql, read_params = read
    with connection.cursor() as cursor:
        if not _one_round_trip():
            cursor.execute(read_sql, read_params)
            return cursor.fetchall(), devices_lock(keys)
        lock_sql, lock_params = _lock_statement(keys)
        cursor.execute(f"{read_sql};\n{lock_sql}", [*read_params, *lock_params])
        rows = cursor.fetchall()
        cursor.nextset()
        return rows, cursor.fetchall()


def _lock_statement(keys: Sequence[tuple[uuid.UUID, str]]) -> Statement:
    by_site: dict[uuid.UUID, list[str]] = {}
    for site_id, anonymous_id in keys:
        by_site.setdefault(site_id, []).append(anonymous_id)
    columns = "SELECT site_id, anonymous_id, id, visitor_id, session_id, last_seen_at"
    if _postgres():
        # one array parameter per site: an index scan on (site, anonymous id) whatever
        # the number of devices, with a statement text that depends only on the sites
        where = " OR ".join(["(site_id = %s AND anonymous_id = ANY(%s::text[]))"] * len(by_site))
        params: list[Any] = [
            v for site_id, anons in by_site.items() for v in (site_id, _array_literal(anons))
        ]
        return f"{columns} FROM visitors_device WHERE {where} ORDER BY id FOR UPDATE", params
    where = " OR ".join(
        f"(site_id = %s AND anonymous_id IN ({', '.join(['%s'] * len(anons))}))"
        for anons in by_site.values()
    )
    sql = f"{columns} FROM visitors_device WHERE {where} ORDER BY id"
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    params = [value for site_id, anons in by_site.items() for value in (db_uuid(site_id), *anons)]
    return sql, params


def _read_devices(rows: list[Any]) -> list[DeviceRow]:
    if _postgres():
        return rows
    convert = connection.ops.convert_datetimefield_value
    return [
        (_read_uuid(site), anon, _read_uuid(pk), _read_uuid(vid), _read_uuid(sid),
         convert(seen, None, connection))
        for site, anon, pk, vid, sid, seen in rows
    ]  # fmt: skip


Statement = tuple[str, list[Any]]


def _run(statements: Sequence[Statement | None]) -> None:
    """PostgreSQL: all statements in ONE round trip (see `_one_round_trip`); SQLite: one
    `executemany` each, rows as given."""
    todo = [st for st in statements if st is not None]
    if not todo:
        return
    with connection.cursor() as cursor:
        if _one_round_trip():
            cursor.execute(";\n".join(sql for sql, _ in todo), [v for _, ps in todo for v in ps])
        elif _postgres():
            for sql, params in todo:
                cursor.execute(sql, params)
        else:
            for sql, rows in todo:
                cursor.executemany(sql, rows)


def _insert(
    table: str, columns: tuple[Column, ...], rows: list[Row], *, ignore_conflicts: bool = False
) -> Statement | None:
    if not rows:
        return None
    if _postgres():
        suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        sql = (
            f"INSERT INTO {table} ({_names(columns)}) SELECT {_from_json(columns)} "
            f"FROM jsonb_array_elements(%s::jsonb) AS j{suffix}"
        )
        return sql, [_rows_json(rows)]
    verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
    marks = ", ".join(["%s"] * len(columns))
    return f"{verb} INTO {table} ({_names(columns)}) VALUES ({marks})", list(rows)


def new_devices_insert(
    visitors: list[Row], devices: list[Row], keys: Sequence[tuple[uuid.UUID, str]]
) -> list[DeviceRow]:
    """New anonymous visitors, (id, tenant, company, company source, first seen, now), and
    their devices, insert-or-ignore (a concurrent first request may have created one):
    (id, tenant, site, anonymous id, visitor, ip, user agent, first seen); then the devices
    of `keys` locked like `devices_lock`, ours or the concurrent request's. One round trip
    on PostgreSQL."""
    visitor_rows = [
        (db_uuid(pk), db_uuid(tenant), "", "", "", "", db_uuid(company), source, db_time(first),
         db_time(first), 0, 0, "", "", "", "", None, None, db_time(now))
        for pk, tenant, company, source, first, now in visitors
    ]  # fmt: skip
    device_rows = [
        (db_uuid(pk), db_uuid(tenant), db_uuid(site), anon, db_uuid(visitor), None, ip, ua,
         db_time(first), db_time(first))
        for pk, tenant, site, anon, visitor, ip, ua, first in devices
    ]  # fmt: skip
    inserts = [
        _insert("visitors_visitor", _VISITOR_COLUMNS, visitor_rows),
        _insert("visitors_device", _DEVICE_COLUMNS, device_rows, ignore_conflicts=True),
    ]
    if not _one_round_trip():
        _run(inserts)
        return devices_lock(keys)
    todo = [st for st in inserts if st is not None] + [_lock_statement(keys)]
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(sql for sql, _ in todo), [v for _, ps in todo for v in ps])
        while cursor.description is None and cursor.nextset():
            pass  # the inserts' results come first
        return cursor.fetchall()


def _update(table: str, columns: tuple[Column, ...], pg_set: str, lite_set: str,
            rows: list[Row]) -> Statement | None:  # fmt: skip
    """Rows are (id, *values) for `columns` (after the id). PostgreSQL: one `UPDATE … FROM`
    the rows' JSON whose SET reads `v.<name>`, with the ids also given as an array so the
    planner reads the rows by primary key (it guesses 100 rows for any JSON document, and
    would scan a small table whole); SQLite: one cheap UPDATE per row with the values as
    parameters."""
    if not rows:
        return None
    if _postgres():
        select = _from_json((("id", "uuid"), *columns), named=True)
        return (
            f"UPDATE {table} AS t SET {pg_set} FROM (SELECT {select} "
            "FROM jsonb_array_elements(%s::jsonb) AS j) AS v "
            "WHERE t.id = ANY(%s::uuid[]) AND t.id = v.id",
            [_rows_json(rows), _array_literal([row[0] for row in rows])],
        )
    return f"UPDATE {table} SET {lite_set} WHERE id = %s", [(*row[1:], row[0]) for row in rows]


_PG_UTM = "".join(f", {n} = COALESCE(v.{n}, t.{n})" for n in UTM_FIELDS)
_LITE_UTM = "".join(f", {n} = COALESCE(%s, {n})" for n in UTM_FIELDS)


def page_views_write(
    *,
    new_sessions: list[Row],
    session_adds: list[tuple[uuid.UUID, int, dt.datetime]],
    events: list[Row],
    visitor_adds: list[tuple[uuid.UUID, int, int, dt.datetime, dict[str, str]]],
    device_touches: list[tuple[uuid.UUID, uuid.UUID | None, dt.datetime]],
) -> None:
    """Every write of a group of page views, in one round trip on PostgreSQL:

    - `new_sessions`: (id, tenant, visitor, device, started, last event, event count,
      landing url, referrer);
    - `session_adds`: (session, events added, latest event): counts added, last event only
      forward;
    - `events`: rows in `_EVENT_COLUMNS` order, values already prepared for the backend;
    - `visitor_adds`: (visitor, sessions added, events added, last seen, UTM values
      carried): counters added, `last_seen_at` only forward, a UTM field only replaced by a
      carried value;
    - `device_touches`: (device, current session, last seen): `last_seen_at` only forward.
    """
    uid, ts = preparers()
    session_rows = [
        (uid(pk), uid(tenant), uid(visitor), uid(device), ts(start),
         ts(last), count, url, referrer)
        for pk, tenant, visitor, device, start, last, count, url, referrer in new_sessions
    ]  # fmt: skip
    _run(
        [
            _insert("visitors_session", _SESSION_COLUMNS, session_rows),
            _update(
                "visitors_session",
                (("n", "integer"), ("last", "timestamptz")),
                "event_count = t.event_count + v.n, "
                "last_event_at = GREATEST(t.last_event_at, v.last)",
                "event_count = event_count + %s, last_event_at = MAX(last_event_at, %s)",
                [(uid(pk), n, ts(last)) for pk, n, last in session_adds],
            ),
            _insert("visitors_event", _EVENT_COLUMNS, events),
            _update(
                "visitors_visitor",
                (("s", "integer"), ("e", "integer"), ("seen", "timestamptz"), *_UTM_COLUMNS),
                "total_sessions = t.total_sessions + v.s, total_events = t.total_events + v.e, "
                "last_seen_at = GREATEST(t.last_seen_at, v.seen)" + _PG_UTM,
                "total_sessions = total_sessions + %s, total_events = total_events + %s, "
                "last_seen_at = MAX(last_seen_at, %s)" + _LITE_UTM,
                [
                    (uid(pk), s, e, ts(seen), *(utm.get(n) for n in UTM_FIELDS))
                    for pk, s, e, seen, utm in visitor_adds
                ],
            ),
            _update(
                "visitors_device",
                (("sid", "uuid"), ("seen", "timestamptz")),
                "session_id = v.sid, last_seen_at = GREATEST(t.last_seen_at, v.seen)",
                "session_id = %s, last_seen_at = MAX(last_seen_at, %s)",
                [(uid(pk), uid(sid), ts(seen)) for pk, sid, seen in device_touches],
            ),
        ]
    )
