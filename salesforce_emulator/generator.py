"""Deterministic data generator: realistic companies, people, owners, deals and activities.

Same seed, same org. Rows are bulk-inserted without validation (100k records in seconds),
with derived fields (Name, stage flags, LastActivityDate) computed here instead.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from salesforce_emulator.clock import fmt_datetime
from salesforce_emulator.generator_data import (
    FIRST,
    LAST,
    REPS,
    SUBJECTS,
    SUFFIXES,
    TITLES,
    TLDS,
    WORDS,
)
from salesforce_emulator.ids import KEY_PREFIXES
from salesforce_emulator.org import Org
from salesforce_emulator.schema.standard_objects import (
    INDUSTRIES,
    OCR_ROLES,
    OPPORTUNITY_STAGES,
    SOURCES,
)


def _website(rng: random.Random, domain: str) -> str:
    form = rng.randrange(7)
    if form == 0:
        return f"https://www.{domain}/"
    if form == 1:
        return domain
    if form == 2:
        return f"http://shop.{domain}/path"
    if form == 3:
        return f"www.{domain}"
    if form == 4:
        return f"https://{domain}"
    if form == 5:
        return f"HTTP://WWW.{domain.upper()}"
    return f"https://www.{domain}/en/home?ref=crm"


def _phone(rng: random.Random) -> str:
    a, b, c = rng.randrange(200, 999), rng.randrange(200, 999), rng.randrange(1000, 9999)
    return rng.choice(
        (
            f"({a}) {b}-{c}",
            f"+1 {a} {b} {c}",
            f"{a}-{b}-{c}",
            f"+44 20 {b} {c}",
            f"{a}.{b}.{c}",
            f"+49 (0) 30 {b}{c}",
        )
    )


def company_identity(rng: random.Random, i: int) -> tuple[str, str]:
    """(name, domain) of the i-th company: names repeat across companies, domains never."""
    word = rng.choice(WORDS)
    company = f"{word} {rng.choice(SUFFIXES)}" if rng.random() < 0.7 else f"{word} {i}"
    return company, f"{word.lower()}{i}{rng.choice(TLDS)}"


def account_values(rng: random.Random, company: str, domain: str) -> dict[str, Any]:
    """An Account's fields; the website is written in one of the many forms reps type."""
    return {
        "Name": company,
        "Website": _website(rng, domain),
        "Phone": _phone(rng),
        "Industry": rng.choice(INDUSTRIES),
        "NumberOfEmployees": rng.choice((5, 12, 50, 200, 1500, 12000)),
        "BillingCountry": rng.choice(("USA", "UK", "Germany", "France")),
        "AccountSource": rng.choice(SOURCES),
        "Type": rng.choice(("Prospect", "Customer - Direct", None)),
    }


def person(rng: random.Random, domain: str) -> dict[str, Any]:
    """A contact/lead at `domain`: name pools with accents and apostrophes, varied emails."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", first, f"{first}_{last}"))
    return {
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Email": f"{local}@{domain}".lower().replace("'", "").replace("ü", "u"),
        "Phone": _phone(rng) if rng.random() < 0.8 else None,
        "Title": rng.choice(TITLES),
        "LeadSource": rng.choice(SOURCES),
    }


class _Builder:
    def __init__(self, org: Org, rng: random.Random, now: datetime) -> None:
        self.org, self.rng, self.now = org, rng, now
        self.rows: list[tuple[str, dict[str, Any]]] = []
        self._templates: dict[str, dict[str, Any]] = {}
        self.default_user = org.default_user_id()

    def template(self, obj: str) -> dict[str, Any]:
        t = self._templates.get(obj)
        if t is None:
            o = self.org.schema.objects[obj]
            t = {
                f.name: (bool(f.default_value) if f.type == "boolean" else None)
                for f in o.fields.values()
            }
            self._templates[obj] = t
        return t

    def add(self, obj: str, values: dict[str, Any], created: datetime, owner: str | None = None):
        row = dict(self.template(obj))
        created_s = fmt_datetime(created)
        modified = created + timedelta(seconds=self.rng.randrange(0, 86400 * 5))
        modified = min(modified, self.now)
        mod_s = fmt_datetime(modified)
        user = owner if owner and owner.startswith("005") else self.default_user
        row.update(
            Id=self.org.ids.new(KEY_PREFIXES[obj]),
            IsDeleted=False,
            CreatedDate=created_s,
            CreatedById=user,
            LastModifiedDate=mod_s,
            LastModifiedById=user,
            SystemModstamp=mod_s,
        )
        if "OwnerId" in row:
            row["OwnerId"] = owner or self.default_user
        row.update(values)
        self.rows.append((obj, row))
        return row

    def activity(
        self,
        owners: list[str],
        last_activity: dict[str, str],
        target: str | None,
        what: str | None,
        created: datetime,
        kind: str | None = None,
    ) -> None:
        """A Task (80%) or Event due between 10 days ahead and 60 days ago; past ones feed
        `last_activity` (the LastActivityDate roll-up) of who and what."""
        rng, today = self.rng, self.now.date()
        day = (today - timedelta(days=rng.randrange(-10, 60))).isoformat()
        if kind is None:
            kind = "Task" if rng.random() < 0.8 else "Event"
        if kind == "Task":
            status = rng.choice(("Completed", "Completed", "Not Started", "In Progress"))
            self.add(
                "Task",
                {
                    "WhoId": target,
                    "WhatId": what,
                    "Subject": rng.choice(SUBJECTS),
                    "ActivityDate": day,
                    "Status": status,
                    "Priority": "Normal",
                    "IsClosed": status == "Completed",
                    "Type": "Call",
                },
                created,
                rng.choice(owners),
            )
        else:
            start = datetime.fromisoformat(day + "T15:00:00+00:00")
            self.add(
                "Event",
                {
                    "WhoId": target,
                    "WhatId": what,
                    "Subject": "Meeting",
                    "ActivityDateTime": fmt_datetime(start),
                    "StartDateTime": fmt_datetime(start),
                    "EndDateTime": fmt_datetime(start + timedelta(minutes=30)),
                    "DurationInMinutes": 30,
                    "ActivityDate": day,
                },
                created,
                rng.choice(owners),
            )
        if day <= today.isoformat():
            for t in (target, what):
                if t and last_activity.get(t, "") < day:
                    last_activity[t] = day

    def finish(self, last_activity: dict[str, str]) -> dict[str, int]:
        """Apply LastActivityDate, load every row at once and count them per object."""
        for _, row in self.rows:
            if row["Id"] in last_activity and "LastActivityDate" in row:
                row["LastActivityDate"] = last_activity[row["Id"]]
        self.org.store.bulk_load(self.rows)
        counts: dict[str, int] = {}
        for obj, _ in self.rows:
            counts[obj] = counts.get(obj, 0) + 1
        counts["total"] = len(self.rows)
        return counts


# Long on purpose: a data script: each object's records in turn, read top to bottom.
def generate(org: Org, size: int, seed: int = 0) -> dict[str, int]:  # noqa: C901
    """Add `size` accounts (and about 10 related records per account) to `org`."""
    rng = random.Random(seed)
    now = org.clock.now()
    b = _Builder(org, rng, now)
    owners = []
    for first, last in REPS:
        name = f"{first} {last}"
        user = b.add(
            "User",
            {
                "Username": f"{first}.{last}.{seed}@{org.settings.slug}.example".lower(),
                "FirstName": first,
                "LastName": last,
                "Name": name,
                "Alias": (first[0] + last)[:8].lower(),
                "Email": f"{first}.{last}@{org.settings.slug}.example".lower(),
                "IsActive": True,
                "UserType": "Standard",
                "TimeZoneSidKey": "GMT",
                "ProfileId": org.profile_ids.get("Standard User"),
            },
            now - timedelta(days=400),
        )
        owners.append(user["Id"])
    queue = org.queue_id
    stages = OPPORTUNITY_STAGES
    today = now.date()
    last_activity: dict[str, str] = {}
    custom = org.schema.custom_fields
    emails_seen: list[str] = []

    def when() -> datetime:
        return now - timedelta(seconds=rng.randrange(3600, 86400 * 90))

    for i in range(size):
        company, domain = company_identity(rng, i)
        owner = rng.choice(owners)
        created = when()
        acct = b.add("Account", account_values(rng, company, domain), created, owner)
        contacts = []
        for _ in range(rng.randrange(1, 6)):
            values = person(rng, domain)
            values.update(
                AccountId=acct["Id"], MobilePhone=_phone(rng) if rng.random() < 0.3 else None
            )
            if custom:
                values["SalesMonk_Created__c"] = False
            c = b.add("Contact", values, created + timedelta(minutes=rng.randrange(1, 500)), owner)
            contacts.append(c)
            emails_seen.append(c["Email"])
            if rng.random() < 0.6:
                b.activity(owners, last_activity, c["Id"], acct["Id"], created)
        for _ in range(rng.randrange(0, 3)):
            stage = rng.choice(stages)
            close = today + timedelta(days=rng.randrange(-120, 120))
            opp = b.add(
                "Opportunity",
                {
                    "Name": f"{company} - {rng.choice(('New Business', 'Upsell', 'Renewal'))}",
                    "AccountId": acct["Id"],
                    "StageName": stage[0],
                    "CloseDate": close.isoformat(),
                    "Amount": float(rng.randrange(1, 500) * 100),
                    "Probability": float(stage[1]),
                    "IsClosed": stage[2],
                    "IsWon": stage[3],
                    "ForecastCategoryName": stage[4],
                    "LeadSource": rng.choice(SOURCES),
                    "Type": "New Customer",
                },
                created + timedelta(hours=rng.randrange(1, 48)),
                owner,
            )
            if contacts:
                b.add(
                    "OpportunityContactRole",
                    {
                        "OpportunityId": opp["Id"],
                        "ContactId": rng.choice(contacts)["Id"],
                        "IsPrimary": True,
                        "Role": rng.choice(OCR_ROLES),
                    },
                    created,
                )
            if rng.random() < 0.5:
                b.activity(
                    owners,
                    last_activity,
                    contacts[0]["Id"] if contacts else None,
                    opp["Id"],
                    created,
                )
        if rng.random() < 0.3:
            b.add(
                "Note",
                {
                    "ParentId": acct["Id"],
                    "Title": "Account notes",
                    "Body": f"Spoke with {company} about their plans.",
                },
                created,
                owner,
            )
        for _ in range(rng.randrange(0, 4)):
            lead_domain = domain if rng.random() < 0.3 else f"{rng.choice(WORDS).lower()}-{i}.com"
            values = person(rng, lead_domain)
            if emails_seen and rng.random() < 0.1:
                values["Email"] = rng.choice(emails_seen)
            values.update(
                Company=company if lead_domain == domain else lead_domain.split(".")[0].title(),
                Status=rng.choice(
                    ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
                ),
                Website=_website(rng, lead_domain) if rng.random() < 0.5 else None,
            )
            lead_owner = queue if queue and rng.random() < 0.15 else rng.choice(owners)
            lead = b.add("Lead", values, when(), lead_owner)
            if rng.random() < 0.4:
                b.activity(owners, last_activity, lead["Id"], None, created)
    return b.finish(last_activity)
