"""Slack alerts end to end: events through the ingest endpoint, the every-minute task
(django-q2 in sync mode), posts to a local Slack receiver over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.factories import AccountFactory, ContactFactory, UserFactory
from crm.models import Account, MemberLink
from salesmonk.tenants.models import Membership, Tenant
from visitors.alerts import services as alerts
from visitors.alerts import tasks
from visitors.models import (
    AlertDelivery,
    AlertKind,
    AlertRule,
    AlertScan,
    Segment,
    SlackWebhook,
    Visitor,
)
from visitors.tests.conftest import Send, page
from visitors.tests.slack_receiver import Reply, SlackReceiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("q_sync")]

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SITE = "https://www.acme.example"


@pytest.fixture
def rep(tenant: Tenant, owner: Membership) -> Any:
    """Dana, the Salesforce owner of Initech, linked to the SalesMonk owner with a Slack id."""
    crm_user = UserFactory(tenant=tenant, name="Dana Rep", email="dana@acme.example")
    owner.slack_user_id = "U0DANA01"
    owner.save(update_fields=["slack_user_id"])
    MemberLink.objects.create(tenant=tenant, membership=owner, user=crm_user)
    account = AccountFactory(
        tenant=tenant, name="Initech Corp", domain="initech.com", owner=crm_user
    )
    ContactFactory(tenant=tenant, account=account, owner=crm_user, email="ann@initech.com")
    return crm_user


@pytest.fixture
def owner_rule(tenant: Tenant, owner: Membership, slack_receiver: SlackReceiver) -> AlertRule:
    webhook = alerts.webhook_create(
        tenant=tenant, acting_user=owner.user, name="#sales", url=slack_receiver.url()
    )
    return alerts.alert_rule_create(
        tenant=tenant,
        acting_user=owner.user,
        name="Owner visits",
        kind=AlertKind.OWNED_ACCOUNT,
        webhook=webhook,
    )


@pytest.fixture
def tick(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[[], dict]:
    """What the schedule runs every minute, with the tasks it queues run inline on commit."""

    def run() -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.alerts_tick()

    return run


def visit(send: Send, path: str = "/", *, device: str = "device-one", **extra: Any) -> None:
    response = send(page(url=SITE + path, **extra), anonymous_id=device)
    assert response.status_code == 202, response.content


def identify(send: Send, *, device: str = "device-one", **traits: Any) -> None:
    response = send({"type": "identify", **traits}, anonymous_id=device)
    assert response.status_code == 202, response.content


def test_owned_account_visit_posts_once_per_session_with_the_owner_mention(
    send: Send, rep: Any, owner_rule: AlertRule, slack_receiver: SlackReceiver, tick: Any
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        visit(send, "/pricing?utm_source=google&utm_campaign=spring", title="Pricing")
        identify(send, email="ann@initech.com", first_name="Ann", last_name="Lee")
        clock.shift(dt.timedelta(minutes=1))
        assert tick() == {"scans": 1, "requeued": 0}

        assert len(slack_receiver.posts) == 1
        post = slack_receiver.posts[0]
        visitor = Visitor.objects.get(merged_into__isnull=True)
        assert post.text == "<@U0DANA01>: Ann Lee from initech.com is on the website"
        assert post.json["blocks"][0]["text"]["text"] == (
            f"<@U0DANA01>: *<http://127.0.0.1:8000/contact/details/{visitor.pk}|Ann Lee>* from "
            f"*<http://127.0.0.1:8000/accounts/{visitor.company_id}|initech.com>* "
            "is on the website."
        )
        fields = [f["text"] for f in post.json["blocks"][1]["fields"]]
        assert fields[1] == (
            f"*Company*\n<http://127.0.0.1:8000/accounts/{visitor.company_id}|initech.com>"
            "\nSalesforce account: Initech Corp"
        )
        assert fields[2:] == [
            "*Owner*\n<@U0DANA01> — account owner",
            "*Source · campaign*\ngoogle · spring",
        ]
        assert post.json["blocks"][2]["text"]["text"] == "*Pages this visit*\n• Pricing — /pricing"
        delivery = AlertDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.rule_id) == ("sent", 1, owner_rule.pk)
        assert delivery.text == post.text

        # More of the same session: nothing new.
        clock.shift(dt.timedelta(minutes=2))
        visit(send, "/docs", title="Docs")
        clock.shift(dt.timedelta(minutes=1))
        tick()
        assert len(slack_receiver.posts) == 1

        # 31 minutes of silence, then a new session: a second post.
        clock.shift(dt.timedelta(minutes=31))
        visit(send, "/blog", title="Blog")
        clock.shift(dt.timedelta(minutes=1))
        tick()
    assert len(slack_receiver.posts) == 2
    assert slack_receiver.posts[1].json["blocks"][2]["text"]["text"] == (
        "*Pages this visit*\n• Blog — /blog"
    )
    assert AlertDelivery.objects.filter(status="sent").count() == 2


def test_owner_without_slack_id_is_named_in_bold(
    send: Send,
    rep: Any,
    owner: Membership,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    tick: Any,
) -> None:
    Membership.objects.filter(pk=owner.pk).update(slack_user_id="")
    with time_machine.travel(START, tick=False) as clock:
        identify(send, email="ann@initech.com")
        clock.shift(dt.timedelta(minutes=1))
        tick()
    assert [p.text for p in slack_receiver.posts] == [
        "*Dana Rep*: ann@initech.com from initech.com is on the website"
    ]


def test_visitors_nobody_owns_are_not_posted(
    send: Send,
    tenant: Tenant,
    rep: Any,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    tick: Any,
) -> None:
    """Only owners of existing records are alerted: Dana, the installer, is whom a Lead
    for the unknown visitor would go to, and that is no reason to post."""
    from integrations.models import SalesforceConnection

    SalesforceConnection.objects.create(tenant=tenant, installer_remote_id=rep.remote_id)
    with time_machine.travel(START, tick=False) as clock:
        visit(send)  # anonymous, no company
        identify(send, email="someone@unknown-co.com", device="device-two")
        clock.shift(dt.timedelta(minutes=1))
        tick()
    assert slack_receiver.posts == []
    assert not AlertDelivery.objects.exists()


def test_user_supplied_values_are_escaped_in_the_posted_json(
    send: Send,
    tenant: Tenant,
    rep: Any,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    tick: Any,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        visit(send, "/<b>", title="<script>alert(1)</script> & <!channel>")
        identify(
            send,
            email="ann@initech.com",
            first_name="<script>",
            last_name="<!channel> & <!here>",
        )
        clock.shift(dt.timedelta(minutes=1))
        tick()
    raw = slack_receiver.posts[0].raw
    assert "&lt;script&gt;" in raw
    assert "&lt;!channel&gt; &amp; &lt;!here&gt;" in raw
    assert "<!channel>" not in raw
    assert "<!here>" not in raw
    assert "<script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt; — /&lt;b&gt;" in raw


def test_a_slack_error_is_retried_with_backoff_and_posted_once(
    send: Send, rep: Any, owner_rule: AlertRule, slack_receiver: SlackReceiver, tick: Any
) -> None:
    slack_receiver.reply(
        Reply(500, "rollup_error"), Reply(429, "rate_limited", {"Retry-After": "200"})
    )
    with time_machine.travel(START, tick=False) as clock:
        identify(send, email="ann@initech.com")
        clock.shift(dt.timedelta(minutes=1))
        tick()
        delivery = AlertDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == "Slack answered 500: rollup_error"
        assert delivery.next_attempt_at == START + dt.timedelta(minutes=2)

        clock.shift(dt.timedelta(minutes=1, seconds=30))  # due, but within the sweep's grace
        assert tick()["requeued"] == 0
        clock.shift(dt.timedelta(minutes=1))
        assert tick()["requeued"] == 1  # second attempt: 429, Retry-After 200 s > 2 min backoff
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 2)
        assert delivery.next_attempt_at == START + dt.timedelta(minutes=3, seconds=30 + 200)

        clock.shift(dt.timedelta(minutes=5))
        tick()
        tick()  # a duplicate pick-up posts nothing more
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert len(slack_receiver.posts) == 3
    assert len({p.raw for p in slack_receiver.posts}) == 1


def test_a_send_task_run_twice_posts_once(
    send: Send,
    rep: Any,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        identify(send, email="ann@initech.com")
        clock.shift(dt.timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=False):
            tasks.alerts_scan(str(owner_rule.tenant_id))
        delivery = AlertDelivery.objects.get()
        assert tasks.alert_send(delivery.pk) == "sent"
        assert tasks.alert_send(delivery.pk) == "skipped"
    assert len(slack_receiver.posts) == 1


def test_a_dead_webhook_fails_at_once_and_is_switched_off_with_the_reason(
    send: Send, rep: Any, owner_rule: AlertRule, slack_receiver: SlackReceiver, tick: Any
) -> None:
    slack_receiver.reply(Reply(404, "no_service"))
    with time_machine.travel(START, tick=False) as clock:
        identify(send, email="ann@initech.com")
        clock.shift(dt.timedelta(minutes=1))
        tick()
        delivery = AlertDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("failed", 1)
        assert delivery.last_error == "Slack refused the webhook (404 no_service)."
        webhook = SlackWebhook.objects.get()
        assert webhook.is_active is False
        assert webhook.disabled_reason == "Slack refused the webhook (404 no_service)."

        # Its rules stop: a new session of the same visitor is not evaluated any more.
        clock.shift(dt.timedelta(minutes=40))
        visit(send)
        clock.shift(dt.timedelta(minutes=1))
        assert tick() == {"scans": 0, "requeued": 0}
    assert len(slack_receiver.posts) == 1
    assert AlertDelivery.objects.count() == 1


def test_another_tenants_rules_never_fire_for_our_visitors(
    send: Send,
    rep: Any,
    outsider: Membership,
    slack_receiver: SlackReceiver,
    tick: Any,
) -> None:
    """Globex has an owner rule and even mirrors the same contact; our visit is not theirs."""
    their_rep = UserFactory(tenant=outsider.tenant, name="Globex Rep")
    account = AccountFactory(tenant=outsider.tenant, domain="initech.com", owner=their_rep)
    ContactFactory(
        tenant=outsider.tenant, account=account, owner=their_rep, email="ann@initech.com"
    )
    webhook = alerts.webhook_create(
        tenant=outsider.tenant,
        acting_user=outsider.user,
        name="#globex",
        url=slack_receiver.url("/services/T0GLOBEX/B0GLOBEX/globex"),
    )
    alerts.alert_rule_create(
        tenant=outsider.tenant,
        acting_user=outsider.user,
        name="Globex owners",
        kind=AlertKind.OWNED_ACCOUNT,
        webhook=webhook,
    )
    with time_machine.travel(START, tick=False) as clock:
        identify(send, email="ann@initech.com")
        clock.shift(dt.timedelta(minutes=1))
        assert tick() == {"scans": 1, "requeued": 0}
    assert slack_receiver.posts == []
    assert not AlertDelivery.objects.exists()


def test_the_scan_costs_the_same_queries_for_2_or_40_visitors(
    send: Send,
    tenant: Tenant,
    rep: Any,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = Account.objects.get(tenant=tenant, domain="initech.com")
    contacts = [
        ContactFactory(tenant=tenant, account=account, owner=rep, email=f"p{i}@initech.com")
        for i in range(40)
    ]

    def scan_queries(people: list[Any], minute: int) -> int:
        with time_machine.travel(START + dt.timedelta(hours=minute), tick=False) as clock:
            for i, contact in enumerate(people):
                identify(send, email=contact.email, device=f"dev-{minute}-{i:04d}")
            clock.shift(dt.timedelta(minutes=1))
            with (
                django_capture_on_commit_callbacks(execute=False) as queued,
                CaptureQueriesContext(connection) as queries,
            ):
                result = alerts.alerts_scan(tenant=tenant)
            assert len(result.deliveries) == len(people)
            assert len(queued) == 1
            return len(queries)

    few = scan_queries(contacts[:2], 1)
    many = scan_queries(contacts[2:], 2)
    assert few == many
    assert few <= 17  # 15 statements and the batch's savepoint pair


def test_late_commits_inside_the_overlap_are_still_posted(
    send: Send, rep: Any, owner_rule: AlertRule, slack_receiver: SlackReceiver, tick: Any
) -> None:
    """An event stamped before the last scan but committed after it (a slow request, a late
    beacon) is found by the next scan, which re-reads the overlap before its watermark."""
    with time_machine.travel(START, tick=False) as clock:
        tick()
        assert AlertScan.objects.get().scanned_until == START
        clock.shift(dt.timedelta(minutes=4))
        stamped = int((START - dt.timedelta(minutes=2)).timestamp() * 1000)
        identify(send, email="ann@initech.com", ts=stamped)
        tick()
    assert len(slack_receiver.posts) == 1
    assert AlertScan.objects.get().scanned_until == START + dt.timedelta(minutes=4)


def test_segment_rule_posts_visitors_of_the_segment_to_its_channel(
    send: Send,
    tenant: Tenant,
    owner: Membership,
    rep: Any,
    slack_receiver: SlackReceiver,
    tick: Any,
) -> None:
    segment = Segment.objects.create(
        tenant=tenant, name="LinkedIn & <ads>", filters={"utm_source": "linkedin"}
    )
    webhook = alerts.webhook_create(
        tenant=tenant,
        acting_user=owner.user,
        name="#marketing",
        url=slack_receiver.url("/services/T0SALESMK/B0MARKET/marketing"),
    )
    alerts.alert_rule_create(
        tenant=tenant,
        acting_user=owner.user,
        name="LinkedIn arrivals",
        kind=AlertKind.SEGMENT,
        webhook=webhook,
        segment=segment,
    )
    with time_machine.travel(START, tick=False) as clock:
        visit(send, "/?utm_source=linkedin", device="linkedin-1", title="Home")
        visit(send, "/?utm_source=google", device="google-01")
        identify(send, email="ann@initech.com", device="google-01")  # owned, not in segment
        clock.shift(dt.timedelta(minutes=1))
        tick()
        clock.shift(dt.timedelta(minutes=2))
        visit(send, "/jobs", device="linkedin-1")
        clock.shift(dt.timedelta(minutes=1))
        tick()
    assert [(p.path, p.text) for p in slack_receiver.posts] == [
        ("/services/T0SALESMK/B0MARKET/marketing", "Anonymous visitor is on the website")
    ]
    headline = slack_receiver.posts[0].json["blocks"][0]["text"]["text"]
    assert headline.endswith(
        "|Anonymous visitor>* is on the website (segment *LinkedIn &amp; &lt;ads&gt;*)."
    )
    delivery = AlertDelivery.objects.get()
    assert delivery.visitor.utm_source == "linkedin"


def test_segment_rules_cost_one_query_each_per_batch(
    send: Send,
    tenant: Tenant,
    owner: Membership,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for n in range(2):
        alerts.alert_rule_create(
            tenant=tenant,
            acting_user=owner.user,
            name=f"Segment {n}",
            kind=AlertKind.SEGMENT,
            webhook=owner_rule.webhook,
            segment=Segment.objects.create(
                tenant=tenant, name=f"S{n}", filters={"utm_source": f"src{n}"}
            ),
        )

    def scan_queries(count: int, hour: int) -> int:
        with time_machine.travel(START + dt.timedelta(hours=hour), tick=False) as clock:
            for i in range(count):
                visit(send, f"/?utm_source=src{i % 2}", device=f"seg-{hour}-{i:04d}")
            clock.shift(dt.timedelta(minutes=1))
            with (
                django_capture_on_commit_callbacks(execute=False),
                CaptureQueriesContext(connection) as queries,
            ):
                result = alerts.alerts_scan(tenant=tenant)
            assert len(result.deliveries) == count
            return len(queries)

    assert scan_queries(2, 1) == scan_queries(30, 2)


def test_a_busy_minute_is_scanned_in_keyset_batches(
    send: Send,
    tenant: Tenant,
    rep: Any,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(alerts, "SCAN_BATCH", 3)
    account = Account.objects.get(tenant=tenant, domain="initech.com")
    with time_machine.travel(START, tick=False) as clock:
        for i in range(7):
            ContactFactory(tenant=tenant, account=account, owner=rep, email=f"b{i}@initech.com")
            identify(send, email=f"b{i}@initech.com", device=f"busy-{i:04d}")
            clock.shift(dt.timedelta(seconds=1))
        clock.shift(dt.timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=False):
            result = alerts.alerts_scan(tenant=tenant)
    assert (result.sessions, result.batches, len(result.deliveries)) == (7, 3, 7)
    assert AlertDelivery.objects.count() == 7


def test_visits_long_over_are_not_announced_after_a_pause(
    send: Send,
    tenant: Tenant,
    rep: Any,
    owner: Membership,
    owner_rule: AlertRule,
    slack_receiver: SlackReceiver,
    tick: Any,
) -> None:
    """Alerts paused for a day (or a stopped cluster): switched back on, only visits of the
    last hour are posted, not the whole day since the watermark."""
    with time_machine.travel(START, tick=False) as clock:
        tick()
        alerts.webhook_set_active(
            tenant=tenant, acting_user=owner.user, webhook=owner_rule.webhook, active=False
        )
        clock.shift(dt.timedelta(hours=20))
        identify(send, email="ann@initech.com", device="early-bird")
        clock.shift(dt.timedelta(hours=4))
        identify(send, email="ann@initech.com", device="just-now-1")
        alerts.webhook_set_active(
            tenant=tenant, acting_user=owner.user, webhook=owner_rule.webhook, active=True
        )
        clock.shift(dt.timedelta(minutes=1))
        tick()
    assert len(slack_receiver.posts) == 1
    assert AlertDelivery.objects.get().session.device.anonymous_id == "just-now-1"
