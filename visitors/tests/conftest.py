"""Fixtures for tracking tests: a site of our tenant, one of the outsider's, and `send`,
which posts events to the ingest endpoint the way the snippet does."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from salesmonk.tenants.models import Membership, Tenant
from visitors.models import Site
from visitors.tracking import ingest

ORIGIN = "https://www.acme.example"

Send = Callable[..., Any]


@pytest.fixture(autouse=True)
def _group_writer_stopped() -> Iterator[None]:
    """The ingest group writer holds its own database connection: end it after each test,
    so the test database can be flushed and dropped."""
    yield
    ingest._WRITER.stop()


@pytest.fixture
def site(tenant: Tenant) -> Site:
    return Site.objects.create(tenant=tenant, name="Acme", allowed_domains=["acme.example"])


@pytest.fixture
def outsider_site(outsider: Membership) -> Site:
    return Site.objects.create(
        tenant=outsider.tenant, name="Globex", allowed_domains=["globex.example"]
    )


def now_ms() -> int:
    return int(time.time() * 1000)


def page(url: str = "https://www.acme.example/", **extra: Any) -> dict[str, Any]:
    return {"type": "page", "url": url, "title": "Acme", "ts": now_ms(), **extra}


@pytest.fixture
def send(site: Site) -> Send:
    """POST a body to the endpoint: a list is sent as a batch, a dict as one event;
    `anonymous_id` defaults to one device."""

    def post(
        events: list[dict[str, Any]] | dict[str, Any],
        *,
        anonymous_id: str = "device-one",
        key: str | None = None,
        origin: str = ORIGIN,
        content_type: str = "text/plain",
        raw: bytes | None = None,
    ) -> Any:
        if raw is None:
            if isinstance(events, list):
                body: dict[str, Any] = {"anonymous_id": anonymous_id, "events": events}
            else:
                body = {"anonymous_id": anonymous_id, **events}
            raw = json.dumps(body).encode()
        return Client().post(
            f"/t/e?k={key or site.key}",
            data=raw,
            content_type=content_type,
            HTTP_ORIGIN=origin,
            REMOTE_ADDR="198.51.100.7",
        )

    return post


from visitors.tests.slack_receiver import (  # noqa: E402 - fixtures of the alerts tests
    _slack_server,
    q_sync,
    slack_receiver,
)

__all__ = ["_slack_server", "q_sync", "slack_receiver"]
