"""The read-only admin renders for support staff; factories build realistic records."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from crm import factories
from crm.models import Contact, EngagementContact
from salesmonk.tenants.factories import UserFactory as LoginFactory
from salesmonk.tenants.models import Membership, Tenant

MODELS = [
    "user",
    "account",
    "contact",
    "lead",
    "stage",
    "opportunity",
    "task",
    "engagementtype",
    "engagement",
    "note",
]


@pytest.fixture
def staff_client(db: None) -> Client:
    client = Client()
    client.force_login(
        LoginFactory(email="support@salesmonk.example", is_staff=True, is_superuser=True)
    )
    return client


@pytest.fixture
def records(tenant: Tenant, outsider: Membership) -> None:
    for other in (tenant, outsider.tenant):
        contact = factories.ContactFactory(tenant=other, email="ada@example.com")
        factories.LeadFactory(tenant=other, converted_contact=contact)
        factories.OpportunityFactory(tenant=other, account=contact.account)
        factories.TaskFactory(tenant=other, contact=contact)
        factories.NoteFactory(tenant=other, account=contact.account)
        factories.EngagementFactory(tenant=other)


@pytest.mark.parametrize("model", MODELS)
def test_changelists_render_read_only(
    staff_client: Client, records: None, tenant: Tenant, model: str
) -> None:
    changelist = reverse(f"admin:crm_{model}_changelist")

    response = staff_client.get(changelist, {"tenant__id__exact": str(tenant.pk)})
    search = staff_client.get(changelist, {"q": "5g00"})
    add = staff_client.get(reverse(f"admin:crm_{model}_add"))

    assert (response.status_code, search.status_code, add.status_code) == (200, 200, 403)
    assert response.context["cl"].result_count >= 1
    assert {obj.tenant_id for obj in response.context["cl"].result_list} == {tenant.pk}


def test_contact_search_by_email_and_detail_is_view_only(
    staff_client: Client, records: None, tenant: Tenant
) -> None:
    contact = Contact.objects.for_tenant(tenant).get()
    found = staff_client.get(reverse("admin:crm_contact_changelist"), {"q": "ada@example.com"})
    detail = staff_client.get(reverse("admin:crm_contact_change", args=[contact.pk]))
    post = staff_client.post(reverse("admin:crm_contact_change", args=[contact.pk]), {})

    assert found.context["cl"].result_count == 2  # both tenants: staff see everything
    assert detail.status_code == 200
    assert "Save" not in detail.content.decode()
    assert post.status_code == 403


def test_outsider_members_cannot_reach_the_admin(outsider: Membership, records: None) -> None:
    client = Client()
    client.force_login(outsider.user)

    response = client.get(reverse("admin:crm_contact_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_factories_build_salesforce_ids_with_prefixes(tenant: Tenant, outsider: Membership) -> None:
    built = {
        "005": factories.UserFactory(tenant=tenant),
        "001": factories.AccountFactory(tenant=tenant),
        "003": factories.ContactFactory(tenant=tenant),
        "00Q": factories.LeadFactory(tenant=tenant),
        "006": factories.OpportunityFactory(tenant=tenant),
        "00T": factories.TaskFactory(tenant=tenant),
        "00U": factories.EngagementFactory(tenant=tenant),
        "002": factories.NoteFactory(tenant=tenant),
        "01J": factories.StageFactory(tenant=tenant),
    }

    for prefix, record in built.items():
        assert re.fullmatch(rf"{prefix}[0-9A-Za-z]{{12}}[A-Z0-5]{{3}}", record.remote_id)
        assert record.tenant == tenant
    contact = built["003"]
    assert contact.account.tenant == tenant
    assert contact.account_remote_id == contact.account.remote_id
    assert contact.owner_remote_id == contact.owner.remote_id
    assert not EngagementContact.objects.exists()
    assert not Contact.objects.for_tenant(outsider.tenant).exists()


@pytest.mark.parametrize(
    ("prefix", "n", "expected"),
    [
        ("001", 1, "0015g0000000001AAA"),
        ("003", 62, "0035g0000000010AAA"),
        ("00Q", 36, "00Q5g000000000aEAA"),
        ("001", 10, "0015g000000000AAAQ"),
    ],
)
def test_salesforce_id_checksum(prefix: str, n: int, expected: str) -> None:
    assert factories.salesforce_id(prefix, n) == expected
