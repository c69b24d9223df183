"""Matching companies and people; the outsider's identical records are never matched."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crm.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory
from crm.selectors import (
    account_for_domain,
    accounts_for_domains,
    opportunities_for_account,
    people_for_emails,
    people_for_phones,
    person_match,
)
from salesmonk.tenants.models import Membership, Tenant

PHONE = "+14155550142"


@pytest.fixture
def outsider_twins(outsider: Membership) -> None:
    """The outsider holds the same people and companies: none may ever match for us."""
    other = outsider.tenant
    AccountFactory(tenant=other, domain="example.com", number_of_contacts=100)
    ContactFactory(tenant=other, email="ada@example.com", phone=PHONE)
    LeadFactory(tenant=other, email="lead@example.com", phone="+14155550199")


def test_account_for_domain_reads_any_form_and_ignores_deleted(
    tenant: Tenant, outsider_twins: None
) -> None:
    acme = AccountFactory(tenant=tenant, domain="example.com", number_of_contacts=1)
    AccountFactory(
        tenant=tenant, domain="example.com", number_of_contacts=9, remote_was_deleted=True
    )

    assert account_for_domain(tenant=tenant, domain="https://WWW.Example.com/pricing") == acme
    assert account_for_domain(tenant=tenant, domain="bob@mail.example.com") == acme
    assert account_for_domain(tenant=tenant, domain="other.example") is None
    assert account_for_domain(tenant=tenant, domain="localhost") is None
    assert account_for_domain(tenant=tenant, domain=None) is None


def test_several_accounts_on_a_domain_pick_the_one_with_most_contacts(tenant: Tenant) -> None:
    AccountFactory(tenant=tenant, domain="example.com", number_of_contacts=2)
    big = AccountFactory(tenant=tenant, domain="example.com", number_of_contacts=5)
    AccountFactory(tenant=tenant, domain="example.com", number_of_contacts=None)

    assert account_for_domain(tenant=tenant, domain="example.com") == big
    assert accounts_for_domains(tenant=tenant, domains=["example.com"]) == {"example.com": big}


def test_accounts_for_domains_is_one_query_keyed_by_the_values_given(
    tenant: Tenant, outsider_twins: None, django_assert_num_queries: Any
) -> None:
    acme = AccountFactory(tenant=tenant, domain="example.com")
    shop = AccountFactory(tenant=tenant, domain="example.co.uk")

    with django_assert_num_queries(1):
        found = accounts_for_domains(
            tenant=tenant,
            domains=[
                "https://www.example.com",
                "example.com",
                "shop.example.co.uk",
                "x.test",
                "co.uk",
            ],
        )

    assert found == {
        "https://www.example.com": acme,
        "example.com": acme,
        "shop.example.co.uk": shop,
    }


class TestPersonMatch:
    def test_contact_by_email(self, tenant: Tenant, outsider_twins: None) -> None:
        contact = ContactFactory(tenant=tenant, email="ada@example.com")

        match = person_match(tenant=tenant, email=" ADA@Example.com ")

        assert match is not None
        assert (match.contact, match.lead, match.matched_on, match.kind) == (
            contact,
            None,
            "email",
            "contact",
        )
        assert match.record == contact

    def test_lead_by_email(self, tenant: Tenant, outsider_twins: None) -> None:
        lead = LeadFactory(tenant=tenant, email="lead@example.com")

        match = person_match(tenant=tenant, email="lead@example.com", phone=PHONE)

        assert match is not None
        assert (match.contact, match.lead, match.matched_on, match.kind) == (
            None,
            lead,
            "email",
            "lead",
        )

    def test_contact_by_phone(self, tenant: Tenant, outsider_twins: None) -> None:
        contact = ContactFactory(tenant=tenant, phone=PHONE)
        LeadFactory(tenant=tenant, phone=PHONE)

        match = person_match(tenant=tenant, email="unknown@example.com", phone="(415) 555-0142")

        assert match is not None
        assert (match.contact, match.lead, match.matched_on) == (contact, None, "phone")

    def test_lead_by_phone(self, tenant: Tenant, outsider_twins: None) -> None:
        lead = LeadFactory(tenant=tenant, phone=PHONE)

        match = person_match(tenant=tenant, phone="415.555.0142")

        assert match is not None
        assert (match.contact, match.lead, match.matched_on) == (None, lead, "phone")

    def test_contact_is_preferred_over_lead_with_the_same_email(self, tenant: Tenant) -> None:
        LeadFactory(tenant=tenant, email="ada@example.com")
        contact = ContactFactory(tenant=tenant, email="ada@example.com")

        match = person_match(tenant=tenant, email="ada@example.com")

        assert match is not None
        assert (match.contact, match.lead) == (contact, None)

    def test_email_is_preferred_over_phone(self, tenant: Tenant) -> None:
        ContactFactory(tenant=tenant, phone=PHONE)
        lead = LeadFactory(tenant=tenant, email="lead@example.com")

        match = person_match(tenant=tenant, email="lead@example.com", phone=PHONE)

        assert match is not None
        assert (match.contact, match.lead, match.matched_on) == (None, lead, "email")

    def test_deleted_records_are_ignored(self, tenant: Tenant, outsider_twins: None) -> None:
        ContactFactory(tenant=tenant, email="ada@example.com", phone=PHONE, remote_was_deleted=True)
        LeadFactory(tenant=tenant, email="ada@example.com", phone=PHONE, remote_was_deleted=True)

        assert person_match(tenant=tenant, email="ada@example.com", phone=PHONE) is None

    def test_a_converted_lead_stands_for_its_contact(self, tenant: Tenant) -> None:
        contact = ContactFactory(tenant=tenant, email="ada@newco.example")
        lead = LeadFactory(tenant=tenant, email="ada@oldco.example", converted_contact=contact)
        gone = ContactFactory(tenant=tenant, remote_was_deleted=True)
        orphan = LeadFactory(tenant=tenant, email="bob@oldco.example", converted_contact=gone)

        match = person_match(tenant=tenant, email="ada@oldco.example")
        orphan_match = person_match(tenant=tenant, email="bob@oldco.example")

        assert match is not None
        assert (match.contact, match.lead, match.kind) == (contact, lead, "contact")
        assert orphan_match is not None
        assert (orphan_match.contact, orphan_match.lead, orphan_match.kind) == (
            None,
            orphan,
            "lead",
        )

    def test_most_recently_active_of_several_wins(self, tenant: Tenant) -> None:
        ContactFactory(tenant=tenant, email="ada@example.com", last_activity_at=None)
        recent = ContactFactory(
            tenant=tenant,
            email="ada@example.com",
            last_activity_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
        )
        ContactFactory(
            tenant=tenant,
            email="ada@example.com",
            last_activity_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
        )

        match = person_match(tenant=tenant, email="ada@example.com")

        assert match is not None
        assert match.contact == recent

    def test_nothing_to_match_on(self, tenant: Tenant, outsider_twins: None) -> None:
        assert person_match(tenant=tenant) is None
        assert person_match(tenant=tenant, email="ada@example.com", phone=PHONE) is None
        assert person_match(tenant=tenant, email="not-an-email", phone="n/a") is None


def test_people_for_emails_is_one_query_per_model(
    tenant: Tenant, outsider_twins: None, django_assert_num_queries: Any
) -> None:
    contact = ContactFactory(tenant=tenant, email="ada@example.com")
    LeadFactory(tenant=tenant, email="ada@example.com")
    lead = LeadFactory(tenant=tenant, email="lead@example.com")
    converted_to = ContactFactory(tenant=tenant, email="new@example.com")
    converted = LeadFactory(tenant=tenant, email="old@example.com", converted_contact=converted_to)

    with django_assert_num_queries(2):
        found = people_for_emails(
            tenant=tenant,
            emails=[
                "ADA@example.com",
                "lead@example.com",
                "old@example.com",
                "nobody@example.com",
                "junk",
            ],
        )
        # Related rows came with the query: reading them costs nothing more.
        assert found["ADA@example.com"].record.account.remote_id == contact.account.remote_id
        assert found["old@example.com"].contact.account.remote_id == converted_to.account.remote_id

    assert {email: (m.contact, m.lead, m.matched_on) for email, m in found.items()} == {
        "ADA@example.com": (contact, None, "email"),
        "lead@example.com": (None, lead, "email"),
        "old@example.com": (converted_to, converted, "email"),
    }


def test_people_for_emails_skips_the_lead_query_when_contacts_matched_all(
    tenant: Tenant, outsider_twins: None, django_assert_num_queries: Any
) -> None:
    contact = ContactFactory(tenant=tenant, email="ada@example.com")

    with django_assert_num_queries(1):
        found = people_for_emails(tenant=tenant, emails=["ada@example.com"])

    assert list(found) == ["ada@example.com"]
    assert found["ada@example.com"].contact == contact
    assert people_for_emails(tenant=tenant, emails=["lead@example.com"]) == {}


def test_opportunities_for_account(tenant: Tenant, outsider: Membership) -> None:
    acme = AccountFactory(tenant=tenant)
    later = OpportunityFactory(tenant=tenant, account=acme, close_date=dt.date(2026, 6, 30))
    sooner = OpportunityFactory(tenant=tenant, account=acme, close_date=dt.date(2026, 3, 31))
    OpportunityFactory(tenant=tenant, account=acme, remote_was_deleted=True)
    OpportunityFactory(tenant=tenant)  # another account
    OpportunityFactory(tenant=outsider.tenant, account=AccountFactory(tenant=outsider.tenant))

    assert list(opportunities_for_account(tenant=tenant, account=acme)) == [later, sooner]
    assert list(opportunities_for_account(tenant=outsider.tenant, account=acme)) == []


def test_people_for_phones_agrees_with_person_match_in_two_queries(
    tenant: Tenant, outsider_twins: None, django_assert_num_queries: Any
) -> None:
    contact = ContactFactory(tenant=tenant, phone=PHONE)
    LeadFactory(tenant=tenant, phone=PHONE)
    lead = LeadFactory(tenant=tenant, phone="+14155550143")
    converted_to = ContactFactory(tenant=tenant, phone="+14155550199")
    converted = LeadFactory(tenant=tenant, phone="+14155550144", converted_contact=converted_to)
    ContactFactory(tenant=tenant, phone="+14155550145", remote_was_deleted=True)
    phones = ["415.555.0142", "+1 415 555 0143", "(415) 555-0144", "+14155550145", "junk"]

    with django_assert_num_queries(2):
        found = people_for_phones(tenant=tenant, phones=phones)

    assert {phone: (m.contact, m.lead, m.matched_on) for phone, m in found.items()} == {
        "415.555.0142": (contact, None, "phone"),
        "+1 415 555 0143": (None, lead, "phone"),
        "(415) 555-0144": (converted_to, converted, "phone"),
    }
    for phone in phones:
        assert found.get(phone) == person_match(tenant=tenant, phone=phone)
