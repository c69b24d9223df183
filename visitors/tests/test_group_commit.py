"""Group commit: requests that queue while a group commits are written together, each is
answered only after the COMMIT holding its events, and a bad request fails alone."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db import DataError, OperationalError, connection
from django.utils import timezone

from salesmonk.tenants.models import Membership
from visitors.models import Device, Event, Site, Visitor
from visitors.tests.conftest import ORIGIN, Send, page
from visitors.tracking import ingest
from visitors.tracking.ingest_group import GroupWriter
from visitors.tracking.payload import EventIn


class Gate:
    """A `write_group` that records its calls and holds the first one until released."""

    def __init__(self, fail_with: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_with = fail_with

    def __call__(self, items: Sequence[str]) -> list[int | Exception]:
        self.calls.append(list(items))
        if len(self.calls) == 1:
            self.entered.set()
            assert self.release.wait(5)
        if self.fail_with is not None and len(items) > 1 and self.fail_with in items:
            raise RuntimeError("the group failed")
        if self.fail_with is not None and items == [self.fail_with]:
            raise RuntimeError(f"{self.fail_with} failed")
        return [ValueError("refused") if item == "refused" else len(item) for item in items]


def submit_in_threads(writer: GroupWriter[str], items: list[str]) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}

    def go(item: str) -> None:
        try:
            outcomes[item] = writer.submit(item)
        except Exception as exc:
            outcomes[item] = exc

    threads = [threading.Thread(target=go, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return {"threads": threads, "outcomes": outcomes}


def queued(writer: GroupWriter[Any], count: int) -> Callable[[], bool]:
    return lambda: len(writer._queue) == count


def run_grouped(gate: Gate, later: list[str]) -> tuple[GroupWriter[str], dict[str, Any]]:
    """`first` is written alone while `later` queue behind it; then the gate opens."""
    writer = GroupWriter(write_group=gate)
    first = submit_in_threads(writer, ["first"])
    assert gate.entered.wait(5)
    rest = submit_in_threads(writer, later)
    with writer._wakeup:
        assert writer._wakeup.wait_for(queued(writer, len(later)), timeout=5)
    assert first["outcomes"] == {}  # not answered while its transaction is open
    gate.release.set()
    for thread in first["threads"] + rest["threads"]:
        thread.join(5)
    writer.stop()
    return writer, {**first["outcomes"], **rest["outcomes"]}


def test_requests_queued_during_a_commit_are_one_group_answered_after_it() -> None:
    gate = Gate()
    _writer, outcomes = run_grouped(gate, ["aa", "bbb", "cccc"])
    assert gate.calls[0] == ["first"]
    assert sorted(gate.calls[1]) == ["aa", "bbb", "cccc"]
    assert len(gate.calls) == 2
    assert outcomes == {"first": 5, "aa": 2, "bbb": 3, "cccc": 4}


def test_a_failed_group_is_written_again_one_by_one_and_only_the_bad_request_fails() -> None:
    gate = Gate(fail_with="bad")
    _writer, outcomes = run_grouped(gate, ["aa", "bad", "cccc"])
    assert sorted(gate.calls[1]) == ["aa", "bad", "cccc"]
    assert sorted(map(tuple, gate.calls[2:])) == [("aa",), ("bad",), ("cccc",)]
    assert (outcomes["aa"], outcomes["cccc"]) == (2, 4)
    assert str(outcomes["bad"]) == "bad failed"


class BrokenConnectionGate(Gate):
    """The group's connection breaks: whether the COMMIT happened is unknown."""

    def __call__(self, items: Sequence[str]) -> list[int | Exception]:
        if len(self.calls) == 0:
            return super().__call__(items)
        self.calls.append(list(items))
        connection.errors_occurred = True  # what Django records when the connection fails
        raise OperationalError("server closed the connection unexpectedly")


def test_a_group_whose_connection_broke_is_not_written_twice() -> None:
    gate = BrokenConnectionGate()
    _writer, outcomes = run_grouped(gate, ["aa", "bbb"])
    assert [sorted(call) for call in gate.calls] == [["first"], ["aa", "bbb"]]
    assert outcomes["first"] == 5
    assert all(isinstance(outcomes[item], OperationalError) for item in ("aa", "bbb"))


def test_a_request_refused_inside_a_group_fails_alone() -> None:
    gate = Gate()
    _writer, outcomes = run_grouped(gate, ["aa", "refused"])
    assert len(gate.calls) == 2
    assert outcomes["aa"] == 2
    assert isinstance(outcomes["refused"], ValueError)


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the group writer serves PostgreSQL"
)


def submission(
    site: Site, anonymous_id: str, *, title: str = "Acme", origin: str | None = ORIGIN
) -> ingest.Submission:
    at = timezone.now() - dt.timedelta(seconds=1)
    events = [
        EventIn(type="page", anonymous_id=anonymous_id, occurred_at=at, url=ORIGIN, title=title)
    ] * 2
    return ingest.Submission(tenant=site.tenant, site=site, events=events, origin=origin)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_group_on_postgresql_keeps_the_good_requests_of_a_bad_group(site: Site) -> None:
    too_long = "x" * 600  # past the column: the database refuses it, not the validation
    groups: list[int] = []
    entered, release = threading.Event(), threading.Event()

    def write_group(subs: Sequence[ingest.Submission]) -> list[int | Exception]:
        groups.append(len(subs))
        if len(groups) == 1:
            entered.set()
            assert release.wait(5)
        return ingest._group_record(subs)

    writer: GroupWriter[ingest.Submission] = GroupWriter(write_group=write_group)
    results: dict[str, Any] = {}

    def go(name: str, sub: ingest.Submission) -> None:
        try:
            results[name] = writer.submit(sub)
        except Exception as exc:
            results[name] = exc

    first = threading.Thread(target=go, args=("first", submission(site, "device-zero")))
    first.start()
    assert entered.wait(5)
    subs = {
        "one": submission(site, "device-one"),
        "bad": submission(site, "device-bad", title=too_long),
        "two": submission(site, "device-two"),
    }
    threads = [threading.Thread(target=go, args=item) for item in subs.items()]
    for thread in threads:
        thread.start()
    with writer._wakeup:
        assert writer._wakeup.wait_for(queued(writer, 3), timeout=5)
    release.set()
    for thread in [first, *threads]:
        thread.join(10)
    writer.stop()
    assert groups == [1, 3, 1, 1, 1]  # the group of three failed, then one by one
    assert (results["first"], results["one"], results["two"]) == (2, 2, 2)
    assert isinstance(results["bad"], DataError)
    for device in ("device-zero", "device-one", "device-two"):
        assert Event.objects.filter(device__anonymous_id=device).count() == 2
    assert not Event.objects.filter(title=too_long).exists()
    assert Visitor.objects.count() == 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_writer_reads_the_site_again_where_it_writes(
    send: Send, site: Site, outsider_site: Site, outsider: Membership
) -> None:
    assert send(page()).status_code == 202  # this process now remembers the site
    assert ingest._WRITER._thread is not None  # and the write went through the writer
    Site.objects.filter(pk=site.pk).update(allowed_domains=["other.example"])
    refused = send(page())
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "This origin is not allowed to send events for this site."},
    )
    assert "Access-Control-Allow-Origin" not in refused
    Site.objects.filter(pk=site.pk).update(allowed_domains=["acme.example"], is_active=False)
    gone = send(page())
    assert (gone.status_code, gone.json()) == (404, {"error": "Unknown site key."})
    assert Event.objects.count() == 1
    assert Visitor.objects.for_tenant(outsider.tenant).count() == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_requests_refused_by_the_fresh_site_read_write_nothing_beside_accepted_ones(
    site: Site, outsider_site: Site
) -> None:
    (known,) = ingest._group_record([submission(outsider_site, "globex-known", origin=None)])
    assert known == 2
    seen = Device.objects.get(anonymous_id="globex-known").last_seen_at
    outsider_site.is_active = False
    outsider_site.save()
    results = ingest._group_record(
        [
            submission(outsider_site, "globex-known", origin=None),  # its device is locked
            submission(site, "acme-new"),
            submission(outsider_site, "globex-new", origin=None),  # its device is missing
            submission(site, "acme-bad-origin", origin="https://evil.example"),
        ]
    )
    assert results[1] == 2
    assert [(r.status, r.message) for r in results if isinstance(r, ingest.SiteRefused)] == [
        (404, "Unknown site key."),
        (404, "Unknown site key."),
        (403, "This origin is not allowed to send events for this site."),
    ]
    assert set(Device.objects.values_list("anonymous_id", flat=True)) == {
        "globex-known",
        "acme-new",
    }
    assert Device.objects.get(anonymous_id="globex-known").last_seen_at == seen
    assert Event.objects.filter(site=outsider_site).count() == 2
    assert Event.objects.filter(site=site).count() == 2
    assert Visitor.objects.count() == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_domain_added_to_a_remembered_site_applies_at_once(send: Send, site: Site) -> None:
    assert send(page()).status_code == 202
    assert send(page(), origin="https://www.initech.example").status_code == 403
    Site.objects.filter(pk=site.pk).update(allowed_domains=["acme.example", "initech.example"])
    assert send(page(), origin="https://www.initech.example").status_code == 202
    assert Event.objects.count() == 2


@postgres_only
@pytest.mark.django_db
def test_devices_and_sessions_keep_room_on_their_pages_for_updated_rows() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
            [["visitors_device", "visitors_session", "visitors_visitor"]],
        )
        options = dict(cursor.fetchall())
    assert options == {
        "visitors_device": ["fillfactor=80"],
        "visitors_session": ["fillfactor=80"],
        "visitors_visitor": None,
    }
