"""Bodies built to hurt the ingest endpoint: nesting deep enough to exhaust the parser's
stack, and bodies over the limit sent without a Content-Length (chunked). Each is a 4xx
with a JSON message, read no further than the limit, and writes nothing."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from visitors.models import Event, Site, Visitor
from visitors.tests.conftest import ORIGIN, Send, page
from visitors.tracking.payload import MAX_BODY_BYTES, MAX_DEPTH

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


class ChunkedInput:
    """A server's decoded chunked body: short reads, and a count of what was taken."""

    def __init__(self, size: int, chunk: int = 8_000) -> None:
        self.left = size
        self.chunk = chunk
        self.taken = 0

    def read(self, size: int = -1) -> bytes:
        n = min(self.left, self.chunk if size < 0 else min(size, self.chunk))
        self.left -= n
        self.taken += n
        return b" " * n

    readline = read  # part of the WSGI input interface; the endpoint never calls it


def post_chunked(site: Site, body: Any, **meta: Any) -> Any:
    """POST without CONTENT_LENGTH, as gunicorn hands on a `Transfer-Encoding: chunked` one."""
    return Client().generic(
        "POST",
        f"/t/e?k={site.key}",
        CONTENT_TYPE="text/plain",
        HTTP_ORIGIN=ORIGIN,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": body, **meta},
    )


def test_a_chunked_body_over_the_limit_is_a_413_read_no_further(site: Site) -> None:
    body = ChunkedInput(5 * 1024 * 1024)
    response = post_chunked(site, body, **{"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.json() == {"error": TOO_LARGE}
    assert body.taken == MAX_BODY_BYTES + 1
    assert nothing_written()


def test_a_chunked_body_within_the_limit_is_recorded(site: Site) -> None:
    class Body(ChunkedInput):
        def __init__(self, raw: bytes) -> None:
            super().__init__(len(raw), chunk=7)
            self.raw = raw

        def read(self, size: int = -1) -> bytes:
            start = self.taken
            n = len(super().read(size))
            return self.raw[start : start + n]

    raw = json.dumps({"anonymous_id": "device-one", "events": [page(), page()]}).encode()
    response = post_chunked(site, Body(raw), **{"wsgi.input_terminated": True})
    assert response.status_code == 202
    assert response.json() == {"accepted": 2}
    assert Event.objects.count() == 2


def test_a_chunked_body_a_server_cannot_hand_on_is_a_411(site: Site) -> None:
    """Django's runserver drops a body without Content-Length: say so, not "not JSON"."""
    body = ChunkedInput(5 * 1024 * 1024)
    response = post_chunked(site, body)
    assert response.status_code == 411
    assert response.json() == {"error": "Send the body with a Content-Length."}
    assert body.taken == 0
    assert nothing_written()


@pytest.mark.parametrize(
    ("length", "status", "message"),
    [
        (str(MAX_BODY_BYTES + 1), 413, TOO_LARGE),
        ("-1", 400, "Bad Content-Length."),
        ("12abc", 400, "Bad Content-Length."),
    ],
)
def test_a_declared_length_is_checked_before_reading(
    site: Site, length: str, status: int, message: str
) -> None:
    body = ChunkedInput(5 * 1024 * 1024)
    response = Client().generic(
        "POST",
        f"/t/e?k={site.key}",
        CONTENT_TYPE="text/plain",
        CONTENT_LENGTH=length,
        HTTP_ORIGIN=ORIGIN,
        **{"wsgi.input": body},
    )
    assert response.status_code == status
    assert response.json() == {"error": message}
    assert body.taken == 0
    assert nothing_written()


# --- the same through gunicorn, the production server, which decodes chunked bodies --------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_url() -> Iterator[str]:
    """gunicorn serving this test database (it must see committed rows: PostgreSQL only;
    SQLite's test database lives in this process's memory)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("a second process cannot open SQLite's in-memory test database")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "INGEST_GROUP_COMMIT": "false",
    }
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "salesmonk.wsgi",
            "--workers=1",
            "--worker-class=gthread",
            "--threads=2",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/t/s.js", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def chunked_post(url: str, key: str, chunks: Iterator[bytes]) -> tuple[int, dict[str, Any]]:
    """Send a chunked POST over a raw socket (the sender keeps going while the server
    answers) and return the status and JSON body of the answer."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)

    def send() -> None:
        head = (
            f"POST /t/e?k={key} HTTP/1.1\r\nHost: {host}\r\nOrigin: {ORIGIN}\r\n"
            "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n"
        )
        try:
            sock.sendall(head.encode())
            for chunk in chunks:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may stop reading once it has answered

    sender = threading.Thread(target=send)
    sender.start()
    with sock:
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = response.status, json.loads(response.read())
        sender.join(timeout=30)
    return answer


@pytest.mark.django_db(transaction=True)
def test_gunicorn_chunked_bodies(gunicorn_url: str, site: Site) -> None:
    five_mb = (b"[" * 65536 for _ in range(80))
    assert chunked_post(gunicorn_url, site.key, five_mb) == (413, {"error": TOO_LARGE})
    assert nothing_written()
    raw = json.dumps({"anonymous_id": "device-one", "events": [page(), page()]}).encode()
    small = (raw[i : i + 50] for i in range(0, len(raw), 50))
    assert chunked_post(gunicorn_url, site.key, small) == (202, {"accepted": 2})
    assert Event.objects.count() == 2
