"""Batched dedupe lookups: who in Salesforce each visitor and company already is.

Every lookup is an `IN` (or `LIKE`) query built with simple-salesforce's `format_soql`, so
quotes, backslashes and `%` in an email or domain are data, never SOQL. Several queries
ride in one composite call (Salesforce allows 5 per call). Matching then happens here, on
normalized values: Contacts before Leads, email before phone; Accounts by the
`SalesMonk_Domain__c` external id before the domain of their Website.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.conf import settings
from simple_salesforce.format import format_soql

from crm.models import Account, Contact, Lead
from crm.normalize import normalize_domain, normalize_email, normalize_phone
from integrations.salesforce.client import SalesforceClient, SalesforceRequestError
from salesmonk.tenants.models import Tenant

IN_CHUNK = 1000  # values per IN: ~30 KB of SOQL, far inside the 100,000-character limit
LIKE_CHUNK = 200  # Website LIKE clauses per Account query
QUERIES_PER_CALL = 5
PERSON_BASE = ("Id", "FirstName", "LastName", "Email", "Phone", "OwnerId")
Record = dict[str, Any]
# How a visitor or company was matched to a Salesforce record ("" when nothing matched).
MATCH_EMAIL, MATCH_PHONE = "email", "phone"
MATCH_EXTERNAL_ID, MATCH_DOMAIN = "SalesMonk_Domain__c", "domain"


@dataclass
class Found:
    contacts: list[Record] = field(default_factory=list)
    leads: list[Record] = field(default_factory=list)
    accounts: list[Record] = field(default_factory=list)
    open_opps: dict[str, list[str]] = field(default_factory=dict)  # contact id -> opp ids
    events: dict[str, str] = field(default_factory=dict)  # Subject -> Id
    notes: dict[tuple[str, str], str] = field(default_factory=dict)  # (ParentId, Title) -> Id
    queries: int = 0
    logged: dict[str, str] = field(default_factory=dict)  # write-log key -> id, already written
    _index: dict[tuple[str, str, str], tuple[str, Record]] | None = None
    _accounts: dict[tuple[str, str], Record] | None = None

    def person(self, email: str, phone: str) -> tuple[str, Record] | None:
        """Contact by email, Lead by email, Contact by phone, Lead by phone."""
        match = self.person_match(email, phone)
        return (match[0], match[1]) if match is not None else None

    def person_match(self, email: str, phone: str) -> tuple[str, Record, str] | None:
        """Like `person`, with the rule that matched (`email` or `phone`), which the dry
        run and the write log show support."""
        if self._index is None:
            self._index = {}
            for obj, rows in (("Contact", self.contacts), ("Lead", self.leads)):
                for row in rows:  # first record wins, as Salesforce returned them
                    for key in (
                        ("Email", obj, normalize_email(row.get("Email"))),
                        ("Phone", obj, normalize_phone(row.get("Phone"))),
                    ):
                        if key[2]:
                            self._index.setdefault(key, (obj, row))
        for field_name, value in (
            ("Email", normalize_email(email)),
            ("Phone", normalize_phone(phone)),
        ):
            if not value:
                continue
            for obj in ("Contact", "Lead"):
                if (hit := self._index.get((field_name, obj, value))) is not None:
                    return hit[0], hit[1], MATCH_EMAIL if field_name == "Email" else MATCH_PHONE
        return None

    def account(self, domain: str) -> Record | None:
        """By external id first (what we created), then the oldest account whose Website is
        on the domain."""
        match = self.account_match(domain)
        return match[0] if match is not None else None

    def account_match(self, domain: str) -> tuple[Record, str] | None:
        """Like `account`, with the rule that matched (`SalesMonk_Domain__c` or `domain`)."""
        if self._accounts is None:
            self._accounts = {}
            oldest = sorted(self.accounts, key=lambda a: (a.get("CreatedDate") or "", a["Id"]))
            for a in oldest:
                if site := normalize_domain(a.get("Website")):
                    self._accounts.setdefault(("site", site), a)
                if ext := (a.get("SalesMonk_Domain__c") or "").lower():
                    self._accounts.setdefault(("ext", ext), a)
        if (hit := self._accounts.get(("ext", domain))) is not None:
            return hit, MATCH_EXTERNAL_ID
        if (hit := self._accounts.get(("site", domain))) is not None:
            return hit, MATCH_DOMAIN
        return None


def _chunks(values: Sequence[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield list(values[i : i + size])


def _select(fields: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(fields))


def build_queries(
    *,
    tenant: Tenant,
    emails: set[str],
    phones: set[str],
    domains: set[str],
    chat_emails: set[str],
    person_fields: dict[str, list[str]],
    account_fields: list[str],
    has_domain_field: bool,
    event_subjects: set[str],
    note_titles: set[str],
) -> list[tuple[str, str]]:
    """(kind, SOQL) for everything one batch needs to know."""
    queries: list[tuple[str, str]] = []
    # Records the mirror knows by normalized phone/domain: their raw values vary in format.
    norm_phones = {p for p in (normalize_phone(x) for x in phones) if p}
    mirror_people = {
        "Contact": list(
            Contact.objects.for_tenant(tenant)
            .filter(phone__in=norm_phones, remote_was_deleted=False)
            .values_list("remote_id", flat=True)
        ),
        "Lead": list(
            Lead.objects.for_tenant(tenant)
            .filter(phone__in=norm_phones, remote_was_deleted=False)
            .values_list("remote_id", flat=True)
        ),
    }
    keys = sorted(emails) + sorted(phones)
    for obj in ("Contact", "Lead"):
        select = _select([*PERSON_BASE, *person_fields[obj]])
        if obj == "Contact":
            select += ", AccountId, Account.OwnerId"
        live = " AND IsConverted = false" if obj == "Lead" else ""
        ids = mirror_people[obj]
        for chunk in list(_chunks(keys, IN_CHUNK)) or [[]]:
            clauses = []
            if chunk_emails := [k for k in chunk if "@" in k]:
                clauses.append(format_soql("Email IN {}", chunk_emails))
            if chunk_phones := [k for k in chunk if "@" not in k]:
                clauses.append(format_soql("Phone IN {}", chunk_phones))
            if ids:
                clauses.append(format_soql("Id IN {}", ids))
                ids = []  # once is enough
            if clauses:
                where = " OR ".join(clauses)
                queries.append((obj, f"SELECT {select} FROM {obj} WHERE ({where}){live}"))
    if domains:
        mirror_accounts = list(
            Account.objects.for_tenant(tenant)
            .filter(domain__in=domains, remote_was_deleted=False)
            .values_list("remote_id", flat=True)
        )
        select = _select(["Id", "Name", "Website", "OwnerId", "CreatedDate", *account_fields])
        for chunk in _chunks(sorted(domains), LIKE_CHUNK):
            clauses = [format_soql("Website LIKE '%{:like}%'", d) for d in chunk]
            if has_domain_field:
                clauses.insert(0, format_soql("SalesMonk_Domain__c IN {}", chunk))
            if mirror_accounts:
                clauses.append(format_soql("Id IN {}", mirror_accounts))
                mirror_accounts = []
            queries.append(
                ("Account", f"SELECT {select} FROM Account WHERE {' OR '.join(clauses)}")
            )
    if chat_emails:
        for chunk in _chunks(sorted(chat_emails), IN_CHUNK):
            queries.append(
                (
                    "OpportunityContactRole",
                    format_soql(
                        "SELECT ContactId, OpportunityId FROM OpportunityContactRole "
                        "WHERE Opportunity.IsClosed = false AND Contact.Email IN {}",
                        chunk,
                    ),
                )
            )
    for chunk in _chunks(sorted(event_subjects), IN_CHUNK):
        queries.append(
            ("Event", format_soql("SELECT Id, Subject FROM Event WHERE Subject IN {}", chunk))
        )
    for chunk in _chunks(sorted(note_titles), IN_CHUNK):
        queries.append(
            ("Note", format_soql("SELECT Id, ParentId, Title FROM Note WHERE Title IN {}", chunk))
        )
    return queries


def run_queries(client: SalesforceClient, queries: list[tuple[str, str]]) -> Found:
    """All the lookups, five per composite call (read-only, so retried on 5xx)."""
    found = Found(queries=len(queries))
    base = f"/services/data/v{settings.SALESFORCE_API_VERSION}"
    for start in range(0, len(queries), QUERIES_PER_CALL):
        batch = queries[start : start + QUERIES_PER_CALL]
        subrequests = [
            {"method": "GET", "url": f"{base}/query?q={quote(soql)}", "referenceId": f"q{i}"}
            for i, (_, soql) in enumerate(batch)
        ]
        for (kind, _), sub in zip(batch, client.composite(subrequests, retry=True), strict=True):
            body = sub.get("body")
            if sub["httpStatusCode"] >= 300:
                raise SalesforceRequestError(f"Lookup on {kind} refused: {body}")
            records = list(body["records"])
            while not body.get("done", True):  # more than 2,000 matches: page on
                body = client.query_more(body["nextRecordsUrl"])
                records.extend(body["records"])
            _collect(found, kind, records)
    return found


def _collect(found: Found, kind: str, records: list[Record]) -> None:
    seen = {
        "Contact": found.contacts,
        "Lead": found.leads,
        "Account": found.accounts,
    }
    if kind in seen:
        ids = {r["Id"] for r in seen[kind]}
        seen[kind].extend(r for r in records if r["Id"] not in ids)
    elif kind == "OpportunityContactRole":
        for r in records:
            found.open_opps.setdefault(r["ContactId"], [])
            if r["OpportunityId"] not in found.open_opps[r["ContactId"]]:
                found.open_opps[r["ContactId"]].append(r["OpportunityId"])
    elif kind == "Event":
        found.events.update({r["Subject"]: r["Id"] for r in records})
    elif kind == "Note":
        found.notes.update({(r["ParentId"], r["Title"]): r["Id"] for r in records})
