"""Deterministic generator with an exact number of records per object.

Benchmarks need orgs shaped like a customer's (e.g. 20k accounts, 40k contacts, 25k leads,
10k opportunities, 5k tasks, events and notes, 200 users), not the fixed ~10 records per
account of `generator.generate`. Records are spread unevenly, as in real orgs: a few big
accounts hold many contacts and deals, most hold one or two.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from salesforce_emulator.generator import (
    _Builder,
    _phone,
    _website,
    account_values,
    company_identity,
    person,
)
from salesforce_emulator.generator_data import FIRST, LAST, REPS, WORDS
from salesforce_emulator.org import Org
from salesforce_emulator.schema.standard_objects import OCR_ROLES, OPPORTUNITY_STAGES, SOURCES

COUNTABLE = ("User", "Account", "Contact", "Lead", "Opportunity", "Task", "Event", "Note")
DEFAULT_USERS = len(REPS)
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")


def normalize_counts(counts: dict[str, Any]) -> dict[str, int]:
    """Validate `{"Account": 20000, ...}`; omitted objects get 0, except User (5 reps)."""
    unknown = sorted(set(counts) - set(COUNTABLE))
    if unknown:
        raise ValueError(f"cannot generate {', '.join(unknown)}; countable: {', '.join(COUNTABLE)}")
    out = {k: int(counts.get(k, DEFAULT_USERS if k == "User" else 0)) for k in COUNTABLE}
    negative = [k for k, v in out.items() if v < 0]
    if negative:
        raise ValueError(f"counts must not be negative: {', '.join(negative)}")
    if out["Note"] and not (out["Account"] or out["Contact"] or out["Lead"] or out["Opportunity"]):
        raise ValueError("Notes need a parent: generate Accounts, Contacts, Leads or Opportunities")
    return out


def _skewed(rng: random.Random, n: int) -> int:
    """An index in [0, n) favouring low indexes, so some accounts are much bigger than most."""
    return min(n - 1, int(n * rng.random() ** 2))


def _users(b: _Builder, count: int, seed: int) -> list[str]:
    org, now = b.org, b.now
    ids = []
    for i in range(count):
        first, last = REPS[i] if i < len(REPS) else (FIRST[i % len(FIRST)], LAST[i % len(LAST)])
        tag = f"{seed}" if i < len(REPS) else f"{seed}.{i}"
        user = b.add(
            "User",
            {
                "Username": f"{first}.{last}.{tag}@{org.settings.slug}.example".lower(),
                "FirstName": first,
                "LastName": last,
                "Name": f"{first} {last}",
                "Alias": (first[0] + last)[:8].lower(),
                "Email": f"{first}.{last}.{i}@{org.settings.slug}.example".lower(),
                "IsActive": b.rng.random() > 0.05,
                "UserType": "Standard",
                "TimeZoneSidKey": "GMT",
                "ProfileId": org.profile_ids.get("Standard User"),
            },
            now - timedelta(days=400 - i % 300),
        )
        ids.append(user["Id"])
    return ids


# Long on purpose: a data script: each object's records in turn, read top to bottom.
def generate_counts(org: Org, counts: dict[str, Any], seed: int = 0) -> dict[str, int]:  # noqa: C901, PLR0915
    """Add exactly `counts[obj]` records of each object (plus one primary contact role per
    opportunity whose account has contacts) to `org`; same seed and counts, same org."""
    n = normalize_counts(counts)
    rng = random.Random(seed)
    now = org.clock.now()
    b = _Builder(org, rng, now)
    owners = _users(b, n["User"], seed) or [org.default_user_id()]
    queue = org.queue_id
    today = now.date()
    last_activity: dict[str, str] = {}
    custom = org.schema.custom_fields

    def when() -> datetime:
        return now - timedelta(seconds=rng.randrange(3600, 86400 * 90))

    accounts: list[tuple[dict[str, Any], str]] = []
    for i in range(n["Account"]):
        company, domain = company_identity(rng, i)
        row = b.add("Account", account_values(rng, company, domain), when(), rng.choice(owners))
        accounts.append((row, domain))

    contacts: list[dict[str, Any]] = []
    by_account: dict[str, list[dict[str, Any]]] = {}
    for i in range(n["Contact"]):
        acct, domain = accounts[_skewed(rng, len(accounts))] if accounts else (None, "")
        values = person(rng, domain or f"{rng.choice(WORDS).lower()}-c{i}.com")
        values["AccountId"] = acct["Id"] if acct else None
        values["MobilePhone"] = _phone(rng) if rng.random() < 0.3 else None
        if custom:
            values["SalesMonk_Created__c"] = False
        owner = acct["OwnerId"] if acct and rng.random() < 0.8 else rng.choice(owners)
        row = b.add("Contact", values, when(), owner)
        contacts.append(row)
        if acct:
            by_account.setdefault(acct["Id"], []).append(row)

    leads: list[dict[str, Any]] = []
    for i in range(n["Lead"]):
        known = accounts and rng.random() < 0.3
        acct, domain = accounts[rng.randrange(len(accounts))] if known else (None, "")
        domain = domain or f"{rng.choice(WORDS).lower()}-{i}.com"
        values = person(rng, domain)
        if contacts and rng.random() < 0.1:
            values["Email"] = rng.choice(contacts)["Email"]
        values.update(
            Company=acct["Name"] if acct else domain.split(".")[0].title(),
            Status=rng.choice(LEAD_STATUSES),
            Website=_website(rng, domain) if rng.random() < 0.5 else None,
        )
        owner = queue if queue and rng.random() < 0.15 else rng.choice(owners)
        created = when()
        if contacts and rng.random() < 0.03:
            into = rng.choice(contacts)
            values.update(
                IsConverted=True,
                Status="Closed - Converted",
                ConvertedDate=(created + timedelta(days=1)).date().isoformat(),
                ConvertedContactId=into["Id"],
                ConvertedAccountId=into["AccountId"],
            )
        leads.append(b.add("Lead", values, created, owner))

    opportunities: list[dict[str, Any]] = []
    for _ in range(n["Opportunity"]):
        acct, _domain = accounts[_skewed(rng, len(accounts))] if accounts else (None, "")
        stage = rng.choice(OPPORTUNITY_STAGES)
        name = acct["Name"] if acct else rng.choice(WORDS)
        opp = b.add(
            "Opportunity",
            {
                "Name": f"{name} - {rng.choice(('New Business', 'Upsell', 'Renewal'))}",
                "AccountId": acct["Id"] if acct else None,
                "StageName": stage[0],
                "CloseDate": (today + timedelta(days=rng.randrange(-120, 120))).isoformat(),
                "Amount": float(rng.randrange(1, 500) * 100) if rng.random() < 0.9 else None,
                "Probability": float(stage[1]),
                "IsClosed": stage[2],
                "IsWon": stage[3],
                "ForecastCategoryName": stage[4],
                "LeadSource": rng.choice(SOURCES),
                "Type": "New Customer",
            },
            when(),
            acct["OwnerId"] if acct else rng.choice(owners),
        )
        opportunities.append(opp)
        people = by_account.get(acct["Id"], []) if acct else []
        if people:
            b.add(
                "OpportunityContactRole",
                {
                    "OpportunityId": opp["Id"],
                    "ContactId": rng.choice(people)["Id"],
                    "IsPrimary": True,
                    "Role": rng.choice(OCR_ROLES),
                },
                when(),
            )

    def who_what() -> tuple[str | None, str | None]:
        if contacts and (not leads or rng.random() < 0.6):
            c = rng.choice(contacts)
            what = c["AccountId"]
            if opportunities and rng.random() < 0.3:
                what = rng.choice(opportunities)["Id"]
            return c["Id"], what
        if leads:
            return rng.choice(leads)["Id"], None
        if opportunities and rng.random() < 0.5:
            return None, rng.choice(opportunities)["Id"]
        return None, rng.choice(accounts)[0]["Id"] if accounts else None

    for kind in ("Task", "Event"):
        for _ in range(n[kind]):
            who, what = who_what()
            b.activity(owners, last_activity, who, what, when(), kind)

    parents = [a for a, _ in accounts], contacts, leads, opportunities
    pools = [p for p in parents if p]
    for _ in range(n["Note"]):
        parent = rng.choice(rng.choice(pools))
        b.add(
            "Note",
            {
                "ParentId": parent["Id"],
                "Title": rng.choice(("Call notes", "Meeting recap", "Account notes", "Next steps")),
                "Body": f"Discussed plans with {parent['Name']}.",
            },
            when(),
            rng.choice(owners),
        )
    return b.finish(last_activity)
