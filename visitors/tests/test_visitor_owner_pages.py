"""The owner chain on the Visitors list and the visitor page: the owner of an existing record
with the rule that chose them, and, for an identified visitor Salesforce does not know,
whom the Lead SalesMonk would create would be owned by (never another tenant's settings),
at a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from crm.factories import AccountFactory, ContactFactory, LeadFactory, UserFactory
from crm.models import CrmUser
from integrations.models import SalesforceConnection
from integrations.write.models import WriteSettings
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import Visitor
from visitors.tests.browse_factories import SEEN, CompanyFactory, VisitorFactory
from visitors.tests.segment_factories import crm_match

pytestmark = pytest.mark.django_db


def text(html: str, testid: str) -> str:
    """The text of the element with this `data-testid`, tags stripped and spaces folded."""
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:p|small|dd)>', html, flags=re.S)
    assert found is not None, f"no {testid}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


@pytest.fixture
def fallback(tenant: Tenant, outsider: Membership) -> dict[str, CrmUser]:
    """Jo Closer is the default lead owner, Ina the installer; the outsider's org has its
    own, with the same Salesforce ids (nothing of theirs may show here)."""
    jo = UserFactory(tenant=tenant, name="Jo Closer")
    ina = UserFactory(tenant=tenant, name="Ina Staller")
    SalesforceConnection.objects.create(tenant=tenant, installer_remote_id=ina.remote_id)
    WriteSettings.objects.create(tenant=tenant, default_lead_owner_remote_id=jo.remote_id)
    theirs = outsider.tenant
    UserFactory(tenant=theirs, remote_id=jo.remote_id, name="Globex Default")
    UserFactory(tenant=theirs, remote_id=ina.remote_id, name="Globex Installer")
    SalesforceConnection.objects.create(tenant=theirs, installer_remote_id=ina.remote_id)
    WriteSettings.objects.create(tenant=theirs, default_lead_owner_remote_id=jo.remote_id)
    return {"jo": jo, "ina": ina}


def identified(tenant: Tenant, email: str, **kwargs: object) -> Visitor:
    return VisitorFactory(tenant=tenant, email=email, identified_at=SEEN, **kwargs)


def detail_html(client: Client, visitor: Visitor) -> str:
    response = client.get(reverse("visitor_detail", args=[visitor.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_account_owner_before_the_contact_owner(
    owner_client: Client, tenant: Tenant, fallback: dict[str, CrmUser]
) -> None:
    rita = UserFactory(tenant=tenant, name="Rita Rep")
    carl = UserFactory(tenant=tenant, name="Carl Closer")
    account = AccountFactory(tenant=tenant, domain="initech.com", owner=carl)
    ContactFactory(tenant=tenant, email="ann@initech.com", owner=rita, account=account)
    ann = identified(tenant, "ann@initech.com")

    html = detail_html(owner_client, ann)

    assert text(html, "owner") == "Carl Closer (account owner)"
    assert 'data-testid="would-be-owner"' not in html  # she exists in Salesforce
    carl.is_active = False
    carl.save(update_fields=["is_active"])
    assert text(detail_html(owner_client, ann), "owner") == "Rita Rep (contact owner)"


def test_a_visitor_salesforce_does_not_know_would_be_owned_by_the_default_lead_owner(
    owner_client: Client, tenant: Tenant, fallback: dict[str, CrmUser]
) -> None:
    new = identified(tenant, "new@nowhere.example")

    html = detail_html(owner_client, new)

    assert text(html, "would-be-owner") == (
        "A Lead created for them would be owned by Jo Closer (default lead owner)."
    )
    # An inactive default lead owner is passed over: the installer.
    fallback["jo"].is_active = False
    fallback["jo"].save(update_fields=["is_active"])
    assert text(detail_html(owner_client, new), "would-be-owner") == (
        "A Lead created for them would be owned by Ina Staller (installer)."
    )
    # Nobody usable: nothing is claimed.
    fallback["ina"].remote_was_deleted = True
    fallback["ina"].save(update_fields=["remote_was_deleted"])
    assert 'data-testid="would-be-owner"' not in detail_html(owner_client, new)


def test_an_account_without_a_usable_owner_leaves_the_lead_to_the_default_owner(
    owner_client: Client, tenant: Tenant, fallback: dict[str, CrmUser]
) -> None:
    gone = UserFactory(tenant=tenant, name="Gone Rep", is_active=False)
    company = CompanyFactory(tenant=tenant, domain="initech.com")
    AccountFactory(tenant=tenant, domain="initech.com", name="Initech Corp", owner=gone)
    bo = identified(tenant, "bo@initech.com", company=company)
    owned = AccountFactory(tenant=tenant, domain="globex.com", owner=UserFactory(tenant=tenant))
    cy = identified(
        tenant, "cy@globex.com", company=CompanyFactory(tenant=tenant, domain="globex.com")
    )

    html = detail_html(owner_client, bo)
    assert "Gone Rep" not in html
    assert text(html, "would-be-owner") == (
        "A Lead created for them would be owned by Jo Closer (default lead owner)."
    )
    # An account with a usable owner: the Lead would be theirs, and the page says so as the
    # owner of the existing account, not as a would-be owner.
    html = detail_html(owner_client, cy)
    assert f"owned by {owned.owner.name} (account owner)" in html
    assert 'data-testid="would-be-owner"' not in html


def test_anonymous_visitors_and_known_people_have_no_would_be_owner(
    owner_client: Client, tenant: Tenant, fallback: dict[str, CrmUser]
) -> None:
    anonymous = VisitorFactory(tenant=tenant, email="", first_name="", last_name="")
    assert 'data-testid="would-be-owner"' not in detail_html(owner_client, anonymous)
    LeadFactory(
        tenant=tenant,
        email="queued@prospect.example",
        owner=None,
        owner_remote_id="00G5g00000QUEUEAAA",
    )
    queued = identified(tenant, "queued@prospect.example")
    html = detail_html(owner_client, queued)
    assert text(html, "owner") == "—"  # a queue is nobody's
    assert 'data-testid="would-be-owner"' not in html


def test_the_list_marks_would_be_owners_at_a_fixed_query_count(
    owner_client: Client,
    tenant: Tenant,
    fallback: dict[str, CrmUser],
    outsider: Membership,
    django_assert_num_queries,
) -> None:
    url = reverse("visitor_list")
    identified(tenant, "first@nowhere.example")
    crm_match(tenant)
    owner_client.get(url)
    # session, user, membership, filter bar (segments, CRM users, stages), count, page,
    # fallback owner ids, fallback users
    with django_assert_num_queries(10):
        response = owner_client.get(url)
    assert len(response.context["page"].rows) == 1
    for i in range(29):
        identified(tenant, f"p{i}@nowhere.example")
    crm_match(tenant)
    # Rows never matched yet take the same answer from the live match, with no more reads
    # of the fallback owners.
    Visitor.objects.filter(email="p0@nowhere.example").update(crm_matched_at=None)
    # ... plus people by email in two queries
    with django_assert_num_queries(12):
        response = owner_client.get(url)
    rows = response.context["page"].rows
    assert len(rows) == 25
    assert {(r.crm.would_be_owner.user.name, r.crm.would_be_owner.rule) for r in rows} == {
        ("Jo Closer", "default_lead_owner")
    }
    html = response.content.decode()
    assert html.count("would be owned by Jo Closer (default lead owner)") == 25
    assert "Globex" not in html
