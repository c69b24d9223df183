"""The alerts pages: webhooks (URL checks, encrypted, test message), rules, roles, the
delivery log (paginated, fixed query counts) and escaping."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import AuditEvent, Membership, Role, Tenant
from visitors.alerts import services as alerts
from visitors.models import (
    AlertDelivery,
    AlertKind,
    AlertRule,
    AlertScan,
    Device,
    Segment,
    Session,
    Site,
    SlackWebhook,
    Visitor,
)
from visitors.tests.slack_receiver import Reply, SlackReceiver

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T0ACME000/B0ACME000/abcdefghijklmnopqrstuvwx"


@pytest.fixture
def webhook(tenant: Tenant, owner: Membership) -> SlackWebhook:
    return alerts.webhook_create(
        tenant=tenant, acting_user=owner.user, name="#sales", url=SLACK_URL
    )


@pytest.fixture
def member_client(tenant: Tenant) -> Client:
    client = Client()
    client.force_login(MembershipFactory(tenant=tenant, role=Role.MEMBER).user)
    return client


def make_rules(tenant: Tenant, owner: Membership, webhook: SlackWebhook, n: int) -> list[AlertRule]:
    return [
        alerts.alert_rule_create(
            tenant=tenant,
            acting_user=owner.user,
            name=f"Rule {i}",
            kind=AlertKind.OWNED_ACCOUNT,
            webhook=webhook,
        )
        for i in range(n)
    ]


def make_deliveries(tenant: Tenant, rule: AlertRule, n: int, *, name: str = "Ann") -> None:
    site = Site.objects.create(tenant=tenant, name="Acme", allowed_domains=["acme.example"])
    now = timezone.now()
    rows = []
    for i in range(n):
        visitor = Visitor.objects.create(
            tenant=tenant, first_name=name, last_name=str(i), first_seen_at=now, last_seen_at=now
        )
        device = Device.objects.create(
            tenant=tenant,
            site=site,
            anonymous_id=f"device-{i:05d}",
            visitor=visitor,
            first_seen_at=now,
            last_seen_at=now,
        )
        session = Session.objects.create(
            tenant=tenant, visitor=visitor, device=device, started_at=now, last_event_at=now
        )
        rows.append(
            AlertDelivery(
                tenant=tenant,
                rule=rule,
                visitor=visitor,
                session=session,
                status="failed" if i % 2 else "sent",
                attempts=1,
                last_error="Slack answered 500" if i % 2 else "",
            )
        )
    AlertDelivery.objects.bulk_create(rows)


# --- Webhooks --------------------------------------------------------------------------------


def test_an_owner_adds_a_webhook_stored_encrypted_and_audited(
    owner_client: Client, tenant: Tenant
) -> None:
    response = owner_client.post(
        reverse("alert_webhook_create"), {"name": "#sales", "url": f"  {SLACK_URL} "}
    )
    assert response.status_code == 302
    webhook = SlackWebhook.objects.get()
    assert (webhook.tenant_id, webhook.name, webhook.url) == (tenant.pk, "#sales", SLACK_URL)
    assert SLACK_URL not in webhook.url_encrypted
    event = AuditEvent.objects.get(action="alerts.webhook_added")
    assert (event.target, event.data) == ("#sales", {"webhook_id": str(webhook.pk)})

    page = owner_client.get(reverse("alert_list")).content.decode()
    assert "hooks.slack.com/services/T0A…/B0A…/••••" in page
    assert "abcdefghijklmnop" not in page


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("", "This field is required."),
        ("not a url", "Paste the full webhook URL, starting with https://."),
        ("http://hooks.slack.com/services/T0/B0/x", "The webhook URL must use https://."),
        (
            "https://hooks.slack.com.evil.example/services/T0/B0/x",
            "Slack incoming webhook URLs start with https://hooks.slack.com/services/.",
        ),
        (
            "https://169.254.169.254/services/latest",
            "Slack incoming webhook URLs start with https://hooks.slack.com/services/.",
        ),
        (
            "http://127.0.0.1:9/services/T0/B0/x",
            "Slack incoming webhook URLs start with https://hooks.slack.com/services/.",
        ),
        (
            "https://hooks.slack.com/workflows/T0/x",
            "Slack incoming webhook URLs look like https://hooks.slack.com/services/T…/B…/….",
        ),
        (
            "https://user:pw@hooks.slack.com/services/T0/B0/x",
            "A webhook URL has no user name or password in it.",
        ),
        ("https://hooks.slack.com:99999/services/T0/B0/x", "That is not a valid URL."),
        *[
            (
                f"https://hooks.slack.com:{port}/services/T0/B0/x",
                f"Slack webhook URLs have no port: remove “:{port}” after hooks.slack.com.",
            )
            for port in (6379, 80, 8443, 0)
        ],
        (
            "https://@hooks.slack.com/services/T0/B0/x",
            "A webhook URL has no user name or password in it.",
        ),
        (
            "https://user@hooks.slack.com/services/T0/B0/x",
            "A webhook URL has no user name or password in it.",
        ),
    ],
)
def test_only_slack_webhook_urls_are_accepted(
    owner_client: Client, url: str, error: str, settings: Any
) -> None:
    settings.SLACK_WEBHOOK_HOSTS = ["hooks.slack.com"]  # production's list, whatever .env says
    response = owner_client.post(reverse("alert_webhook_create"), {"name": "#sales", "url": url})
    assert response.status_code == 400
    assert response.context["webhook_form"].errors["url"] == [error]
    assert not SlackWebhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com:443/services/T0/B0/x",
        "https://hooks.slack.com:/services/T0/B0/x",
        "https://HOOKS.Slack.com/services/T0/B0/x",
    ],
)
def test_the_default_port_written_out_is_stored_without_it(
    owner_client: Client, url: str, settings: Any
) -> None:
    settings.SLACK_WEBHOOK_HOSTS = ["hooks.slack.com"]
    response = owner_client.post(reverse("alert_webhook_create"), {"name": "#sales", "url": url})
    assert response.status_code == 302
    assert SlackWebhook.objects.get().url == "https://hooks.slack.com/services/T0/B0/x"


def test_loopback_over_http_only_when_the_setting_allows_it(
    owner_client: Client, settings: Any
) -> None:
    url = "http://127.0.0.1:8025/services/T0LOCAL/B0LOCAL/local"
    settings.SLACK_WEBHOOK_HOSTS = ["hooks.slack.com", "127.0.0.1"]
    response = owner_client.post(reverse("alert_webhook_create"), {"name": "#dev", "url": url})
    assert response.status_code == 302
    assert SlackWebhook.objects.get().url == url
    response = owner_client.post(
        reverse("alert_webhook_create"),
        {"name": "#dev", "url": "http://127.0.0.2.nip.io/services/T0/B0/x"},
    )
    assert response.status_code == 400


def test_send_test_message_posts_and_shows_the_result(
    owner_client: Client,
    tenant: Tenant,
    owner: Membership,
    slack_receiver: SlackReceiver,
    q_sync: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    webhook = alerts.webhook_create(
        tenant=tenant, acting_user=owner.user, name="#sales & <ops>", url=slack_receiver.url()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("alert_webhook_test", args=[webhook.pk]))
    assert response.status_code == 302
    assert [p.text for p in slack_receiver.posts] == [
        "SalesMonk alerts will be posted here (#sales &amp; &lt;ops&gt;)."
    ]
    webhook.refresh_from_db()
    assert (webhook.last_test_status, webhook.last_test_error) == ("ok", "")
    assert "Delivered" in owner_client.get(reverse("alert_list")).content.decode()

    slack_receiver.reply(Reply(410, "channel_is_archived"))
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("alert_webhook_test", args=[webhook.pk]))
    webhook.refresh_from_db()
    assert (webhook.last_test_status, webhook.is_active) == ("failed", False)
    assert webhook.disabled_reason == "Slack refused the webhook (410 channel_is_archived)."
    page = owner_client.get(reverse("alert_list")).content.decode()
    assert "Slack refused the webhook (410 channel_is_archived)." in page
    assert "#sales &amp; &lt;ops&gt;" in page


def test_disable_enable_and_delete_a_webhook(
    owner_client: Client, tenant: Tenant, owner: Membership, webhook: SlackWebhook
) -> None:
    make_rules(tenant, owner, webhook, 2)
    owner_client.post(reverse("alert_webhook_active", args=[webhook.pk]), {"active": "0"})
    webhook.refresh_from_db()
    assert (webhook.is_active, webhook.disabled_reason) == (
        False,
        "Disabled by owner@acme.example.",
    )
    owner_client.post(reverse("alert_webhook_active", args=[webhook.pk]), {"active": "1"})
    webhook.refresh_from_db()
    assert (webhook.is_active, webhook.disabled_reason) == (True, "")

    response = owner_client.post(reverse("alert_webhook_delete", args=[webhook.pk]), follow=True)
    assert "Deleted #sales and its 2 alert(s)." in response.content.decode()
    assert not SlackWebhook.objects.exists()
    assert not AlertRule.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="alerts.webhook")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "alerts.webhook_added",
        "alerts.webhook_disabled",
        "alerts.webhook_enabled",
        "alerts.webhook_deleted",
    ]


# --- Rules -----------------------------------------------------------------------------------


def test_create_edit_and_delete_rules(
    owner_client: Client, tenant: Tenant, webhook: SlackWebhook
) -> None:
    segment = Segment.objects.create(tenant=tenant, name="Pricing readers")
    response = owner_client.post(
        reverse("alert_rule_create"),
        {"name": "Owners", "kind": "owned_account", "webhook": webhook.pk},
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.kind, rule.webhook_id, rule.segment_id, rule.is_active) == (
        "owned_account",
        webhook.pk,
        None,
        True,
    )

    url = reverse("alert_rule_edit", args=[rule.pk])
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(
        url,
        {"name": "Pricing", "kind": "segment", "webhook": webhook.pk, "segment": segment.pk},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.kind, rule.segment_id, rule.is_active) == (
        "Pricing",
        "segment",
        segment.pk,
        False,  # the checkbox was not sent: paused
    )

    owner_client.post(reverse("alert_rule_delete", args=[rule.pk]))
    assert not AlertRule.objects.exists()


def test_bad_rule_input_is_a_form_error(
    owner_client: Client, tenant: Tenant, webhook: SlackWebhook, outsider: Membership
) -> None:
    their_segment = Segment.objects.create(tenant=outsider.tenant, name="Theirs")
    cases = [
        ({"name": "", "kind": "owned_account", "webhook": webhook.pk}, "name"),
        ({"name": "x", "kind": "segment", "webhook": webhook.pk}, "segment"),
        ({"name": "x", "kind": "nonsense", "webhook": webhook.pk}, "kind"),
        ({"name": "x", "kind": "owned_account", "webhook": "not-a-uuid"}, "webhook"),
        ({"name": "x", "kind": "owned_account", "webhook": uuid.uuid4()}, "webhook"),
        (
            {"name": "x", "kind": "segment", "webhook": webhook.pk, "segment": their_segment.pk},
            "segment",
        ),
    ]
    for data, field in cases:
        response = owner_client.post(reverse("alert_rule_create"), data)
        assert response.status_code == 400, data
        assert field in response.context["rule_form"].errors, data
    assert not AlertRule.objects.exists()


def test_members_read_but_cannot_change_alerts(
    member_client: Client, tenant: Tenant, owner: Membership, webhook: SlackWebhook
) -> None:
    rule = make_rules(tenant, owner, webhook, 1)[0]
    page = member_client.get(reverse("alert_list")).content.decode()
    assert "Rule 0" in page
    assert "Only owners and admins can change alerts." in page
    assert 'data-testid="rule-form"' not in page
    assert "Send test" not in page
    for name, kwargs, data in [
        ("alert_webhook_create", {}, {"name": "#x", "url": SLACK_URL}),
        ("alert_webhook_test", {"webhook_id": webhook.pk}, {}),
        ("alert_webhook_active", {"webhook_id": webhook.pk}, {"active": "0"}),
        ("alert_webhook_delete", {"webhook_id": webhook.pk}, {}),
        ("alert_rule_create", {}, {"name": "x", "kind": "owned_account", "webhook": webhook.pk}),
        ("alert_rule_edit", {"rule_id": rule.pk}, {"name": "x", "kind": "owned_account"}),
        ("alert_rule_delete", {"rule_id": rule.pk}, {}),
    ]:
        assert member_client.post(reverse(name, kwargs=kwargs), data).status_code == 403, name
    assert member_client.get(reverse("alert_rule_edit", args=[rule.pk])).status_code == 200
    assert SlackWebhook.objects.get().is_active
    assert AlertRule.objects.get().name == "Rule 0"


def test_pages_need_a_login() -> None:
    for name in ("alert_list", "alert_log"):
        response = Client().get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith("/auth/login/")


# --- Lists: query counts, escaping, outsider -------------------------------------------------


def test_the_alerts_page_costs_the_same_queries_for_1_or_6_rules(
    owner_client: Client,
    tenant: Tenant,
    owner: Membership,
    webhook: SlackWebhook,
    django_assert_num_queries: Any,
) -> None:
    rules = make_rules(tenant, owner, webhook, 1)
    make_deliveries(tenant, rules[0], 2)
    owner_client.get(reverse("alert_list"))  # session and tenant resolution warmed up alike

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = owner_client.get(reverse("alert_list"))
        assert response.status_code == 200
        return len(ctx)

    one = count()
    second = alerts.webhook_create(
        tenant=tenant, acting_user=owner.user, name="#other", url=SLACK_URL
    )
    more = make_rules(tenant, owner, second, 5)
    make_deliveries(tenant, more[0], 1, name="Bo")
    with django_assert_num_queries(one):
        page = owner_client.get(reverse("alert_list")).content.decode()
    assert page.count('href="/alerts/rules/') == 6


def test_the_log_is_paginated_escaped_and_costs_fixed_queries(
    owner_client: Client,
    tenant: Tenant,
    owner: Membership,
    webhook: SlackWebhook,
    django_assert_num_queries: Any,
) -> None:
    rule = alerts.alert_rule_create(
        tenant=tenant,
        acting_user=owner.user,
        name="<script>alert('rule')</script>",
        kind=AlertKind.OWNED_ACCOUNT,
        webhook=webhook,
    )
    make_deliveries(tenant, rule, 3, name="<script>x</script>")
    owner_client.get(reverse("alert_log"))

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            owner_client.get(reverse("alert_log"))
        return len(ctx)

    few = count()
    AlertDelivery.objects.all().delete()
    make_deliveries(tenant, rule, 60, name="<script>x</script>")
    with django_assert_num_queries(few):
        response = owner_client.get(reverse("alert_log"))
    page = response.content.decode()
    assert page.count("<tr>") == 1 + 50
    assert "Page 1 of 2" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;rule&#x27;)&lt;/script&gt;" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    second = owner_client.get(reverse("alert_log") + "?page=2").content.decode()
    assert second.count("<tr>") == 1 + 10
    assert owner_client.get(reverse("alert_log") + "?page=junk").status_code == 200


def test_outsiders_see_none_of_our_alerts(
    outsider_client: Client, tenant: Tenant, owner: Membership, webhook: SlackWebhook
) -> None:
    rule = make_rules(tenant, owner, webhook, 1)[0]
    make_deliveries(tenant, rule, 2, name="Secret")
    for name in ("alert_list", "alert_log"):
        page = outsider_client.get(reverse(name)).content.decode()
        assert "<strong>#sales</strong>" not in page
        assert "Rule 0" not in page
        assert "Secret" not in page
    assert outsider_client.get(reverse("alert_rule_edit", args=[rule.pk])).status_code == 404
    response = outsider_client.post(
        reverse("alert_rule_create"),
        {"name": "Steal", "kind": "owned_account", "webhook": webhook.pk},
    )
    assert response.status_code == 400
    assert AlertRule.objects.count() == 1


def test_a_scan_without_rules_only_moves_the_watermark(tenant: Tenant) -> None:
    assert alerts.alerts_scan(tenant=tenant).sessions == 0
    scanned_until = AlertScan.objects.get(tenant=tenant).scanned_until
    assert timezone.now() - dt.timedelta(seconds=5) < scanned_until <= timezone.now()


def test_support_staff_read_deliveries_in_the_admin(
    tenant: Tenant, owner: Membership, webhook: SlackWebhook, django_assert_max_num_queries: Any
) -> None:
    from salesmonk.tenants.models import User

    staff = User.objects.create_user(
        "support@salesmonk.example", "pw", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(staff)
    rule = make_rules(tenant, owner, webhook, 1)[0]
    make_deliveries(tenant, rule, 30)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("admin:visitors_alertdelivery_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("Slack answered 500") == 0  # errors are on the detail page
    assert SLACK_URL not in page
    delivery = AlertDelivery.objects.filter(status="failed").first()
    detail = client.get(reverse("admin:visitors_alertdelivery_change", args=[delivery.pk]))
    assert "Slack answered 500" in detail.content.decode()
    assert client.get(reverse("admin:visitors_alertdelivery_add")).status_code == 403
