"""Concurrent requests for one person keep every counter exact (meaningful on PostgreSQL,
where the two threads really overlap; SQLite serializes writers)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from salesmonk.tenants.models import Membership
from visitors.models import Device, Event, Session, Visitor
from visitors.tests.conftest import Send, page

pytestmark = pytest.mark.django_db(transaction=True)

PER_THREAD = 25
# SQLite's shared in-memory test database answers "table is locked" at once instead of
# waiting like a file database does, so there the threads take turns per request (they
# still interleave); on PostgreSQL they overlap for real.
_turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()


def run_in_threads(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(target: Callable[[], None]) -> None:
        try:
            barrier.wait()
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def hammer(send: Send, anonymous_id: str) -> Callable[[], None]:
    def go() -> None:
        for _ in range(PER_THREAD):
            with _turns:
                response = send([page(), page()], anonymous_id=anonymous_id)
            assert response.status_code == 202, response.content

    return go


def test_two_threads_one_device(send: Send, outsider: Membership) -> None:
    send(page(), anonymous_id="shared-device")
    run_in_threads(hammer(send, "shared-device"), hammer(send, "shared-device"))
    visitor = Visitor.objects.get()
    expected = 1 + 2 * 2 * PER_THREAD
    assert visitor.total_events == expected
    assert visitor.total_sessions == 1
    assert Session.objects.get().event_count == expected
    assert Event.objects.count() == expected
    assert Visitor.objects.for_tenant(outsider.tenant).count() == 0


def test_two_threads_two_devices_of_one_person(send: Send) -> None:
    for device in ("laptop-0001", "phone-00001"):
        send({"type": "identify", "email": "ann@initech.com"}, anonymous_id=device)
    run_in_threads(hammer(send, "laptop-0001"), hammer(send, "phone-00001"))
    person = Visitor.objects.get(merged_into__isnull=True)
    assert person.total_events == 2 + 2 * 2 * PER_THREAD
    assert person.total_sessions == 2
    assert Device.objects.filter(visitor=person).count() == 2


def test_two_devices_identify_with_one_email_at_once(send: Send) -> None:
    for device in ("laptop-0001", "phone-00001"):
        send(page(), anonymous_id=device)

    def identify(device: str) -> Callable[[], None]:
        def go() -> None:
            body = [{"type": "identify", "email": "ann@initech.com"}, page()]
            with _turns:
                assert send(body, anonymous_id=device).status_code == 202

        return go

    run_in_threads(identify("laptop-0001"), identify("phone-00001"))
    person = Visitor.objects.get(merged_into__isnull=True)
    assert (person.total_sessions, person.total_events) == (2, 6)
    assert set(Device.objects.values_list("visitor_id", flat=True)) == {person.pk}
