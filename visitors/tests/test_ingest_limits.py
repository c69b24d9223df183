"""Bodies built to hurt the ingest endpoint: nesting deep enough to exhaust the parser's
stack. Each is a 4xx with a JSON message and writes nothing."""

from __future__ import annotations

import json

import pytest

from visitors.models import Event, Visitor
from visitors.payload import MAX_BODY_BYTES, MAX_DEPTH
from visitors.tests.conftest import ORIGIN, Send, page

pytestmark = pytest.mark.django_db

TOO_DEEP = f"The body nests arrays or objects more than {MAX_DEPTH} levels deep."
TOO_LARGE = f"The body is larger than {MAX_BODY_BYTES} bytes."


def nothing_written() -> bool:
    return not Event.objects.exists() and not Visitor.objects.exists()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def in_a_field(depth: int) -> bytes:
    """One valid page view, with `depth` levels of arrays in a field nobody reads."""
    event = json.dumps({"anonymous_id": "device-one", **page()}).encode()
    return event[:-1] + b', "extra": ' + nested(depth) + b"}"


@pytest.mark.parametrize(
    "raw",
    [nested(MAX_DEPTH + 1), nested(1_000), nested(30_000), b"[" * MAX_BODY_BYTES],
    ids=["limit+1", "1000", "30000", "64KB-unclosed"],
)
def test_deep_nesting_at_the_top_is_a_400(send: Send, raw: bytes) -> None:
    response = send({}, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"error": TOO_DEEP}
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert nothing_written()


def test_nesting_100_000_deep_is_over_the_size_limit_first(send: Send) -> None:
    response = send({}, raw=nested(100_000))
    assert response.status_code == 413
    assert response.json() == {"error": TOO_LARGE}
    assert nothing_written()


@pytest.mark.parametrize("depth", [MAX_DEPTH, 1_000, 30_000])
def test_deep_nesting_inside_an_event_is_a_400(send: Send, depth: int) -> None:
    raw = in_a_field(depth)
    assert len(raw) <= MAX_BODY_BYTES
    response = send({}, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"error": TOO_DEEP}
    assert nothing_written()


def test_nesting_up_to_the_limit_is_read(send: Send) -> None:
    """The body object is one level, so this is MAX_DEPTH in all."""
    response = send({}, raw=in_a_field(MAX_DEPTH - 1))
    assert response.status_code == 202
    assert Event.objects.count() == 1
