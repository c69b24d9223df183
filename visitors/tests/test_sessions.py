"""Sessions, counters and UTM values exactly as the product defines them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from salesmonk.tenants.models import Membership
from visitors.models import Device, Event, Session, Visitor
from visitors.tests.conftest import Send, page

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def only_visitor() -> Visitor:
    return Visitor.objects.get(merged_into__isnull=True)


def test_first_page_view_creates_visitor_device_and_session(send: Send) -> None:
    with time_machine.travel(START, tick=False):
        response = send(page())
    assert response.status_code == 202
    assert response.json() == {"accepted": 1}
    visitor = only_visitor()
    assert (visitor.total_sessions, visitor.total_events) == (1, 1)
    assert visitor.first_seen_at == START
    assert visitor.last_seen_at == START
    assert Device.objects.get().anonymous_id == "device-one"
    session = Session.objects.get()
    assert (session.started_at, session.event_count) == (START, 1)
    assert Event.objects.get().path == "/"


@pytest.mark.parametrize(("gap_minutes", "sessions"), [(29, 1), (30, 1), (31, 2)])
def test_a_new_session_starts_after_more_than_30_minutes(
    send: Send, gap_minutes: int, sessions: int
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        send(page())
        clock.shift(dt.timedelta(minutes=gap_minutes))
        send(page(url="https://www.acme.example/pricing"))
    visitor = only_visitor()
    assert visitor.total_sessions == sessions
    assert visitor.total_events == 2
    assert visitor.last_seen_at == START + dt.timedelta(minutes=gap_minutes)
    assert Session.objects.count() == sessions


def test_activity_keeps_a_session_alive_past_30_minutes_from_its_start(send: Send) -> None:
    """Inactivity counts from the last event, not from the session start."""
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(4):
            send(page())
            clock.shift(dt.timedelta(minutes=20))
    assert only_visitor().total_sessions == 1
    assert Session.objects.get().event_count == 4


def test_sessions_are_decided_on_event_time_within_a_batch(send: Send) -> None:
    with time_machine.travel(START + dt.timedelta(hours=2), tick=False):
        base = int(START.timestamp() * 1000)
        minute = 60_000
        response = send([page(ts=base), page(ts=base + 29 * minute), page(ts=base + 61 * minute)])
    assert response.json() == {"accepted": 3}
    assert only_visitor().total_sessions == 2
    assert sorted(Session.objects.values_list("event_count", flat=True)) == [1, 2]


def test_a_new_device_is_a_new_session_and_sessions_add_up_after_merge(send: Send) -> None:
    with time_machine.travel(START, tick=False) as clock:
        send(page(), anonymous_id="laptop-0001")
        clock.shift(dt.timedelta(hours=4))
        send(page(), anonymous_id="laptop-0001")
        send(page(), anonymous_id="phone-00001")  # another device, same minute: new session
        assert Visitor.objects.count() == 2
        send({"type": "identify", "email": "ann@initech.example"}, anonymous_id="laptop-0001")
        send({"type": "identify", "email": "Ann@Initech.example"}, anonymous_id="phone-00001")
        person = only_visitor()
        assert person.total_sessions == 3
        assert person.total_events == 5
        assert set(Device.objects.values_list("visitor_id", flat=True)) == {person.pk}
        assert set(Session.objects.values_list("visitor_id", flat=True)) == {person.pk}
        assert set(Event.objects.values_list("visitor_id", flat=True)) == {person.pk}

        clock.shift(dt.timedelta(minutes=29))
        send(page(), anonymous_id="phone-00001")
        assert only_visitor().total_sessions == 3
        clock.shift(dt.timedelta(minutes=31))
        send(page(), anonymous_id="laptop-0001")
        assert only_visitor().total_sessions == 4
    merged = Visitor.objects.get(merged_into__isnull=False)
    assert (merged.merged_into_id, merged.total_sessions) == (person.pk, 0)


def test_last_seen_never_moves_back(send: Send) -> None:
    with time_machine.travel(START, tick=False):
        send(page())
        send(page(ts=int(START.timestamp() * 1000) - 10 * 60_000))  # a late beacon
    visitor = only_visitor()
    assert visitor.last_seen_at == START
    assert visitor.total_events == 2


def test_utm_fields_keep_the_last_non_empty_value(send: Send) -> None:
    site_url = "https://www.acme.example/"
    with time_machine.travel(START, tick=False) as clock:
        send(page(url=site_url + "?utm_source=google&utm_medium=cpc&utm_campaign=spring"))
        clock.shift(dt.timedelta(minutes=1))
        send(page(url=site_url + "?utm_source=&utm_campaign=summer"))  # empty source: kept
        clock.shift(dt.timedelta(minutes=1))
        send(page(url=site_url + "pricing"))  # no UTM at all: nothing changes
        clock.shift(dt.timedelta(minutes=1))
        send([page(url=site_url + "?utm_content=banner"), page(url=site_url + "?utm_medium=")])
    visitor = only_visitor()
    assert (visitor.utm_source, visitor.utm_medium) == ("google", "cpc")
    assert (visitor.utm_campaign, visitor.utm_content) == ("summer", "banner")
    assert Event.objects.filter(utm_campaign="summer").count() == 1


def test_outsider_tenant_gets_none_of_it(send: Send, outsider: Membership) -> None:
    with time_machine.travel(START, tick=False):
        send(page())
    assert Visitor.objects.for_tenant(outsider.tenant).count() == 0
    assert Event.objects.for_tenant(outsider.tenant).count() == 0
    assert Visitor.objects.get().tenant_id != outsider.tenant.pk
