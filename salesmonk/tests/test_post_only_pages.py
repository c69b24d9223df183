"""No customer page answers a GET with a bare 405: form actions redirect to the page that
holds their form. Walks every URL of the customer-facing views, so a new one is covered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.http import url_has_allowed_host_and_scheme

from crm.api.services import api_key_create
from crm.models import ApiKey
from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import Membership, Role, Tenant
from visitors.alerts import services as alerts
from visitors.models import AlertKind, AlertRule, Segment, Site, SlackWebhook
from visitors.tests.browse_factories import CompanyFactory, SiteFactory, VisitorFactory
from visitors.tests.segment_factories import SegmentFactory

pytestmark = pytest.mark.django_db

CUSTOMER_VIEWS = (
    "crm.views",
    "integrations.views",
    "salesmonk.tenants.views",
    "visitors.alerts.views",
    "visitors.browse.views",
    "visitors.segments.views",
    "visitors.tracking.views",
)
# Form actions that used to be POST-only (405 on GET): the walk must reach every one.
FORM_ACTIONS = {
    "api_key_revoke",
    "switch_tenant",
    "settings_salesforce_connect",
    "settings_salesforce_disconnect",
    "settings_salesforce_sync",
    "settings_member_update",
    "settings_site_active",
    "segment_delete",
    "alert_webhook_create",
    "alert_webhook_test",
    "alert_webhook_active",
    "alert_webhook_delete",
    "alert_rule_create",
    "alert_rule_delete",
}
# Salesforce's OAuth redirect target, not a form: without a flow in progress it explains
# that the sign-in did not come from here (400), tested with the connect flow.
NOT_WALKED = {"settings_salesforce_callback"}


def customer_routes() -> Iterator[tuple[str, str]]:
    """(route, name) of every URL served by a customer-facing view."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver().url_patterns, "/"):
        if pattern.callback.__module__.startswith(CUSTOMER_VIEWS):
            yield route, pattern.name or route


@pytest.fixture
def objects(tenant: Tenant, owner: Membership) -> dict[str, Any]:
    """One of everything a customer URL can name, owned by our tenant."""
    webhook = alerts.webhook_create(
        tenant=tenant,
        acting_user=owner.user,
        name="#sales",
        url="https://hooks.slack.com/services/T0ACME000/B0ACME000/abcdefghijklmnopqrstuvwx",
    )
    rule = alerts.alert_rule_create(
        tenant=tenant,
        acting_user=owner.user,
        name="Owners",
        kind=AlertKind.OWNED_ACCOUNT,
        webhook=webhook,
    )
    return {
        "key_id": api_key_create(tenant=tenant, acting_user=owner.user, name="Warehouse").api_key,
        "visitor_id": VisitorFactory(tenant=tenant),
        "company_id": CompanyFactory(tenant=tenant),
        "segment_id": SegmentFactory(tenant=tenant),
        "webhook_id": webhook,
        "rule_id": rule,
        "site_id": SiteFactory(tenant=tenant),
        "membership_id": owner,
    }


def fill(route: str, objects: dict[str, Any]) -> str:
    path = re.sub(r"<uuid:(\w+)>", lambda m: str(objects[m.group(1)].pk), route)
    assert "<" not in path, f"no object for a parameter of {route}"
    return path


@pytest.mark.parametrize("role", [Role.MEMBER, Role.OWNER])
def test_every_customer_url_answers_a_get_with_a_page(
    tenant: Tenant, owner: Membership, objects: dict[str, Any], role: str, outsider: Membership
) -> None:
    member = owner if role == Role.OWNER else MembershipFactory(tenant=tenant, role=role)
    client = Client()
    client.force_login(member.user)
    walked = set()
    for route, name in customer_routes():
        if name in NOT_WALKED:
            continue
        walked.add(name)
        path = fill(route, objects)
        response = client.get(path)
        assert response.status_code in (200, 301, 302), (path, response.status_code)
        if response.status_code != 200:
            target = response["Location"]
            assert url_has_allowed_host_and_scheme(target, allowed_hosts=None), (path, target)
            assert client.get(target).status_code == 200, (path, target)
    assert FORM_ACTIONS - walked == set()

    # A GET changed nothing: nothing was revoked, switched off or deleted.
    assert ApiKey.objects.get(pk=objects["key_id"].pk).revoked_at is None
    assert SlackWebhook.objects.get(pk=objects["webhook_id"].pk).is_active
    assert AlertRule.objects.filter(pk=objects["rule_id"].pk).exists()
    assert Segment.objects.filter(pk=objects["segment_id"].pk).exists()
    assert Site.objects.get(pk=objects["site_id"].pk).is_active
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER
    assert not SlackWebhook.objects.filter(tenant=outsider.tenant).exists()


def test_a_form_action_goes_to_its_forms_page(
    owner_client: Client, objects: dict[str, Any]
) -> None:
    rule, segment = objects["rule_id"], objects["segment_id"]
    assert owner_client.get(f"/alerts/rules/{rule.pk}/delete/")["Location"] == (
        f"/alerts/rules/{rule.pk}/"
    )
    assert owner_client.get(f"/segments/{segment.pk}/delete/")["Location"] == (
        f"/segments/{segment.pk}/"
    )
    assert owner_client.get("/alerts/webhooks/new/")["Location"] == "/alerts/"
    assert owner_client.head("/settings/salesforce/sync/")["Location"] == "/settings/salesforce/"
    assert owner_client.put("/settings/salesforce/sync/").status_code == 405


def test_an_outsider_is_sent_to_a_page_that_is_not_found(
    outsider_client: Client, objects: dict[str, Any]
) -> None:
    rule = objects["rule_id"]
    response = outsider_client.get(f"/alerts/rules/{rule.pk}/delete/", follow=True)
    assert response.status_code == 404
    assert AlertRule.objects.filter(pk=rule.pk).exists()
