"""Support staff create sites in the admin (through the service, audited) and browse
visitors and companies read-only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from salesmonk.tenants.models import AuditEvent, Membership, User
from visitors.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    staff = User.objects.create_user(
        "support@salesmonk.example", "pw", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(staff)
    return client


def test_staff_create_a_site_with_audit(
    staff_client: Client, owner: Membership, outsider: Membership
) -> None:
    response = staff_client.post(
        reverse("admin:visitors_site_add"),
        {
            "tenant": str(owner.tenant.pk),
            "name": "Marketing site",
            "domains": "acme.example, www.acme.example",
        },
    )

    assert response.status_code == 302
    site = Site.objects.get()
    assert (site.tenant, site.name) == (owner.tenant, "Marketing site")
    assert site.allowed_domains == ["acme.example", "www.acme.example"]
    assert site.key
    event = AuditEvent.objects.get(action="site.created")
    assert (event.tenant, event.actor.email) == (owner.tenant, "support@salesmonk.example")
    assert not AuditEvent.objects.filter(tenant=outsider.tenant).exists()


def test_a_site_needs_a_domain(staff_client: Client, owner: Membership) -> None:
    response = staff_client.post(
        reverse("admin:visitors_site_add"),
        {"tenant": str(owner.tenant.pk), "name": "x", "domains": " , "},
    )
    assert response.status_code == 200
    assert "List at least one domain." in response.content.decode()
    assert not Site.objects.exists()


@pytest.mark.parametrize("model", ["visitor", "company", "iprange"])
def test_tracking_data_is_read_only(staff_client: Client, model: str) -> None:
    assert staff_client.get(reverse(f"admin:visitors_{model}_changelist")).status_code == 200
    assert staff_client.get(reverse(f"admin:visitors_{model}_add")).status_code == 403
