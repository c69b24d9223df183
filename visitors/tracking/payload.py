"""Strict reading of what the snippet sends, before anything touches the database.

A request body is one JSON object: either one event, or a batch `{"events": [...]}` with the
fields shared by the batch (`anonymous_id`, `sent_at`) at the top. Every problem raises
`PayloadError` with a message naming the field, so the endpoint answers 400 and writes
nothing: a batch is accepted whole or not at all.

Timestamps are the browser's clock in milliseconds since the epoch. When the batch says when
it was sent (`sent_at`), each event is shifted by the difference between our clock and the
browser's, so a visitor with a wrong clock still gets correct sessions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crm.normalize import normalize_email, normalize_phone
from visitors.models import UTM_FIELDS, EventType

MAX_BODY_BYTES = 64 * 1024
MAX_EVENTS = 100
# The snippet's bodies are three levels deep (batch → events → event). Deeper nesting is
# refused by a count that does not depend on how much stack the parser has left, so the
# answer to a given body is the same under any server.
MAX_DEPTH = 16
# Events older than this are refused rather than re-opening old sessions; beacons arrive
# within seconds, queued batches within minutes.
MAX_EVENT_AGE = dt.timedelta(days=1)
MAX_CLOCK_AHEAD = dt.timedelta(minutes=5)
_MIN_MS, _MAX_MS = 946_684_800_000, 4_102_444_800_000  # years 2000 .. 2100
_ANON_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PayloadError(ValueError):
    """The body is not something we accept; the message is shown to the sender."""


@dataclass(frozen=True)
class EventIn:
    """One validated event, its time already on our clock."""

    type: str
    anonymous_id: str
    occurred_at: dt.datetime
    url: str = ""
    path: str = ""
    title: str = ""
    referrer: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def _text(obj: dict[str, Any], name: str, max_len: int, *, required: bool = False) -> str:
    value = obj.get(name)
    if value is None:
        if required:
            raise PayloadError(f"`{name}` is required.")
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"`{name}` must be a string.")
    value = value.strip()
    _check_storable(value, name)
    if len(value) > max_len:
        raise PayloadError(f"`{name}` is longer than {max_len} characters.")
    if required and not value:
        raise PayloadError(f"`{name}` must not be empty.")
    return value


def _check_storable(value: str, name: str) -> None:
    """Refuse what no database column can hold: NUL (PostgreSQL text refuses it) and a lone
    surrogate (a JSON `\\ud83d` escape without its pair, which no UTF-8 encoder accepts)."""
    if "\x00" in value:
        raise PayloadError(f"`{name}` holds a NUL character.")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise PayloadError(f"`{name}` holds an unpaired surrogate (broken text).") from None


def _millis(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"`{name}` must be milliseconds since the epoch (a number).")
    if not _MIN_MS <= value <= _MAX_MS:
        raise PayloadError(f"`{name}` is not a plausible time.")
    return int(value)


def _to_datetime(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def utm_from_query(raw: str) -> dict[str, str]:
    """The UTM parameters present and non-empty in a page URL's query string."""
    if "utm_" not in raw:  # most page views: nothing to parse
        return {}
    query = parse_qs(raw)
    found = {}
    for name in UTM_FIELDS:
        values = [v.strip() for v in query.get(name, []) if v.strip()]
        if values:
            found[name] = values[-1][:255]
    return found


def _page(obj: dict[str, Any]) -> dict[str, Any]:
    url = _text(obj, "url", 2048, required=True)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise PayloadError("`url` is not a URL.") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PayloadError("`url` must be an http(s) URL.")
    return {
        "url": url,
        "path": (parts.path or "/")[:2048],
        "title": _text(obj, "title", 512),
        "referrer": _text(obj, "referrer", 2048),
        "utm": utm_from_query(parts.query),
    }


def _identify(obj: dict[str, Any]) -> dict[str, Any]:
    email = normalize_email(_text(obj, "email", 254, required=True))
    if email is None:
        raise PayloadError("`email` is not a valid email address.")
    phone_text = _text(obj, "phone", 40)
    phone = normalize_phone(phone_text) if phone_text else ""
    if phone is None:
        raise PayloadError("`phone` is not a valid phone number.")
    return {
        "data": {
            "email": email,
            "first_name": _text(obj, "first_name", 100),
            "last_name": _text(obj, "last_name", 100),
            "phone": phone,
            "company": _text(obj, "company", 255),
            "company_domain": _text(obj, "company_domain", 255),
        }
    }


def _chat(obj: dict[str, Any]) -> dict[str, Any]:
    conversation = _text(obj, "conversation_id", 64, required=True)
    if not _KEY.match(conversation):
        raise PayloadError("`conversation_id` may hold only letters, digits, '-' and '_'.")
    sender = _text(obj, "sender", 7) or "visitor"
    if sender not in ("visitor", "agent"):
        raise PayloadError("`sender` must be 'visitor' or 'agent'.")
    return {
        "data": {
            "conversation_id": conversation,
            "sender": sender,
            "message": _text(obj, "message", 4000, required=True),
        }
    }


def _meeting(obj: dict[str, Any]) -> dict[str, Any]:
    duration = obj.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 1440:
        raise PayloadError("`duration` must be a whole number of minutes from 1 to 1440.")
    return {
        "data": {
            "title": _text(obj, "title", 255, required=True),
            "starts_at": _to_datetime(_millis(obj.get("starts_at"), "starts_at")).isoformat(),
            "duration": duration,
        }
    }


_READERS = {
    EventType.PAGE: _page,
    EventType.IDENTIFY: _identify,
    EventType.CHAT: _chat,
    EventType.MEETING: _meeting,
}


def _anonymous_id(value: Any) -> str:
    if not isinstance(value, str) or not _ANON_ID.match(value):
        raise PayloadError("`anonymous_id` must be 8 to 64 letters, digits, '-' or '_'.")
    return value


def _event(obj: Any, *, shared: dict[str, Any], skew_ms: int, now: dt.datetime) -> EventIn:
    if not isinstance(obj, dict):
        raise PayloadError("Each event must be a JSON object.")
    kind = obj.get("type")
    if kind not in _READERS:
        raise PayloadError(f"`type` must be one of {', '.join(sorted(_READERS))}.")
    anonymous_id = _anonymous_id(obj.get("anonymous_id", shared.get("anonymous_id")))
    if "ts" in obj:
        occurred_at = _to_datetime(_millis(obj["ts"], "ts") + skew_ms)
        if occurred_at < now - MAX_EVENT_AGE:
            raise PayloadError("`ts` is more than a day in the past.")
        if occurred_at > now + MAX_CLOCK_AHEAD:
            raise PayloadError("`ts` is in the future.")
        occurred_at = min(occurred_at, now)
    else:
        occurred_at = now
    return EventIn(
        type=kind, anonymous_id=anonymous_id, occurred_at=occurred_at, **_READERS[kind](obj)
    )


def _deeper_than(doc: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` levels. Level by level, without
    recursion, and only through containers: a flat batch costs one pass over its values."""
    level = [doc]
    for _ in range(limit):
        below = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        if not below:
            return False
        level = below
    return True


def parse_events(body: bytes, *, now: dt.datetime) -> list[EventIn]:
    """The events in a request body, in the order sent, or `PayloadError`."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    too_deep = f"The body nests arrays or objects more than {MAX_DEPTH} levels deep."
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("The body is not valid JSON.") from None
    except RecursionError:
        # The parser recurses once per level and gives up at the interpreter's limit, far
        # below what 64 KB of brackets can nest: that body is too deep as well.
        raise PayloadError(too_deep) from None
    if isinstance(doc, dict | list) and _deeper_than(doc, MAX_DEPTH):
        raise PayloadError(too_deep)
    if not isinstance(doc, dict):
        raise PayloadError("The body must be a JSON object.")
    skew_ms = 0
    if "sent_at" in doc:
        skew_ms = int(now.timestamp() * 1000) - _millis(doc["sent_at"], "sent_at")
    if "events" in doc:
        items = doc["events"]
        if not isinstance(items, list) or not items:
            raise PayloadError("`events` must be a non-empty list.")
        if len(items) > MAX_EVENTS:
            raise PayloadError(f"At most {MAX_EVENTS} events per request.")
    else:
        items = [doc]
    events = []
    for index, item in enumerate(items):
        try:
            events.append(_event(item, shared=doc, skew_ms=skew_ms, now=now))
        except PayloadError as exc:
            raise PayloadError(f"events[{index}]: {exc}" if "events" in doc else str(exc)) from None
    return events
