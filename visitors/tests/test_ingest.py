"""The ingest endpoint is strict: every bad request is a 4xx naming the problem, and
nothing of it is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from salesmonk.tenants.models import Membership
from visitors.models import Chat, Device, Event, Meeting, Site, Visitor
from visitors.tests.conftest import ORIGIN, Send, now_ms, page

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not Event.objects.exists() and not Visitor.objects.exists()


def test_one_event_or_a_batch_as_json_or_text(send: Send) -> None:
    assert send(page(), content_type="application/json").json() == {"accepted": 1}
    response = send([page(), page(), {"type": "identify", "email": "bo@initech.example"}])
    assert response.status_code == 202
    assert response.json() == {"accepted": 3}
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert Event.objects.count() == 4


def test_chat_and_meeting_become_records(send: Send) -> None:
    starts = now_ms() + 86_400_000
    send(
        [
            {"type": "chat", "conversation_id": "conv-1", "message": "Hi, pricing?"},
            {"type": "chat", "conversation_id": "conv-1", "message": "Hello!", "sender": "agent"},
            {"type": "meeting", "title": "Demo", "starts_at": starts, "duration": 30},
        ]
    )
    chat = Chat.objects.get()
    assert (chat.conversation_key, chat.message_count) == ("conv-1", 2)
    assert list(chat.messages.values_list("sender", "body")) == [
        ("visitor", "Hi, pricing?"),
        ("agent", "Hello!"),
    ]
    meeting = Meeting.objects.get()
    assert (meeting.title, meeting.duration_minutes) == ("Demo", 30)
    assert int(meeting.starts_at.timestamp() * 1000) == starts
    assert meeting.visitor_id == chat.visitor_id


def test_unknown_site_key(send: Send) -> None:
    response = send(page(), key="sk_nope")
    assert response.status_code == 404
    assert response.json() == {"error": "Unknown site key."}
    assert nothing_written()


def test_inactive_site_is_unknown(send: Send, site: Site) -> None:
    Site.objects.filter(pk=site.pk).update(is_active=False)
    assert send(page()).status_code == 404


def test_another_tenants_site_key_is_refused_from_our_origin(
    send: Send, outsider_site: Site, outsider: Membership
) -> None:
    response = send(page(), key=outsider_site.key)
    assert response.status_code == 403
    assert response.json() == {"error": "This origin is not allowed to send events for this site."}
    assert "Access-Control-Allow-Origin" not in response
    assert Visitor.objects.for_tenant(outsider.tenant).count() == 0
    assert nothing_written()


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://acme.example.evil.example",
        "https://notacme.example",
        "null",
        "",
        "ftp://acme.example",
    ],
)
def test_wrong_or_missing_origin(send: Send, origin: str) -> None:
    response = send(page(), origin=origin)
    assert response.status_code == 403
    assert nothing_written()


def test_subdomains_of_allowed_domains_are_allowed(send: Send) -> None:
    assert send(page(), origin="https://shop.eu.acme.example:8443").status_code == 202
    assert send(page(), origin="http://acme.example").status_code == 202


def preflight(site: Site, origin: str) -> Any:
    return Client().options(
        f"/t/e?k={site.key}",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


def test_preflight_only_for_the_sites_domains(site: Site, outsider_site: Site) -> None:
    ok = preflight(site, ORIGIN)
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == ORIGIN
    assert ok["Access-Control-Allow-Methods"] == "POST"
    assert ok["Access-Control-Allow-Headers"] == "Content-Type"
    assert preflight(site, "https://evil.example").status_code == 403
    assert preflight(outsider_site, ORIGIN).status_code == 403


def test_get_is_refused(site: Site) -> None:
    response = Client().get(f"/t/e?k={site.key}", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "The body is not valid JSON."),
        (b"\xff\xfe", "The body is not valid JSON."),
        (b"[1, 2]", "The body must be a JSON object."),
        (b"  ", "The body is not valid JSON."),
    ],
)
def test_malformed_bodies(send: Send, raw: bytes, message: str) -> None:
    for content_type in ("text/plain", "application/json"):
        response = send({}, raw=raw, content_type=content_type)
        assert response.status_code == 400
        assert response.json() == {"error": message}
    assert nothing_written()


def test_other_content_types(send: Send) -> None:
    response = send(page(), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert nothing_written()


def test_bodies_over_64_kb(send: Send) -> None:
    big = [page(title="x" * 500) for _ in range(140)]
    raw = json.dumps({"anonymous_id": "device-one", "events": big}).encode()
    assert len(raw) > 64 * 1024
    response = send({}, raw=raw)
    assert response.status_code == 413
    assert response.json() == {"error": "The body is larger than 65536 bytes."}
    assert nothing_written()


BAD_EVENTS = [
    ({"type": "click", "url": "https://www.acme.example/"}, "`type` must be one of"),
    ({"type": "page"}, "`url` is required."),
    ({"type": "page", "url": 42}, "`url` must be a string."),
    ({"type": "page", "url": "javascript:alert(1)"}, "`url` must be an http(s) URL."),
    ({"type": "page", "url": "https://a.example/", "title": ["x"]}, "`title` must be a string."),
    ({"type": "page", "url": "https://a.example/", "ts": "yesterday"}, "`ts` must be milli"),
    ({"type": "page", "url": "https://a.example/", "ts": True}, "`ts` must be milli"),
    ({"type": "page", "url": "https://a.example/", "ts": 1e30}, "`ts` is not a plausible time."),
    ({"type": "page", "url": "https://a.example/", "ts": 0}, "`ts` is not a plausible time."),
    ({"type": "page", "url": "https://a.example/", "ts": 1_000_000_000_000}, "more than a day"),
    ({"type": "page", "url": "https://a.example/", "ts": "FUTURE"}, "`ts` is in the future."),
    ({"type": "identify"}, "`email` is required."),
    ({"type": "identify", "email": "not-an-email"}, "`email` is not a valid email address."),
    ({"type": "identify", "email": "a@b.example", "phone": "12"}, "`phone` is not a valid"),
    ({"type": "chat", "conversation_id": "c1"}, "`message` is required."),
    ({"type": "chat", "conversation_id": "c 1", "message": "hi"}, "`conversation_id` may hold"),
    ({"type": "chat", "conversation_id": "c1", "message": "hi", "sender": "bot"}, "`sender`"),
    ({"type": "meeting", "title": "Demo", "starts_at": 1.7e12, "duration": "30"}, "`duration`"),
    ({"type": "meeting", "title": "Demo", "duration": 30}, "`starts_at` must be"),
    ({"type": "page", "url": "https://a.example/", "title": "a\x00b"}, "`title` holds a NUL"),
    ({"type": "page", "url": "https://a.example/\x00"}, "`url` holds a NUL"),
    ({"type": "chat", "conversation_id": "c1", "message": "\ud83d"}, "`message` holds an unpaired"),
    ({"type": "page", "url": "https://a.example/", "anonymous_id": "short"}, "`anonymous_id`"),
    ({"type": "page", "url": "https://a.example/", "anonymous_id": 12345678}, "`anonymous_id`"),
    ("a string", "Each event must be a JSON object."),
]


@pytest.mark.parametrize(("event", "message"), BAD_EVENTS)
def test_bad_fields_refuse_the_whole_batch(send: Send, event: Any, message: str) -> None:
    if isinstance(event, dict) and event.get("ts") == "FUTURE":
        event = {**event, "ts": now_ms() + 3_600_000}
    response = send([page(), event])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("events[1]: ")
    assert message in error
    assert nothing_written()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"events": []}, "`events` must be a non-empty list."),
        ({"events": {"type": "page"}}, "`events` must be a non-empty list."),
        ({"events": [page()] * 101}, "At most 100 events per request."),
        (
            {"events": [page()], "sent_at": "now"},
            "`sent_at` must be milliseconds since the epoch (a number).",
        ),
    ],
)
def test_bad_batches(send: Send, body: dict[str, Any], message: str) -> None:
    raw = json.dumps({"anonymous_id": "device-one", **body}).encode()
    response = send({}, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert nothing_written()


def test_a_wrong_browser_clock_is_corrected_with_sent_at(send: Send) -> None:
    hour = 3_600_000
    skewed = now_ms() - 5 * hour  # the visitor's clock is five hours behind
    raw = json.dumps(
        {"anonymous_id": "device-one", "sent_at": skewed, "events": [page(ts=skewed - 1000)]}
    ).encode()
    assert send({}, raw=raw).status_code == 202
    lag = now_ms() - Event.objects.get().occurred_at.timestamp() * 1000
    assert 0 <= lag < 60_000


def test_a_database_failure_is_a_503_not_a_500(send: Send, monkeypatch: Any) -> None:
    from django.db import OperationalError

    def fail(**kwargs: Any) -> int:
        raise OperationalError("connection lost")

    monkeypatch.setattr("visitors.tracking.endpoints.events_record", fail)
    response = send(page())
    assert response.status_code == 503
    assert response.json() == {"error": "Events not recorded; please retry."}


def test_snippet_is_served(client: Client) -> None:
    response = client.get("/t/s.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"sendBeacon" in response.content


def test_tracking_endpoints_skip_the_apps_session_and_user_middleware(
    send: Send, client: Client, owner: Membership
) -> None:
    client.force_login(owner.user)  # a visitor who is also signed in to SalesMonk
    ingest = send(page())
    snippet = client.get("/t/s.js")
    page_response = client.get("/")
    for response in (ingest, snippet):
        assert response["X-Content-Type-Options"] == "nosniff"  # security middleware: yes
        assert "X-Frame-Options" not in response  # the app's middleware: no
        assert "Cookie" not in response.get("Vary", "")
        assert not response.cookies
    assert page_response["X-Frame-Options"] == "DENY"


def post_from(site: Site, *, remote: str, forwarded: str | None = None) -> Any:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    raw = json.dumps({"anonymous_id": "device-one", **page()}).encode()
    return Client().post(
        f"/t/e?k={site.key}",
        data=raw,
        content_type="text/plain",
        HTTP_ORIGIN=ORIGIN,
        REMOTE_ADDR=remote,
        **headers,
    )


def test_a_forwarded_for_header_is_ignored_without_trusted_proxies(site: Site) -> None:
    assert post_from(site, remote="198.51.100.7", forwarded="203.0.113.9").status_code == 202
    assert Device.objects.get().ip == "198.51.100.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # one proxy: it appended what it saw; "6.6.6.6" is whatever the client claimed
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        # two proxies: the outer one appended the client, the inner one the outer proxy
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # fewer hops than proxies: the leftmost
        (1, "not-an-address", "10.0.0.1"),  # garbage: the peer address
        (1, "", "10.0.0.1"),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client(
    site: Site, settings: Any, proxies: int, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = proxies
    assert post_from(site, remote="10.0.0.1", forwarded=forwarded).status_code == 202
    assert Device.objects.get().ip == expected
