"""The Slack client against the local receiver (and a silent socket): escaping, typed errors,
timeouts; and the send task's give-up and stale-claim paths."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from integrations.slack import client as slack
from salesmonk.tenants.models import Membership, Tenant
from visitors.alerts import services as alerts
from visitors.alerts import tasks
from visitors.models import AlertDelivery, AlertKind, Device, Session, Site, Visitor
from visitors.tests.slack_receiver import Reply, SlackReceiver

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_escape_follows_slacks_three_rules() -> None:
    assert slack.escape("<!channel> & <@U123> > <script>") == (
        "&lt;!channel&gt; &amp; &lt;@U123&gt; &gt; &lt;script&gt;"
    )
    assert slack.escape("&amp;") == "&amp;amp;"


def test_a_2xx_is_accepted_and_the_body_is_what_slack_expects(
    slack_receiver: SlackReceiver,
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    slack.webhook_post(slack_receiver.url(), text="fallback", blocks=blocks)
    assert [p.json for p in slack_receiver.posts] == [{"text": "fallback", "blocks": blocks}]


@pytest.mark.parametrize(
    ("reply", "kind", "dead", "retry_after"),
    [
        (Reply(500, "rollup_error"), slack.SlackRetryableError, False, None),
        (Reply(503, ""), slack.SlackRetryableError, False, None),
        (Reply(429, "", {"Retry-After": "30"}), slack.SlackRetryableError, False, 30.0),
        (Reply(429, "", {"Retry-After": "soon"}), slack.SlackRetryableError, False, None),
        (Reply(400, "invalid_payload"), slack.SlackPermanentError, False, None),
        (Reply(403, "invalid_token"), slack.SlackPermanentError, True, None),
        (Reply(404, "no_service"), slack.SlackPermanentError, True, None),
        (Reply(410, "channel_is_archived"), slack.SlackPermanentError, True, None),
        (
            Reply(302, "", {"Location": "http://169.254.169.254/"}),
            slack.SlackPermanentError,
            False,
            None,
        ),
    ],
)
def test_slack_answers_become_typed_errors(
    slack_receiver: SlackReceiver, reply: Reply, kind: type, dead: bool, retry_after: Any
) -> None:
    slack_receiver.reply(reply)
    with pytest.raises(kind) as caught:
        slack.webhook_post(slack_receiver.url(), text="x")
    assert caught.value.status == reply.status
    assert getattr(caught.value, "webhook_dead", False) is dead
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert len(slack_receiver.posts) == 1  # a redirect is not followed


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


def test_a_silent_server_is_a_retryable_timeout(
    slack_receiver: SlackReceiver, silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack, "TIMEOUT", (1.0, 0.3))
    with pytest.raises(slack.SlackRetryableError, match=r"^Slack did not answer in time\.$"):
        slack.webhook_post(f"http://127.0.0.1:{silent_port}/services/T0/B0/x", text="x")


def test_nothing_listening_is_retryable(slack_receiver: SlackReceiver) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(slack.SlackRetryableError, match="Could not reach Slack"):
        slack.webhook_post(f"http://127.0.0.1:{port}/services/T0/B0/x", text="x")


def test_a_url_outside_the_allowed_hosts_is_never_called(slack_receiver: SlackReceiver) -> None:
    with pytest.raises(slack.InvalidWebhookUrl):
        slack.webhook_post(slack_receiver.url().replace("127.0.0.1", "localhost"), text="x")
    assert slack_receiver.posts == []


def test_a_stored_url_with_a_port_is_never_called(slack_receiver: SlackReceiver) -> None:
    """Rows saved before ports were refused: the send refuses them (and switches the
    webhook off) rather than calling another port."""
    with pytest.raises(slack.InvalidWebhookUrl, match="remove “:6379”") as caught:
        slack.webhook_post("https://hooks.slack.com:6379/services/T0/B0/x", text="x")
    assert caught.value.webhook_dead
    assert slack_receiver.posts == []


def test_loopback_hosts_are_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import salesmonk.settings

    monkeypatch.setenv("SALESMONK_ENV_FILE", "none")
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("ALLOWED_HOSTS", "app.example.com")
    monkeypatch.setenv("SALESFORCE_EMULATOR_URL", "")
    monkeypatch.setenv("SALESMONK_ENCRYPTION_KEYS", "c2FsZXNtb25rLWxvY2FsLWRldmVsb3BtZW50LWtleSE=")
    monkeypatch.setenv("SLACK_WEBHOOK_HOSTS", "hooks.slack.com,127.0.0.1")
    try:
        with pytest.raises(ImproperlyConfigured, match="SLACK_WEBHOOK_HOSTS may name loopback"):
            importlib.reload(salesmonk.settings)
    finally:
        monkeypatch.undo()
        importlib.reload(salesmonk.settings)


# --- The send task's edges -------------------------------------------------------------------


@pytest.fixture
def delivery(tenant: Tenant, owner: Membership, slack_receiver: SlackReceiver) -> AlertDelivery:
    webhook = alerts.webhook_create(
        tenant=tenant, acting_user=owner.user, name="#sales", url=slack_receiver.url()
    )
    rule = alerts.alert_rule_create(
        tenant=tenant,
        acting_user=owner.user,
        name="Owners",
        kind=AlertKind.OWNED_ACCOUNT,
        webhook=webhook,
    )
    site = Site.objects.create(tenant=tenant, name="Acme", allowed_domains=["acme.example"])
    visitor = Visitor.objects.create(tenant=tenant, first_seen_at=START, last_seen_at=START)
    device = Device.objects.create(
        tenant=tenant,
        site=site,
        anonymous_id="device-one",
        visitor=visitor,
        first_seen_at=START,
        last_seen_at=START,
    )
    session = Session.objects.create(
        tenant=tenant, visitor=visitor, device=device, started_at=START, last_event_at=START
    )
    return AlertDelivery.objects.create(
        tenant=tenant,
        rule=rule,
        visitor=visitor,
        session=session,
        text="Someone is on the website",
        next_attempt_at=START,
    )


@pytest.mark.django_db
def test_retryable_failures_give_up_after_five_attempts(
    delivery: AlertDelivery, slack_receiver: SlackReceiver
) -> None:
    slack_receiver.reply(*[Reply(502, "bad gateway")] * 5)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            assert tasks.alert_send(delivery.pk) in ("pending", "failed")
            clock.shift(dt.timedelta(minutes=20))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 5)
    assert delivery.last_error == "Slack answered 502: bad gateway (gave up)"
    assert len(slack_receiver.posts) == 5
    assert tasks.alert_send(delivery.pk) == "skipped"


@pytest.mark.django_db
def test_a_retry_is_not_sent_before_it_is_due(
    delivery: AlertDelivery, slack_receiver: SlackReceiver
) -> None:
    slack_receiver.reply(Reply(500, "x"))
    with time_machine.travel(START, tick=False) as clock:
        assert tasks.alert_send(delivery.pk) == "pending"
        clock.shift(dt.timedelta(seconds=59))
        assert tasks.alert_send(delivery.pk) == "skipped"
        clock.shift(dt.timedelta(seconds=1))
        assert tasks.alert_send(delivery.pk) == "sent"
    assert len(slack_receiver.posts) == 2


@pytest.mark.django_db
def test_a_delivery_left_sending_by_a_dead_worker_is_handed_out_again(
    delivery: AlertDelivery, slack_receiver: SlackReceiver, q_sync: None
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            status="sending", claimed_at=START, attempts=1
        )
        clock.shift(dt.timedelta(minutes=1))
        assert tasks.alerts_tick()["requeued"] == 0  # maybe still posting
        clock.shift(dt.timedelta(minutes=2))
        tasks.alerts_tick()  # stale: back to pending, due after the sweep's grace
        clock.shift(dt.timedelta(minutes=1))
        assert tasks.alerts_tick()["requeued"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(slack_receiver.posts) == 1


@pytest.mark.django_db
def test_a_switched_off_webhook_fails_its_pending_deliveries_without_posting(
    delivery: AlertDelivery, slack_receiver: SlackReceiver, owner: Membership
) -> None:
    alerts.webhook_set_active(
        tenant=delivery.tenant, acting_user=owner.user, webhook=delivery.rule.webhook, active=False
    )
    with time_machine.travel(START, tick=False):
        assert tasks.alert_send(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == "The webhook is switched off."
    assert slack_receiver.posts == []


@pytest.mark.django_db
def test_the_alerts_schedule_is_created_once_every_minute() -> None:
    from io import StringIO

    from django.core.management import call_command
    from django_q.models import Schedule

    out = StringIO()
    call_command("alerts_schedules", stdout=out)
    call_command("alerts_schedules", stdout=out)
    schedule = Schedule.objects.get(name="slack-alerts")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "visitors.alerts.tasks.alerts_tick",
        Schedule.MINUTES,
        1,
        -1,
    )
    assert out.getvalue() == "Slack alerts scheduled every minute.\n" * 2


@pytest.mark.django_db
def test_a_schedule_naming_the_tick_at_its_former_path_is_pointed_at_it() -> None:
    from django.utils import timezone
    from django_q.models import Schedule

    from visitors.alerts.schedules import ALERTS_SCHEDULE, alerts_schedule_ensure

    next_run = timezone.now() + dt.timedelta(seconds=40)
    # As a database scheduled before the alerts had their own package holds it.
    Schedule.objects.update_or_create(
        name=ALERTS_SCHEDULE,
        defaults={
            "func": "visitors.tasks.alerts_tick",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": next_run,
        },
    )

    alerts_schedule_ensure()

    schedule = Schedule.objects.get(name=ALERTS_SCHEDULE)
    assert (schedule.func, schedule.next_run) == ("visitors.alerts.tasks.alerts_tick", next_run)
