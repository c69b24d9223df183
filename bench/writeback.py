"""The write-back's cost in Salesforce API calls, its exactness, and its time.

An emulated org holds 300 Contacts, 200 Leads and 100 Accounts (with 50 of the contacts on
an open opportunity). SalesMonk has 1,000 identified visitors: 300 are those Contacts, 200
those Leads, 500 are new people; they work at 200 companies, 100 of which are those Accounts.
200 of them booked a meeting and 200 chatted. Every kind of write is enabled and one drain
writes everything. Reported:
- `api_calls` (all of it: describe, lookups, writes) against `api_calls_floor`, computed from
  the batch: 1 describe call + ceil(lookup queries / 5) + max(2, ceil(collections / 5))
  (a composite call carries 5 queries or 5 collections of ≤ 200; Events and Notes on new
  Leads need those Leads' ids, hence at least two write calls);
- `duplicates` in the org afterwards (must be 0) and `verified` (every expected record and
  field present), plus `rerun_*`: all intents put back and drained again (a crash-retry
  scenario) must create nothing;
- `naive_api_calls`: the same work done naively against a twin org in the same run (one
  lookup per visitor per object, one write per record), counted by the emulator;
- `seconds` for our drain.

Then the backfill at scale (`bench/_writeback_backfill.py`, `backfill_*`): `--visitors`
identified visitors already in SalesMonk (default 10,000) when support enables every kind of
write through `integrations.write.policy.writes_enable`; drained until nothing is pending,
its API calls against the floor for the whole backfill, duplicates and missing records in
the org, and the time.

Then identify → Salesforce (`bench/_writeback_latency.py`, `identify_to_salesforce_*`): a
real job cluster and web server as subprocesses; identify events posted to the ingest
endpoint over HTTP, each timed until its Lead is in the emulated org (median and max).

    .venv/bin/python bench/writeback.py [--database-url postgres://…] [--visitors N]
        [--skip-scenario] [--skip-backfill] [--skip-latency] [--people N] [--debounce S]
        [--gap S]

Progress on stderr, one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import (  # noqa: E402
    BENCH_APP,
    django_against_emulator,
    start_emulator,
    tenant_connected,
)

CONTACTS, LEADS, NEW, COMPANIES, KNOWN_COMPANIES = 300, 200, 500, 200, 100
MEETINGS = CHATS = 200
OPEN_OPPS = 50


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def domain(k: int) -> str:
    return f"company{k}.com"


def people() -> list[dict[str, Any]]:
    """The 1,000 visitors: kind (contact/lead/new), email, company index."""
    out = []
    for i in range(CONTACTS + LEADS + NEW):
        kind = "contact" if i < CONTACTS else "lead" if i < CONTACTS + LEADS else "new"
        k = i % COMPANIES
        out.append({"i": i, "kind": kind, "email": f"person{i}@{domain(k)}", "k": k})
    return out


def seed_org(org: Any, visitors: list[dict[str, Any]]) -> None:
    accounts = [
        {"Name": f"Company {k}", "Website": f"https://www.{domain(k)}/home"}
        for k in range(KNOWN_COMPANIES)
    ]
    contacts = [
        {"FirstName": "Old", "LastName": f"C{v['i']}", "Email": v["email"]}
        for v in visitors
        if v["kind"] == "contact"
    ]
    leads = [
        {"FirstName": "Old", "LastName": f"L{v['i']}", "Email": v["email"], "Company": "X"}
        for v in visitors
        if v["kind"] == "lead"
    ]
    ids = org.control.seed(records={"Account": accounts, "Contact": contacts, "Lead": leads})
    opps = org.control.seed(
        records={
            "Opportunity": [
                {"Name": f"Deal {n}", "StageName": "Prospecting", "CloseDate": "2030-01-01"}
                for n in range(OPEN_OPPS)
            ]
        }
    )["ids"]["Opportunity"]
    org.control.seed(
        records={
            "OpportunityContactRole": [
                {"OpportunityId": opp, "ContactId": contact}
                for opp, contact in zip(opps, ids["ids"]["Contact"], strict=False)
            ]
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesmonk_bench_writeback"
        ),
    )
    parser.add_argument("--skip-scenario", action="store_true", help="skip the 1,000 visitors")
    parser.add_argument("--skip-backfill", action="store_true", help="skip the backfill at scale")
    parser.add_argument("--skip-latency", action="store_true", help="skip identify → Salesforce")
    parser.add_argument(
        "--visitors", type=int, default=10_000, help="identified visitors in the backfill"
    )
    parser.add_argument("--people", type=int, default=5, help="identifies timed one by one")
    parser.add_argument(
        "--debounce", type=float, default=5.0, help="WRITE_DRAIN_DEBOUNCE_SECONDS (latency)"
    )
    parser.add_argument(
        "--gap", type=float, default=0.0, help="seconds between one Lead and the next identify"
    )
    args = parser.parse_args()
    proc, base_url = start_emulator()
    try:
        django_against_emulator(args.database_url, base_url)
        from django.db import connection

        figures: dict[str, Any] = {"benchmark": "writeback", "database": connection.vendor}
        if not args.skip_scenario:
            figures |= run(base_url)
        if not args.skip_backfill:
            from bench import _writeback_backfill

            figures |= _writeback_backfill.run(base_url, args.visitors)
        if not args.skip_latency:
            from bench import _writeback_latency

            figures |= _writeback_latency.run(base_url, args.people, args.debounce, args.gap)
        print(json.dumps(figures))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run(base_url: str) -> dict[str, Any]:
    """The 1,000-visitor scenario of the module docstring: its figures."""
    from integrations.write.engine import write_sync_run
    from salesforce_emulator.testing import create_org
    from visitors.models import WriteIntent

    apps = [BENCH_APP]
    org, twin = create_org(base_url, connected_apps=apps), create_org(base_url, connected_apps=apps)
    visitors = people()
    for o in (org, twin):
        seed_org(o, visitors)

    conn = tenant_connected(org, "bench", api_daily_budget=100_000)
    tenant = conn.tenant
    make_visitors(tenant, visitors)

    log("draining 1,000 visitors' intents")
    org.control.reset_counters()
    t0 = time.perf_counter()
    drain = write_sync_run(tenant=tenant)
    seconds = time.perf_counter() - t0
    assert drain.status == "succeeded", drain.error
    by_kind = org.control.counters()["by_kind"]
    api_calls = sum(by_kind.values())
    log(f"ours: {api_calls} calls in {seconds:.2f}s; counts {drain.counts}")
    pending = WriteIntent.objects.for_tenant(tenant).filter(status="pending").count()

    floor = compute_floor(org)
    duplicates, verified = verify(org, visitors)

    log("re-draining every intent (as after a crash before anything was marked done)")
    WriteIntent.objects.for_tenant(tenant).update(status="pending")
    org.control.reset_counters()
    rerun = write_sync_run(tenant=tenant)
    rerun_calls = sum(org.control.counters()["by_kind"].values())
    rerun_duplicates, _ = verify(org, visitors)

    log("naive write-back against the twin org")
    t0 = time.perf_counter()
    naive_api_calls = naive(twin, visitors)  # the login is not a REST call: not counted
    naive_seconds = time.perf_counter() - t0

    return {
        "visitors": len(visitors),
        "meetings": MEETINGS,
        "chats": CHATS,
        "api_calls": api_calls,
        "api_calls_floor": floor,
        "api_calls_by_kind": by_kind,
        "api_calls_client": drain.api_calls,
        "duplicates": duplicates,
        "verified": verified,
        "pending_after": pending,
        "rerun_api_calls": rerun_calls,
        "rerun_status": rerun.status,
        "rerun_duplicates": rerun_duplicates,
        "naive_api_calls": naive_api_calls,
        "naive_seconds": round(naive_seconds, 2),
        "seconds": round(seconds, 2),
    }


def make_visitors(tenant: Any, visitors: list[dict[str, Any]]) -> None:
    import datetime as dt

    from django.utils import timezone

    from visitors.models import Chat, ChatMessage, Company, Meeting, Visitor, WriteIntent

    now = timezone.now()
    companies = Company.objects.bulk_create(
        [Company(tenant=tenant, domain=domain(k), name=f"Company {k}") for k in range(COMPANIES)]
    )
    rows = Visitor.objects.bulk_create(
        [
            Visitor(
                tenant=tenant,
                email=v["email"],
                first_name="Ada",
                last_name=f"Visitor{v['i']}",
                company=companies[v["k"]],
                first_seen_at=now - dt.timedelta(days=2),
                last_seen_at=now,
                identified_at=now,
                total_sessions=v["i"] % 7 + 1,
                utm_source="newsletter",
                utm_campaign=f"c{v['i'] % 5}",
            )
            for v in visitors
        ]
    )
    # Meetings and chats: half by known contacts, half by new people.
    meeting_by = [rows[n] for n in range(MEETINGS // 2)] + [
        rows[CONTACTS + LEADS + n] for n in range(MEETINGS // 2)
    ]
    chat_by = [rows[n] for n in range(CHATS // 2)] + [
        rows[CONTACTS + LEADS + NEW // 2 + n] for n in range(CHATS // 2)
    ]
    Meeting.objects.bulk_create(
        [
            Meeting(
                tenant=tenant,
                visitor=v,
                title="Demo",
                starts_at=now + dt.timedelta(days=1),
                duration_minutes=30,
                booked_at=now,
            )
            for v in meeting_by
        ]
    )
    chats = Chat.objects.bulk_create(
        [
            Chat(
                tenant=tenant,
                visitor=v,
                conversation_key=f"k{n}",
                started_at=now,
                last_message_at=now,
                message_count=2,
            )
            for n, v in enumerate(chat_by)
        ]
    )
    ChatMessage.objects.bulk_create(
        [
            ChatMessage(tenant=tenant, chat=c, body=body, sent_at=now)
            for c in chats
            for body in ("Hello", "Can I see pricing?")
        ]
    )
    intents = [
        WriteIntent(tenant=tenant, visitor=v, kind=kind)
        for v in rows
        for kind in ("account", "lead", "person")
    ]
    intents += [WriteIntent(tenant=tenant, visitor=v, kind="meeting") for v in meeting_by]
    intents += [WriteIntent(tenant=tenant, visitor=v, kind="chat") for v in chat_by]
    WriteIntent.objects.bulk_create(intents)
    from crm.models import WritePolicy

    WritePolicy.objects.create(
        tenant=tenant,
        create_accounts=True,
        create_leads=True,
        update_people=True,
        log_meetings=True,
        log_chats=True,
    )


def compute_floor(org: Any) -> int:
    """From what the batch had to write: describe + lookups + writes, as in the docstring."""
    lookup_queries = 4  # Contacts, Leads (1,000 emails each), Accounts (200 domains), roles
    opp_notes = OPEN_OPPS if CHATS // 2 >= OPEN_OPPS else CHATS // 2
    collections = (
        math.ceil(NEW / 200)  # Lead creates
        + math.ceil((COMPANIES - KNOWN_COMPANIES) / 200)  # Account upserts
        + math.ceil(KNOWN_COMPANIES / 200)  # Account updates (SalesMonk fields)
        + math.ceil(CONTACTS / 200)
        + math.ceil(LEADS / 200)
        + math.ceil(MEETINGS / 200)
        + math.ceil((CHATS + opp_notes) / 200)
    )
    return 1 + math.ceil(lookup_queries / 5) + max(2, math.ceil(collections / 5))


def verify(org: Any, visitors: list[dict[str, Any]]) -> tuple[int, bool]:
    """(duplicates, every expected record and field present)."""
    from crm.normalize import normalize_domain

    def rows(obj: str) -> list[dict[str, Any]]:
        return org.control.records(obj, include_deleted=False)

    contacts, leads, accounts = rows("Contact"), rows("Lead"), rows("Account")
    events, notes = rows("Event"), rows("Note")
    emails = Counter((r["Email"] or "").lower() for r in contacts + leads if r["Email"])
    domains = Counter(normalize_domain(r["Website"]) for r in accounts)
    duplicates = (
        sum(n - 1 for n in emails.values() if n > 1)
        + sum(n - 1 for n in domains.values() if n > 1)
        + sum(n - 1 for n in Counter(e["Subject"] for e in events).values() if n > 1)
        + sum(n - 1 for n in Counter((n["ParentId"], n["Title"]) for n in notes).values() if n > 1)
    )
    by_email = {r["Email"]: r for r in contacts + leads}
    ok = all(
        v["email"] in by_email
        and by_email[v["email"]]["SalesMonk_Total_Sessions__c"] == v["i"] % 7 + 1
        and by_email[v["email"]]["LastName"] == f"Visitor{v['i']}"
        and by_email[v["email"]]["SalesMonk_Contact__c"]
        for v in visitors
    )
    created = [r for r in leads if r["SalesMonk_Created__c"]]
    ok = ok and len(created) == NEW and all(r["LeadSource"] == "SalesMonk" for r in created)
    ok = ok and len(contacts) == CONTACTS and len(leads) == LEADS + NEW
    ok = ok and len(accounts) == COMPANIES
    ok = ok and all(a["SalesMonk_Company__c"] and a["SalesMonk_Domain__c"] for a in accounts)
    ok = ok and len(events) == MEETINGS and all(e["WhoId"] for e in events)
    ok = ok and len(notes) == CHATS + OPEN_OPPS
    return duplicates, ok


def naive(org: Any, visitors: list[dict[str, Any]]) -> int:
    """Per visitor: look up Contact, Lead and Account one by one, then write each record on
    its own (what a straightforward integration does)."""
    from simple_salesforce.format import format_soql

    sf = org.salesforce()
    org.control.reset_counters()
    accounts_done: dict[str, str] = {}
    for v in visitors:
        d = domain(v["k"])
        contact = sf.query(format_soql("SELECT Id FROM Contact WHERE Email = {}", v["email"]))
        lead = sf.query(format_soql("SELECT Id FROM Lead WHERE Email = {}", v["email"]))
        account = sf.query(format_soql("SELECT Id FROM Account WHERE Website LIKE '%{:like}%'", d))
        fields = {"LastName": f"Visitor{v['i']}", "SalesMonk_Total_Sessions__c": v["i"] % 7 + 1}
        if contact["records"]:
            who = contact["records"][0]["Id"]
            sf.Contact.update(who, fields)
        elif lead["records"]:
            who = lead["records"][0]["Id"]
            sf.Lead.update(who, fields)
        else:
            who = sf.Lead.create({**fields, "Email": v["email"], "Company": d})["id"]
        if d not in accounts_done:
            if account["records"]:
                accounts_done[d] = account["records"][0]["Id"]
                sf.Account.update(accounts_done[d], {"SalesMonk_Company__c": "https://x/"})
            else:
                accounts_done[d] = sf.Account.create({"Name": d, "Website": d})["id"]
        n = v["i"]
        met = n < MEETINGS // 2 or CONTACTS + LEADS <= n < CONTACTS + LEADS + MEETINGS // 2
        if met:
            sf.Event.create(
                {
                    "WhoId": who,
                    "Subject": "Demo",
                    "DurationInMinutes": 30,
                    "ActivityDateTime": "2030-01-01T10:00:00Z",
                }
            )
        start = CONTACTS + LEADS + NEW // 2
        if n < CHATS // 2 or start <= n < start + CHATS // 2:
            sf.Note.create({"ParentId": who, "Title": "Chat", "Body": "Hello"})
            if contact["records"]:
                roles = sf.query(
                    format_soql(
                        "SELECT OpportunityId FROM OpportunityContactRole WHERE ContactId = {}",
                        who,
                    )
                )
                for role in roles["records"]:
                    sf.Note.create({"ParentId": role["OpportunityId"], "Title": "Chat"})
    return sum(org.control.counters()["by_kind"].values())


if __name__ == "__main__":
    main()
