"""The tracking endpoints: the snippet and the ingest endpoint. Thin: the site comes from
`selectors`, the body from `payload`, the writes from `ingest`."""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from salesmonk.tenants.models import Tenant
from visitors.models import Site
from visitors.tracking.ingest import SiteRefused, events_record, group_commit_active
from visitors.tracking.payload import MAX_BODY_BYTES, EventIn, PayloadError, parse_events
from visitors.tracking.selectors import origin_allowed, site_for_key

log = logging.getLogger(__name__)

SNIPPET = Path(__file__).resolve().parent.parent / "static" / "visitors" / "snippet.js"
# `text/plain` is what `navigator.sendBeacon` sends for a string: a "simple" request, so
# browsers need no preflight. Both carry the same JSON.
CONTENT_TYPES = ("application/json", "text/plain")


def _error(status: int, message: str, origin: str | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address. Behind `TRUSTED_PROXY_COUNT` proxies, each of which appends
    the address it received the request from to `X-Forwarded-For`, that is the entry the
    outermost trusted proxy wrote (the rightmost one no proxy of ours could have written);
    entries further left are whatever the client sent and are ignored. Without trusted
    proxies the header is ignored (anyone can send it) and the peer address is used."""
    proxies = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR") or None
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if not hops:
        return remote
    candidate = hops[-proxies] if len(hops) >= proxies else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class BodyUnreadable(Exception):
    """The body cannot be taken as it is: `status` and `message` say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def body_read(request: HttpRequest, *, limit: int) -> bytes:
    """The body, reading at most `limit + 1` bytes: one more than `limit` is a 413 and the
    rest is never read, with or without a Content-Length. A chunked body comes without one,
    and Django then reads nothing (the events would look like an empty body), so it is read
    from the server's input itself when the server ends that input with the body
    (`wsgi.input_terminated`, as gunicorn does); a server that cannot (Django's runserver)
    gets 411 rather than a misleading "not valid JSON"."""
    declared = request.META.get("CONTENT_LENGTH")
    stream: Any
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise BodyUnreadable(400, "Bad Content-Length.") from None
        if length < 0:
            raise BodyUnreadable(400, "Bad Content-Length.")
        if length > limit:
            raise BodyUnreadable(413, f"The body is larger than {limit} bytes.")
        stream = request
    elif request.META.get("wsgi.input_terminated"):
        stream = request.META["wsgi.input"]
    elif "HTTP_TRANSFER_ENCODING" in request.META:
        raise BodyUnreadable(411, "Send the body with a Content-Length.")
    else:
        return b""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise BodyUnreadable(413, f"The body is larger than {limit} bytes.")
    return b"".join(chunks)


class EventsRecorder(Protocol):
    def __call__(
        self,
        *,
        tenant: Tenant,
        site: Site,
        events: Sequence[EventIn],
        ip: str | None,
        user_agent: str,
        origin: str | None,
    ) -> int: ...


@csrf_exempt
def ingest(request: HttpRequest) -> HttpResponse:
    """`POST /t/e?k=<site key>`: one event or a batch. 202 only after the events are
    committed; any problem with the request is a 4xx naming it, and nothing is written."""
    return events_accept(request, record=events_record)


def events_accept(request: HttpRequest, *, record: EventsRecorder) -> HttpResponse:
    """The ingest endpoint's checks and answers around `record` (which returns once the
    events are committed); bench/ingest.py also runs them around a bare append."""
    # A POST's site may come from this process's recent reads: the group writer reads it
    # again where it writes, and answers 404/403 itself if it no longer accepts the request.
    recent = request.method == "POST" and group_commit_active()
    site = site_for_key(request.GET.get("k", ""), recent=recent)
    origin = request.headers.get("Origin")
    if site is not None and recent and not origin_allowed(site, origin):
        site = site_for_key(site.key)  # a domain may have been added since
    if site is None:
        return _error(404, "Unknown site key.")
    if not origin_allowed(site, origin):
        return _error(403, "This origin is not allowed to send events for this site.")
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        response["Vary"] = "Origin"
        return response
    if request.method != "POST":
        return _error(405, "Use POST.", origin)
    if request.content_type not in CONTENT_TYPES:
        return _error(415, "Send JSON as application/json or text/plain.", origin)
    try:
        body = body_read(request, limit=MAX_BODY_BYTES)
    except BodyUnreadable as exc:
        return _error(exc.status, exc.message, origin)
    try:
        events = parse_events(body, now=timezone.now())
    except PayloadError as exc:
        return _error(400, str(exc), origin)
    try:
        accepted = record(
            tenant=site.tenant,
            site=site,
            events=events,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            origin=origin,
        )
    except SiteRefused as exc:
        return _error(exc.status, exc.message)
    except DatabaseError:
        log.exception("ingest failed for site %s", site.pk)
        return _error(503, "Events not recorded; please retry.", origin)
    response = HttpResponse(
        json.dumps({"accepted": accepted}), status=202, content_type="application/json"
    )
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


@lru_cache(maxsize=1)
def _snippet_source() -> bytes:
    return SNIPPET.read_bytes()


def snippet(request: HttpRequest) -> HttpResponse:
    """The tracking script customers load from us (no third-party code)."""
    response = HttpResponse(_snippet_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response
