"""A local stand-in for Slack's incoming webhooks: a real HTTP server on a free loopback port
that records every JSON body posted to it and answers what the test scripted (default:
200 "ok", like Slack). Alerts tests post here over HTTP; nothing reaches the internet."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django_q.conf import Conf

WEBHOOK_PATH = "/services/T0SALESMK/B0ALERTS/abcdefghijklmnop"


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Post:
    path: str
    json: dict[str, Any]

    @property
    def text(self) -> str:
        return self.json.get("text", "")

    @property
    def raw(self) -> str:
        return json.dumps(self.json, ensure_ascii=False)


class SlackReceiver:
    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    receiver.posts.append(Post(path=self.path, json=body))
                    reply = receiver.replies.popleft() if receiver.replies else Reply()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                data = reply.body.encode()
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = WEBHOOK_PATH) -> str:
        return self.base + path

    def reply(self, *replies: Reply) -> None:
        """Answer the next posts with these, in order; then 200 "ok" again."""
        with self._lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.posts.clear()
            self.replies.clear()


@pytest.fixture(scope="session")
def _slack_server() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def slack_receiver(_slack_server: SlackReceiver, settings: Any) -> Iterator[SlackReceiver]:
    """The receiver, emptied, with loopback allowed as a webhook host for this test."""
    settings.SLACK_WEBHOOK_HOSTS = ["hooks.slack.com", "127.0.0.1"]
    _slack_server.reset()
    yield _slack_server
    _slack_server.reset()


@pytest.fixture
def q_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 runs queued tasks inline (`sync=True`), as the cluster would."""
    monkeypatch.setattr(Conf, "SYNC", True)
