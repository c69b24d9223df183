"""The backfill at scale, for `bench/writeback.py`: visitors already identified when support
enables writes, backfilled and drained through the same services the admin uses.

The mix follows the main scenario, larger and with most people new: of `n` visitors 15 % are
existing Contacts, 10 % existing Leads and 75 % new people, at n/5 companies of which a
quarter are existing Accounts; 5 % booked a meeting and 5 % chatted (half of each known
Contacts, half new people); 100 of the Contacts are on an open opportunity.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench._support import BENCH_APP, tenant_connected

OPEN_OPPS = 100
# What the engine puts in one lookup query and one collection (integrations/write/lookup.py
# IN_CHUNK and LIKE_CHUNK, engine.py COLLECTION_SIZE) and what one composite call carries.
IN_VALUES, LIKE_DOMAINS, COLLECTION, PER_CALL = 1000, 200, 200, 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Mix:
    visitors: int

    @property
    def contacts(self) -> int:
        return self.visitors * 15 // 100

    @property
    def leads(self) -> int:
        return self.visitors * 10 // 100

    @property
    def new(self) -> int:
        return self.visitors - self.contacts - self.leads

    @property
    def companies(self) -> int:
        return max(1, self.visitors // 5)

    @property
    def known_companies(self) -> int:
        return self.companies // 4

    @property
    def meetings(self) -> int:
        return self.visitors * 5 // 100 // 2 * 2

    @property
    def chats(self) -> int:
        return self.meetings

    def email(self, i: int) -> str:
        return f"bf{i}@{domain(i % self.companies)}"

    def meeting_by(self) -> list[int]:
        half = self.meetings // 2
        return [*range(half), *range(self.contacts + self.leads, self.contacts + self.leads + half)]

    def chat_by(self) -> list[int]:
        half, start = self.chats // 2, self.contacts + self.leads + self.new // 2
        return [*range(half), *range(start, start + half)]


def domain(k: int) -> str:
    return f"backfill{k}.com"


def seed_org(org: Any, mix: Mix) -> None:
    """The org's existing Accounts, Contacts, Leads and open opportunities, seeded over the
    emulator's control API in chunks."""

    def seed(obj: str, rows: list[dict[str, Any]]) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(rows), 2000):
            answer = org.control.seed(records={obj: rows[start : start + 2000]})
            ids += answer["ids"][obj]
        return ids

    seed(
        "Account",
        [
            {"Name": f"Backfill {k}", "Website": f"https://www.{domain(k)}/"}
            for k in range(mix.known_companies)
        ],
    )
    contact_ids = seed(
        "Contact",
        [
            {"FirstName": "Old", "LastName": f"C{i}", "Email": mix.email(i)}
            for i in range(mix.contacts)
        ],
    )
    seed(
        "Lead",
        [
            {"FirstName": "Old", "LastName": f"L{i}", "Email": mix.email(i), "Company": "X"}
            for i in range(mix.contacts, mix.contacts + mix.leads)
        ],
    )
    opps = seed(
        "Opportunity",
        [
            {"Name": f"Deal {n}", "StageName": "Prospecting", "CloseDate": "2030-01-01"}
            for n in range(min(OPEN_OPPS, mix.contacts))
        ],
    )
    seed(
        "OpportunityContactRole",
        [
            {"OpportunityId": opp, "ContactId": contact}
            for opp, contact in zip(opps, contact_ids, strict=False)
        ],
    )


def make_visitors(tenant: Any, mix: Mix) -> None:
    """Identified visitors, their companies, meetings and chats, recorded while writes were
    off (so no intents exist yet: the backfill makes them)."""
    from django.utils import timezone

    from visitors.models import Chat, ChatMessage, Company, Meeting, Visitor

    now = timezone.now()
    companies = Company.objects.bulk_create(
        [
            Company(tenant=tenant, domain=domain(k), name=f"Backfill {k}")
            for k in range(mix.companies)
        ],
        batch_size=2000,
    )
    rows = Visitor.objects.bulk_create(
        [
            Visitor(
                tenant=tenant,
                email=mix.email(i),
                first_name="Ada",
                last_name=f"Backfill{i}",
                company=companies[i % mix.companies],
                first_seen_at=now - dt.timedelta(days=3),
                last_seen_at=now - dt.timedelta(minutes=i % 600),
                identified_at=now - dt.timedelta(days=1),
                total_sessions=i % 7 + 1,
                utm_source="newsletter",
            )
            for i in range(mix.visitors)
        ],
        batch_size=2000,
    )
    Meeting.objects.bulk_create(
        [
            Meeting(
                tenant=tenant,
                visitor=rows[i],
                title="Demo",
                starts_at=now + dt.timedelta(days=1),
                duration_minutes=30,
                booked_at=now,
            )
            for i in mix.meeting_by()
        ]
    )
    chats = Chat.objects.bulk_create(
        [
            Chat(
                tenant=tenant,
                visitor=rows[i],
                conversation_key=f"bf{i}",
                started_at=now,
                last_message_at=now,
                message_count=2,
            )
            for i in mix.chat_by()
        ]
    )
    ChatMessage.objects.bulk_create(
        [
            ChatMessage(tenant=tenant, chat=c, body=body, sent_at=now)
            for c in chats
            for body in ("Hello", "Can I see pricing?")
        ]
    )


def floor(mix: Mix) -> dict[str, int]:
    """The fewest API calls any drain of this backfill makes, with the engine's query and
    collection sizes: 1 describe + ceil(lookup queries / 5) + max(2, ceil(collections / 5)),
    counted over the whole backfill as one batch (every composite call full)."""
    chatted = set(mix.chat_by())
    opp_notes = sum(1 for i in chatted if i < min(OPEN_OPPS, mix.contacts))
    lookups = (
        2 * math.ceil(mix.visitors / IN_VALUES)  # Contacts and Leads by email
        + math.ceil(mix.companies / LIKE_DOMAINS)  # Accounts by external id / Website
        + math.ceil(len(chatted) / IN_VALUES)  # open opportunities' contact roles
    )
    collections = (
        math.ceil(mix.new / COLLECTION)  # Lead creates
        + math.ceil((mix.companies - mix.known_companies) / COLLECTION)  # Account upserts
        + math.ceil(mix.known_companies / COLLECTION)  # Account updates
        + math.ceil(mix.contacts / COLLECTION)
        + math.ceil(mix.leads / COLLECTION)
        + math.ceil(mix.meetings / COLLECTION)  # Events
        + math.ceil((mix.chats + opp_notes) / COLLECTION)  # Notes
    )
    lookup_calls = math.ceil(lookups / PER_CALL)
    write_calls = max(2, math.ceil(collections / PER_CALL))
    return {
        "lookup_queries": lookups,
        "collections": collections,
        "calls": 1 + lookup_calls + write_calls,
    }


def batched_floor(tenant: Any, mix: Mix, batch: int) -> int:
    """The same floor for the batches the engine drains (`batch` visitors each, in queue
    order): each batch pays its own lookups and its own, partly filled, collections. A
    company written in an earlier batch is found and left alone in a later one."""
    from visitors.models import WriteIntent

    queue = WriteIntent.objects.for_tenant(tenant).filter(status="pending").order_by("id")
    index = {mix.email(i): i for i in range(mix.visitors)}
    order = list(dict.fromkeys(queue.values_list("visitor__email", flat=True).iterator()))
    met, chatted = set(mix.meeting_by()), set(mix.chat_by())
    known_people, with_opps = mix.contacts + mix.leads, min(OPEN_OPPS, mix.contacts)
    written: set[int] = set()
    total = 1  # the describe
    for start in range(0, len(order), batch):
        ids = [index[e] for e in order[start : start + batch]]
        companies = {i % mix.companies for i in ids}
        fresh, chats = companies - written, [i for i in ids if i in chatted]
        written |= companies
        meetings = [i for i in ids if i in met]
        lookups = (
            2 * math.ceil(len(ids) / IN_VALUES)
            + math.ceil(len(companies) / LIKE_DOMAINS)
            + math.ceil(len(chats) / IN_VALUES)
        )
        sizes = [
            sum(1 for i in ids if i >= known_people),  # Lead creates
            sum(1 for k in fresh if k >= mix.known_companies),  # Account upserts
            sum(1 for k in fresh if k < mix.known_companies),  # Account updates
            sum(1 for i in ids if i < mix.contacts),
            sum(1 for i in ids if mix.contacts <= i < known_people),
            len(meetings),
            len(chats) + sum(1 for i in chats if i < with_opps),
        ]
        collections = sum(math.ceil(n / COLLECTION) for n in sizes)
        dependent = any(i >= known_people for i in meetings + chats)
        writes = max(2 if dependent else 1, math.ceil(collections / PER_CALL))
        total += math.ceil(lookups / PER_CALL) + (writes if collections else 0)
    return total


def duplicates(org: Any) -> dict[str, int]:
    """Duplicates in the org, read over the emulator's HTTP control API: people sharing an
    email, Accounts sharing a Website domain, Events sharing a Subject, Notes sharing a
    parent and title."""
    from crm.normalize import normalize_domain

    def rows(obj: str) -> list[dict[str, Any]]:
        return org.control.records(obj, include_deleted=False)

    def extra(values: list[Any]) -> int:
        return sum(n - 1 for n in Counter(values).values() if n > 1)

    people = rows("Contact") + rows("Lead")
    return {
        "people": extra([(r["Email"] or "").lower() for r in people if r["Email"]]),
        "accounts": extra([normalize_domain(r["Website"]) for r in rows("Account")]),
        "events": extra([r["Subject"] for r in rows("Event")]),
        "notes": extra([(r["ParentId"], r["Title"]) for r in rows("Note")]),
    }


def missing(org: Any, mix: Mix) -> dict[str, int]:
    """Records the backfill should have left in the org and did not, by kind: every
    visitor's email on a Contact or Lead, every company an Account, every meeting an Event,
    every chat a Note on the person (and one per open opportunity of a Contact)."""
    from crm.normalize import normalize_domain

    def rows(obj: str) -> list[dict[str, Any]]:
        return org.control.records(obj, include_deleted=False)

    emails = {(r["Email"] or "").lower() for r in rows("Contact") + rows("Lead")}
    sites = {normalize_domain(r["Website"]) for r in rows("Account")}
    opp_notes = sum(1 for i in mix.chat_by() if i < min(OPEN_OPPS, mix.contacts))
    return {
        "people": sum(1 for i in range(mix.visitors) if mix.email(i) not in emails),
        "accounts": sum(1 for k in range(mix.companies) if domain(k) not in sites),
        "events": max(0, mix.meetings - len(rows("Event"))),
        "notes": max(0, mix.chats + opp_notes - len(rows("Note"))),
    }


def run(base_url: str, visitors: int) -> dict[str, Any]:
    """Seed, enable writes as support does, drain until nothing is pending; the figures."""
    from integrations.write.engine import write_sync_run
    from integrations.write.models import WriteLog
    from integrations.write.policy import WRITE_FLAGS, writes_enable, writes_enable_preview
    from salesforce_emulator.testing import create_org
    from salesmonk.tenants.models import User
    from visitors.models import WriteIntent

    mix = Mix(visitors)
    org = create_org(base_url, connected_apps=[BENCH_APP])
    log(f"backfill: seeding the org ({mix.contacts} contacts, {mix.leads} leads, ...)")
    seed_org(org, mix)
    conn = tenant_connected(org, "backfill", api_daily_budget=1_000_000)
    tenant = conn.tenant
    log(f"backfill: {visitors} identified visitors in SalesMonk, writes off")
    make_visitors(tenant, mix)
    support = User.objects.create_user(
        email="support-backfill@example.com", password="x", is_staff=True
    )

    preview = writes_enable_preview(tenant=tenant, flags=WRITE_FLAGS)
    t0 = time.perf_counter()
    writes_enable(
        tenant=tenant, acting_user=support, flags=WRITE_FLAGS, note="bench: backfill at scale"
    )
    enable_seconds = time.perf_counter() - t0
    intents = WriteIntent.objects.for_tenant(tenant)
    backfilled = intents.count()
    log(f"backfill: enabled in {enable_seconds:.2f}s, {backfilled} intents; preview {preview}")

    from integrations.write.engine import BATCH_VISITORS

    per_batch = batched_floor(tenant, mix, BATCH_VISITORS)
    org.control.reset_counters()
    runs = []
    t0 = time.perf_counter()
    while intents.filter(status="pending").exists():
        run = write_sync_run(tenant=tenant)
        runs.append(run)
        log(f"  drain {len(runs)}: {run.status} {run.api_calls} calls, {dict(run.counts)}")
        if run.status != "succeeded" or len(runs) > 50:
            break
    seconds = time.perf_counter() - t0
    by_kind = org.control.counters()["by_kind"]
    calls = sum(by_kind.values())
    lowest = floor(mix)
    dups, lost = duplicates(org), missing(org, mix)
    writes = {f"{o}.{op}": n for o, op, n in _write_counts(tenant)}
    return {
        "backfill_visitors": visitors,
        "backfill_preview": preview,
        "backfill_intents": backfilled,
        "backfill_enable_seconds": round(enable_seconds, 2),
        "backfill_drains": len(runs),
        "backfill_api_calls": calls,
        "backfill_api_calls_client": sum(r.api_calls for r in runs),
        "backfill_api_calls_by_kind": by_kind,
        "backfill_api_calls_floor": lowest["calls"],
        "backfill_api_calls_floor_batched": per_batch,
        "backfill_write_calls": WriteLog.objects.for_tenant(tenant)
        .filter(api_call__isnull=False)
        .values("run_id", "api_call")
        .distinct()
        .count(),
        "backfill_floor_lookup_queries": lowest["lookup_queries"],
        "backfill_floor_collections": lowest["collections"],
        "backfill_ratio": round(calls / lowest["calls"], 2),
        "backfill_writes": writes,
        "backfill_pending_after": intents.filter(status="pending").count(),
        "backfill_failed_after": intents.exclude(status__in=["pending", "done"]).count(),
        "backfill_duplicates": sum(dups.values()),
        "backfill_duplicates_by_kind": dups,
        "backfill_missing": lost,
        "backfill_seconds": round(seconds, 2),
    }


def _write_counts(tenant: Any) -> list[tuple[str, str, int]]:
    from django.db.models import Count

    from integrations.write.models import WriteLog

    rows = (
        WriteLog.objects.for_tenant(tenant)
        .filter(result="success")
        .values("object_name", "operation")
        .annotate(n=Count("id"))
        .order_by("object_name", "operation")
    )
    return [(r["object_name"], r["operation"], r["n"]) for r in rows]
