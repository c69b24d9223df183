"""The visitor page (and its admin) explains, for the person and the company, what SalesMonk
matched, will create, skipped or failed to write, and the last write."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.factories import AccountFactory, ContactFactory, LeadFactory
from integrations.models import SalesforceConnection
from integrations.tests.writes import company, enable, staff, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteLog, WriteResult, WriteRun
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import IntentKind, Visitor
from visitors.tracking.crm_match import visitor_crm_match_refresh

pytestmark = pytest.mark.django_db


def page(client: Client, v: Visitor) -> str:
    response = client.get(reverse("visitor_detail", args=[v.pk]))
    assert response.status_code == 200
    return response.content.decode()


def side(body: str, name: str) -> tuple[str, str]:
    """(state, text without tags) of the person, company or last-write row."""
    match = re.search(
        rf'data-testid="writes-{name}"(?: data-state="(\w+)")?>(.*?)</dd>', body, re.S
    )
    assert match, f"no {name} row"
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip())
    return match.group(1) or "", text


def fail(tenant: Tenant, *, key: str, error: str, object_name: str = "Lead") -> WriteLog:
    return WriteLog.objects.create(
        tenant=tenant,
        run=WriteRun.objects.create(tenant=tenant),
        object_name=object_name,
        operation="create",
        key=key,
        result=WriteResult.FAILED,
        error=error,
    )


def test_matched_by_email_with_the_contacts_account(
    owner: Membership, owner_client: Client
) -> None:
    tenant = owner.tenant
    account = AccountFactory(tenant=tenant, name="Initech", domain="initech.example")
    ContactFactory(
        tenant=tenant, email="ada@initech.example", first_name="Ada", last_name="L", account=account
    )
    v = visitor(tenant, email="Ada@Initech.example", domain="initech.example", kinds=())
    visitor_crm_match_refresh(tenant=tenant)

    body = page(owner_client, v)

    assert side(body, "person") == (
        "matched",
        "Matched Matched to the Contact Ada L by email. Updating Contacts and Leads is off, "
        "so SalesMonk leaves this record as it is.",
    )
    assert side(body, "company") == (
        "matched",
        "Matched Matched to the Account Initech by the Contact's Account.",
    )
    assert side(body, "last") == ("", "None yet")


def test_matched_by_phone_and_company_by_domain(owner: Membership, owner_client: Client) -> None:
    tenant = owner.tenant
    enable(tenant, "update_people")
    LeadFactory(tenant=tenant, email="", phone="+14155550100", first_name="Bo", last_name="P")
    AccountFactory(tenant=tenant, name="Hooli", domain="hooli.com")
    v = visitor(tenant, phone="(415) 555-0100", domain="hooli.com", kinds=())
    visitor_crm_match_refresh(tenant=tenant)

    body = page(owner_client, v)

    state, text = side(body, "person")
    assert (state, text) == (
        "matched",
        "Matched Matched to the Lead Bo P by phone. SalesMonk keeps its SalesMonk fields up to "
        "date.",
    )
    assert side(body, "company")[1] == (
        "Matched Matched to the Account Hooli by company domain (hooli.com)."
    )


def test_will_be_created_when_nothing_matches_and_writes_are_on(
    owner: Membership, owner_client: Client
) -> None:
    enable(owner.tenant, "create_leads", "create_accounts")
    v = visitor(owner.tenant, email="new@globex.example", domain="globex.example")

    body = page(owner_client, v)

    assert side(body, "person") == (
        "will_create",
        "Will be created Will be created as a Lead: no Contact or Lead has this email, and "
        "creating Leads is on.",
    )
    assert side(body, "company") == (
        "will_create",
        "Will be created Will be created as an Account: no Account has the domain "
        "globex.example, and creating Accounts is on.",
    )


def test_skipped_when_writes_are_off(owner: Membership, owner_client: Client) -> None:
    enable(owner.tenant, "log_meetings")
    v = visitor(
        owner.tenant, email="x@globex.example", phone="+14155550199", domain="globex.example"
    )

    body = page(owner_client, v)

    assert side(body, "person") == (
        "skipped",
        "Skipped Not created: no Contact or Lead has this email or phone, and creating Leads "
        "is off for your workspace.",
    )
    assert side(body, "company")[1].endswith(
        "no Account has the domain globex.example, and creating Accounts is off for your workspace."
    )


def test_free_mail_means_no_company(owner: Membership, owner_client: Client) -> None:
    enable(owner.tenant)
    v = visitor(owner.tenant, email="someone@gmail.com")

    state, text = side(page(owner_client, v), "company")

    assert state == "skipped"
    assert "gmail.com is a free-mail address" in text
    assert "no Account is matched or created" in text


def test_a_failure_shows_its_reason_in_plain_words_and_is_the_last_write(
    owner: Membership, owner_client: Client, outsider: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    v = visitor(tenant, email="fail@globex.example", domain="globex.example")
    fail(
        tenant,
        key="email:fail@globex.example",
        error="REQUIRED_FIELD_MISSING: Required fields are missing: [Country]",
    )
    # Another tenant with the same visitor email: its log never shows here.
    fail(outsider.tenant, key="email:fail@globex.example", error="INVALID_EMAIL_ADDRESS: Globex")

    body = page(owner_client, v)

    state, text = side(body, "person")
    assert state == "failed"
    assert text.startswith("Failed Not written: Required field missing: Country.")
    assert "Your org requires Country on this record" in text
    assert side(body, "last")[1].startswith("Create Lead · Failed ·")
    assert "Globex" not in body
    assert "REQUIRED_FIELD_MISSING" not in body


def test_a_real_drain_creates_then_shows_created_and_the_last_write(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
) -> None:
    tenant = owner.tenant
    enable(tenant, "create_leads", "create_accounts")
    v = visitor(
        tenant,
        email="made@globex.example",
        last="Made",
        domain="globex.example",
        kinds=(IntentKind.LEAD, IntentKind.ACCOUNT),
    )
    write_sync_run(tenant=tenant)
    lead = next(r for r in sf_settings.records("Lead") if r["Email"] == "made@globex.example")

    body = page(owner_client, v)

    state, text = side(body, "person")
    assert (state, text.split(" (")[0]) == ("created", "Created Created by SalesMonk as a Lead.")
    assert f"{connected.instance_url.rstrip('/')}/{lead['Id']}" in body
    assert side(body, "company")[0] == "created"
    assert re.fullmatch(
        r"(Create|Upsert) \w+ · Success · \w{3} \d+, \d{4} \d\d:\d\d UTC", side(body, "last")[1]
    )


def test_a_record_we_created_still_says_created_once_the_visitor_is_matched_to_it(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
) -> None:
    from visitors.tracking.crm_match import visitor_crm_match_refresh

    tenant = owner.tenant
    enable(tenant, "create_leads", "create_accounts")
    v = visitor(
        tenant,
        email="ours@initech.com",
        last="Ours",
        domain="initech.com",
        company_name="Initech",
        kinds=(IntentKind.LEAD, IntentKind.ACCOUNT),
    )
    write_sync_run(tenant=tenant)
    # The created records are mirrored; the stored match now points at them.
    visitor_crm_match_refresh(tenant=tenant, visitor_ids=[v.pk])

    body = page(owner_client, v)

    state, text = side(body, "person")
    assert state == "created"
    assert text.startswith("Created Created by SalesMonk as the Lead ")
    company_state, company_text = side(body, "company")
    assert company_state == "created"
    assert "Created by SalesMonk as the Account Initech" in company_text


def test_anonymous_visitors_are_not_looked_for(owner: Membership, owner_client: Client) -> None:
    v = visitor(owner.tenant, kinds=())
    assert side(page(owner_client, v), "person") == (
        "skipped",
        "Skipped Not identified yet: there is no email or phone to look for in Salesforce.",
    )


def test_query_count_does_not_grow_with_write_logs(
    owner: Membership, owner_client: Client, django_assert_num_queries
) -> None:
    tenant = owner.tenant
    enable(tenant)
    company(tenant, "globex.example")
    v = visitor(tenant, email="q@globex.example", domain="globex.example")
    page(owner_client, v)
    with CaptureQueriesContext(connection) as first:
        page(owner_client, v)
    for n in range(12):
        fail(tenant, key="email:q@globex.example", error=f"FIELD_CUSTOM_VALIDATION_EXCEPTION: r{n}")
        fail(
            tenant,
            key="domain:globex.example",
            error="UNABLE_TO_LOCK_ROW: x",
            object_name="Account",
        )
    with django_assert_num_queries(len(first.captured_queries)):
        body = page(owner_client, v)
    assert side(body, "company")[0] == "failed"


def test_outsiders_never_see_the_visitor(owner: Membership, outsider_client: Client) -> None:
    v = visitor(owner.tenant, email="mine@globex.example")
    response = outsider_client.get(reverse("visitor_detail", args=[v.pk]))
    assert response.status_code == 404


def test_support_sees_the_explanation_in_the_admin(owner: Membership) -> None:
    enable(owner.tenant, "create_leads")
    v = visitor(owner.tenant, email="adm@globex.example")
    client = Client()
    client.force_login(staff())

    response = client.get(reverse("admin:visitors_visitor_change", args=[v.pk]))

    assert response.status_code == 200
    assert side(response.content.decode(), "person")[0] == "will_create"
