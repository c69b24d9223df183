"""Reads of the CRM mirror: which company a domain is, which person an email or phone is.

Every function takes the tenant first and ignores records deleted remotely. When several
live records share a key, the choice is deterministic (see the orderings below), so a
visitor is always matched to the same record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.db.models import F, QuerySet

from crm.models import Account, Contact, Lead, Opportunity
from crm.normalize import normalize_domain, normalize_email, normalize_phone
from salesmonk.tenants.models import Tenant

# Several accounts on one domain: the one with most contacts, then the oldest remotely.
ACCOUNT_PREFERENCE = (
    F("number_of_contacts").desc(nulls_last=True),
    F("remote_created_at").asc(nulls_last=True),
    "remote_id",
)
# Several people with one email or phone: the most recently active, then the newest.
PERSON_PREFERENCE = (
    F("last_activity_at").desc(nulls_last=True),
    F("remote_updated_at").desc(nulls_last=True),
    "remote_id",
)

MatchedOn = Literal["email", "phone"]


@dataclass(frozen=True)
class PersonMatch:
    """The person a visitor is. `contact` is set when a contact matched, or when the lead
    that matched was converted into a (live, mirrored) contact; `lead` when a lead matched."""

    contact: Contact | None
    lead: Lead | None
    matched_on: MatchedOn

    @property
    def kind(self) -> Literal["contact", "lead"]:
        return "contact" if self.contact is not None else "lead"

    @property
    def record(self) -> Contact | Lead:
        record = self.contact or self.lead
        assert record is not None
        return record


def _live_accounts(tenant: Tenant) -> QuerySet[Account]:
    return Account.objects.for_tenant(tenant).filter(remote_was_deleted=False)


def _live_contacts(tenant: Tenant) -> QuerySet[Contact]:
    return (
        Contact.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False)
        .select_related("account", "owner")
        .order_by(*PERSON_PREFERENCE)
    )


def _live_leads(tenant: Tenant) -> QuerySet[Lead]:
    return (
        Lead.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False)
        .select_related("owner", "converted_contact__account", "converted_contact__owner")
        .order_by(*PERSON_PREFERENCE)
    )


def _lead_match(lead: Lead, matched_on: MatchedOn) -> PersonMatch:
    contact = lead.converted_contact
    if contact is not None and contact.remote_was_deleted:
        contact = None
    return PersonMatch(contact=contact, lead=lead, matched_on=matched_on)


def account_for_domain(*, tenant: Tenant, domain: str | None) -> Account | None:
    """The live account whose website is on `domain` (any form `normalize_domain` reads)."""
    key = normalize_domain(domain)
    if key is None:
        return None
    return _live_accounts(tenant).filter(domain=key).order_by(*ACCOUNT_PREFERENCE).first()


def accounts_for_domains(*, tenant: Tenant, domains: Iterable[str]) -> dict[str, Account]:
    """`account_for_domain` for many domains in one query, keyed by the values given
    (those without an account are absent)."""
    keys = {value: key for value in domains if (key := normalize_domain(value))}
    best: dict[str, Account] = {}
    for account in (
        _live_accounts(tenant).filter(domain__in=set(keys.values())).order_by(*ACCOUNT_PREFERENCE)
    ):
        best.setdefault(account.domain, account)
    return {value: best[key] for value, key in keys.items() if key in best}


def person_match(
    *, tenant: Tenant, email: str | None = None, phone: str | None = None
) -> PersonMatch | None:
    """Who this is: a contact by email, else a lead by email, else a contact by phone, else
    a lead by phone. A converted lead stands for the contact it became."""
    email_key = normalize_email(email)
    phone_key = normalize_phone(phone)
    if email_key:
        contact = _live_contacts(tenant).filter(email=email_key).first()
        if contact is not None:
            return PersonMatch(contact=contact, lead=None, matched_on="email")
        lead = _live_leads(tenant).filter(email=email_key).first()
        if lead is not None:
            return _lead_match(lead, "email")
    if phone_key:
        contact = _live_contacts(tenant).filter(phone=phone_key).first()
        if contact is not None:
            return PersonMatch(contact=contact, lead=None, matched_on="phone")
        lead = _live_leads(tenant).filter(phone=phone_key).first()
        if lead is not None:
            return _lead_match(lead, "phone")
    return None


def people_for_emails(*, tenant: Tenant, emails: Iterable[str]) -> dict[str, PersonMatch]:
    """`person_match` by email for many emails: one query for contacts, one for leads
    (only for the emails no contact has), keyed by the values given."""
    keys = {value: key for value in emails if (key := normalize_email(value))}
    found: dict[str, PersonMatch] = {}
    for contact in _live_contacts(tenant).filter(email__in=set(keys.values())):
        found.setdefault(contact.email, PersonMatch(contact=contact, lead=None, matched_on="email"))
    remaining = set(keys.values()) - set(found)
    if remaining:
        for lead in _live_leads(tenant).filter(email__in=remaining):
            if lead.email not in found:
                found[lead.email] = _lead_match(lead, "email")
    return {value: found[key] for value, key in keys.items() if key in found}


def people_for_phones(*, tenant: Tenant, phones: Iterable[str]) -> dict[str, PersonMatch]:
    """`person_match` by phone alone for many phones: one query for contacts, one for leads
    (only for the phones no contact has), keyed by the values given."""
    keys = {value: key for value in phones if (key := normalize_phone(value))}
    found: dict[str, PersonMatch] = {}
    for contact in _live_contacts(tenant).filter(phone__in=set(keys.values())):
        found.setdefault(contact.phone, PersonMatch(contact=contact, lead=None, matched_on="phone"))
    remaining = set(keys.values()) - set(found)
    if remaining:
        for lead in _live_leads(tenant).filter(phone__in=remaining):
            if lead.phone not in found:
                found[lead.phone] = _lead_match(lead, "phone")
    return {value: found[key] for value, key in keys.items() if key in found}


def opportunities_for_account(*, tenant: Tenant, account: Account) -> QuerySet[Opportunity]:
    """The account's live opportunities, latest close date first."""
    return (
        Opportunity.objects.for_tenant(tenant)
        .filter(account=account, remote_was_deleted=False)
        .select_related("stage", "owner")
        .order_by(F("close_date").desc(nulls_last=True), "name", "remote_id")
    )
