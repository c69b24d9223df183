"""bench/ingest.py's URLs: the project's, plus its two baselines, both answered by the
tracking middleware like ingest and sent the same bodies.

- `/bench/noop`, the framework ceiling: reads the body and answers 202, no database work.
- `/bench/append`, the durable floor: the ingest endpoint's own checks (site, origin,
  content type, size, `parse_events`), then each request's validated events appended as ONE
  row to `bench_append` through the same group writer (one INSERT per group, one COMMIT),
  answered after that COMMIT. No devices, sessions, counters or fresh site read: the least
  any endpoint that acknowledges only committed events does on this server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from bench._append_table import APPEND_TABLE
from visitors.models import Site
from visitors.tracking.endpoints import events_accept
from visitors.tracking.ingest_group import GroupWriter
from visitors.tracking.payload import EventIn


@csrf_exempt
def noop(request: HttpRequest) -> HttpResponse:
    request.read()
    return HttpResponse(b'{"accepted": 0}', status=202, content_type="application/json")


def _event_row(ev: EventIn) -> list:
    return [ev.type, ev.anonymous_id, ev.occurred_at.isoformat(), ev.url, ev.path, ev.title,
            ev.referrer, ev.utm, ev.data]  # fmt: skip


def _append_group(items: Sequence[tuple[Site, Sequence[EventIn]]]) -> list[int | Exception]:
    rows = [[str(site.pk), [_event_row(ev) for ev in events]] for site, events in items]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {APPEND_TABLE} (site_id, events) SELECT (j->>0)::uuid, j->1 "
            "FROM jsonb_array_elements(%s::jsonb) AS j",
            [json.dumps(rows, separators=(",", ":"))],
        )
    return [len(events) for _, events in items]


_APPENDER: GroupWriter[tuple[Site, Sequence[EventIn]]] = GroupWriter(write_group=_append_group)


def _append(*, site: Site, events: Sequence[EventIn], **_request: Any) -> int:
    """A `visitors.tracking.endpoints.EventsRecorder` keeping only the site and the events."""
    return _APPENDER.submit((site, events))


@csrf_exempt
def append(request: HttpRequest) -> HttpResponse:
    return events_accept(request, record=_append)


urlpatterns = [
    path("bench/noop", noop, name="bench_noop"),
    path("bench/append", append, name="bench_append"),
    path("", include("salesmonk.urls")),
]
