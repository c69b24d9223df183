"""The Visitors and Companies pages at 100,000 visitors, on PostgreSQL.

Generates, with set-based `INSERT … SELECT … FROM generate_series` into a fresh database:
100,000 visitors (60% at one of 5,000 companies, skewed so a few companies have hundreds of
visitors; half identified; 1% merged), 100,000 devices, 300,000 sessions, 1,000,000 events,
2,000 chats (6,000 messages), 1,000 meetings, and a CRM mirror of 200 users, 20,000
accounts (half the companies' domains), 30,000 opportunities, 30,000 contacts and 20,000
leads (10,000 of each matching a visitor's email). Then it requests each page 200 times
through Django's whole request stack (in-process test client, logged in; no socket) after 5
warm-up requests, and records p50/p95 and the queries of each request:

- `visitors_first` — the Visitors list, first page;
- `visitors_deep` — 200 consecutive pages following the "Older" cursor from the 50,000th
  visitor on;
- `visitors_exclude_customers` — first pages of the list with `exclude_customers=1` (on the
  visitors' stored CRM match, written after generation by `visitor_crm_match_refresh`, whose
  time is reported as `crm_match_refresh_s`);
- `visitor_detail` — 200 different visitors (half of them Contacts or Leads);
- `companies_first` — the Companies list, first page;
- `company_detail` — the 200 companies with the most visitors (the worst case).

Baseline in the same run: the Visitors list the naive way — `Paginator` (OFFSET + exact
COUNT over all visitors) and `visitors_in_crm` called once per row — at the first page and at
page 2,000 (offset 50,000).

    .venv/bin/python bench/pages.py [--database-url postgres://…] [--requests 200]
        [--reuse] [--pages-only]

Prints progress on stderr and one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import fresh_database  # noqa: E402

WARMUP = 5
BULK_TABLES = ("visitors_visitor", "visitors_device", "visitors_session", "visitors_event")

# Deterministic ids: md5(prefix || n)::uuid, so rows can point at each other in SQL.
GENERATE = [
    (
        "crm users",
        """INSERT INTO crm_user (tenant_id, id, remote_id, remote_was_deleted, remote_data,
            created_at, modified_at, name, email, is_active)
        SELECT %(t)s, md5('u' || n)::uuid, '005' || lpad(n::text, 15, '0'), false, '{}',
            %(now)s, %(now)s, 'Rep ' || n, 'rep' || n || '@acme.example', true
        FROM generate_series(0, 199) n""",
    ),
    (
        "stages",
        """INSERT INTO crm_stage (tenant_id, id, remote_id, remote_was_deleted, remote_data,
            created_at, modified_at, name, is_closed, is_won, probability, sort_order)
        SELECT %(t)s, md5('st' || n)::uuid, '01J' || lpad(n::text, 15, '0'), false, '{}',
            %(now)s, %(now)s, 'Stage ' || n, false, false, n * 15, n
        FROM generate_series(1, 6) n""",
    ),
    (
        "accounts",
        """INSERT INTO crm_account (tenant_id, id, remote_id, remote_was_deleted, remote_data,
            created_at, modified_at, name, description, industry, website, domain, type,
            number_of_contacts, addresses, phone_numbers, owner_id, owner_remote_id,
            created_by_salesmonk)
        SELECT %(t)s, md5('a' || n)::uuid, '001' || lpad(n::text, 15, '0'), false,
            json_build_object('Id', '001' || lpad(n::text, 15, '0'), 'Name', 'Account ' || n),
            %(now)s, %(now)s, 'Account ' || n, 'A company that makes things.', 'Technology',
            'https://www.acct' || n || '.com/', 'acct' || n || '.com',
            CASE WHEN mod(n, 10) = 0 THEN 'Customer' ELSE 'Prospect' END,
            mod(n, 40), '[]', '[]', md5('u' || mod(n, 200))::uuid,
            '005' || lpad(mod(n, 200)::text, 15, '0'), false
        FROM generate_series(1, 20000) n""",
    ),
    (
        "opportunities",
        """INSERT INTO crm_opportunity (tenant_id, id, remote_id, remote_was_deleted, remote_data,
            created_at, modified_at, name, description, amount, close_date, pipeline, status,
            last_activity_at, stage_id, stage_remote_id, owner_id, owner_remote_id, account_id,
            account_remote_id)
        SELECT %(t)s, md5('o' || n)::uuid, '006' || lpad(n::text, 15, '0'), false, '{}',
            %(now)s, %(now)s, 'Deal ' || n, '', 1000 * mod(n, 97), (%(now)s::date + mod(n, 120)),
            'New Business',
            CASE mod(n, 7) WHEN 1 THEN 'WON' WHEN 2 THEN 'LOST' ELSE 'OPEN' END,
            %(now)s - mod(n, 30) * interval '1 day', md5('st' || (1 + mod(n, 6)))::uuid, '',
            md5('u' || mod(n, 200))::uuid, '', md5('a' || (1 + mod(n, 20000)))::uuid, ''
        FROM generate_series(1, 30000) n""",
    ),
    (
        "contacts",
        """INSERT INTO crm_contact (tenant_id, id, remote_id, remote_was_deleted, remote_data,
            created_at, modified_at, first_name, last_name, title, email, phone, lead_source,
            email_addresses, phone_numbers, addresses, created_by_salesmonk, account_id,
            account_remote_id, owner_id, owner_remote_id)
        SELECT %(t)s, md5('ct' || n)::uuid, '003' || lpad(n::text, 15, '0'), false, '{}',
            %(now)s, %(now)s, 'Ada', 'Contact ' || n, 'VP Sales',
            CASE WHEN n <= 10000 THEN 'p' || (10 * n) || '@firm' || mod(10 * n, 3000) || '.com'
                 ELSE 'other' || n || '@elsewhere.com' END,
            '', 'Web', '[]', '[]', '[]', false, md5('a' || (1 + mod(n, 20000)))::uuid, '',
            md5('u' || mod(n, 200))::uuid, ''
        FROM generate_series(1, 30000) n""",
    ),
    (
        "leads",
        """INSERT INTO crm_lead (tenant_id, id, remote_id, remote_was_deleted, remote_data,
            created_at, modified_at, first_name, last_name, title, email, phone, lead_source,
            email_addresses, phone_numbers, addresses, created_by_salesmonk, company,
            lead_status, converted_contact_remote_id, converted_account_remote_id, owner_id,
            owner_remote_id)
        SELECT %(t)s, md5('l' || n)::uuid, '00Q' || lpad(n::text, 15, '0'), false, '{}',
            %(now)s, %(now)s, 'Lee', 'Lead ' || n, '',
            CASE WHEN n <= 10000
                 THEN 'p' || (10 * n - 8) || '@firm' || mod(10 * n - 8, 3000) || '.com'
                 ELSE 'lead' || n || '@elsewhere.com' END,
            '', 'Web', '[]', '[]', '[]', false, 'Prospect Ltd', 'Open - Not Contacted', '', '',
            md5('u' || mod(n, 200))::uuid, ''
        FROM generate_series(1, 20000) n""",
    ),
    (
        "companies",
        """INSERT INTO visitors_company (tenant_id, id, domain, name, created_at)
        SELECT %(t)s, md5('c' || k)::uuid,
            CASE WHEN mod(k, 2) = 0 THEN 'acct' || k || '.com' ELSE 'co' || k || '.com' END,
            'Company ' || k, %(now)s
        FROM generate_series(1, 5000) k""",
    ),
    (
        "visitors",
        """INSERT INTO visitors_visitor (tenant_id, id, email, first_name, last_name, phone,
            company_id, company_source, first_seen_at, last_seen_at, total_sessions,
            total_events, utm_campaign, utm_content, utm_medium, utm_source, identified_at,
            merged_into_id, created_at)
        SELECT %(t)s, md5('v' || n)::uuid,
            CASE WHEN mod(n, 2) = 0 THEN 'p' || n || '@firm' || mod(n, 3000) || '.com' ELSE '' END,
            CASE WHEN mod(n, 2) = 0 THEN 'Ada' ELSE '' END,
            CASE WHEN mod(n, 2) = 0 THEN 'Visitor ' || n ELSE '' END,
            '',
            CASE WHEN mod(n, 5) < 3
                 THEN md5('c' || (1 + floor(5000 * power(r, 2)))::int)::uuid END,
            CASE WHEN mod(n, 5) < 3 THEN 'ip' ELSE '' END,
            seen - interval '20 days', seen, 3, 10,
            (ARRAY['spring', 'launch', '', 'retarget'])[1 + mod(n, 4)], '',
            (ARRAY['cpc', 'social', '', 'email'])[1 + mod(n, 4)],
            (ARRAY['google', 'linkedin', '', 'newsletter'])[1 + mod(n, 4)],
            CASE WHEN mod(n, 2) = 0 THEN seen END,
            CASE WHEN mod(n, 100) = 99 THEN md5('v' || (n - 1))::uuid END,
            seen - interval '20 days'
        FROM (SELECT n, random() AS r,
                     %(now)s - random() * interval '90 days' AS seen
              FROM generate_series(1, 100000) n) g""",
    ),
    (
        "site",
        """INSERT INTO visitors_site (tenant_id, id, name, key, allowed_domains, is_active,
            created_at)
        VALUES (%(t)s, md5('site')::uuid, 'Website', 'sk_bench_pages', '["acme.example"]', true,
            %(now)s)""",
    ),
    (
        "devices",
        """INSERT INTO visitors_device (tenant_id, id, site_id, anonymous_id, visitor_id,
            user_agent, first_seen_at, last_seen_at)
        SELECT %(t)s, md5('d' || n)::uuid, md5('site')::uuid, 'anon-' || n, md5('v' || n)::uuid,
            'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 '
            || '(KHTML, like Gecko) Chrome/126.0 Safari/537.36',
            %(now)s - interval '90 days', %(now)s
        FROM generate_series(1, 100000) n""",
    ),
    (
        "sessions",
        """INSERT INTO visitors_session (tenant_id, id, visitor_id, device_id, started_at,
            last_event_at, event_count, landing_url, referrer)
        SELECT %(t)s, md5('s' || s)::uuid, v.id, md5('d' || (1 + mod(s - 1, 100000)))::uuid,
            v.last_seen_at - ((s - 1) / 100000) * interval '3 days' - interval '10 minutes',
            v.last_seen_at - ((s - 1) / 100000) * interval '3 days', 3,
            'https://www.acme.example/p/' || mod(s, 50) || '?utm_source=google',
            'https://www.google.com/'
        FROM generate_series(1, 300000) s
        JOIN visitors_visitor v ON v.id = md5('v' || (1 + mod(s - 1, 100000)))::uuid""",
    ),
    (
        "events",
        """INSERT INTO visitors_event (tenant_id, site_id, visitor_id, device_id, session_id,
            type, occurred_at, received_at, url, path, title, referrer, utm_campaign,
            utm_content, utm_medium, utm_source, data)
        SELECT %(t)s, md5('site')::uuid, s.visitor_id, s.device_id, s.id, 'page',
            s.started_at + ((e - 1) / 300000) * interval '1 minute',
            s.started_at + ((e - 1) / 300000) * interval '1 minute',
            'https://www.acme.example/p/' || mod(e, 50), '/p/' || mod(e, 50),
            'Page ' || mod(e, 50), '', '', '', '', '', '{}'
        FROM generate_series(1, 1000000) e
        JOIN visitors_session s ON s.id = md5('s' || (1 + mod(e - 1, 300000)))::uuid""",
    ),
    (
        "chats",
        """INSERT INTO visitors_chat (tenant_id, id, visitor_id, conversation_key, started_at,
            last_message_at, message_count)
        SELECT %(t)s, md5('ch' || n)::uuid, md5('v' || (10 * n))::uuid, 'conv-' || n,
            %(now)s - interval '2 days', %(now)s - interval '2 days', 3
        FROM generate_series(1, 2000) n""",
    ),
    (
        "chat messages",
        """INSERT INTO visitors_chatmessage (tenant_id, chat_id, sender, body, sent_at)
        SELECT %(t)s, md5('ch' || (1 + mod(m - 1, 2000)))::uuid,
            CASE WHEN m > 2000 AND m <= 4000 THEN 'agent' ELSE 'visitor' END,
            'Message ' || m, %(now)s - interval '2 days' + (m / 2000) * interval '1 minute'
        FROM generate_series(1, 6000) m""",
    ),
    (
        "meetings",
        """INSERT INTO visitors_meeting (tenant_id, id, visitor_id, title, starts_at,
            duration_minutes, booked_at)
        SELECT %(t)s, md5('mt' || n)::uuid, md5('v' || (20 * n))::uuid, 'Demo ' || n,
            %(now)s + interval '2 days', 30, %(now)s - interval '1 day'
        FROM generate_series(1, 1000) n""",
    ),
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(tenant: Any) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    params = {"t": tenant.pk, "now": timezone.now()}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Secondary indexes of the big tables are built once after loading (much faster than
        # maintaining them row by row); primary keys and unique constraints stay.
        cursor.execute(
            """SELECT indexname, indexdef FROM pg_indexes i
            WHERE tablename = ANY(%s) AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [list(BULK_TABLES)],
        )
        deferred = cursor.fetchall()
        for name, _ in deferred:
            cursor.execute(f'DROP INDEX "{name}"')
        # The rows point at each other correctly by construction: skip the deferred foreign
        # key checks (millions of them at COMMIT) for this load only.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SELECT setseed(0.42)")
        for label, sql in GENERATE:
            t0 = time.perf_counter()
            cursor.execute(sql, params)
            log(f"  {label}: {cursor.rowcount:,} rows in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for _, definition in deferred:
            cursor.execute(definition)
        log(f"  {len(deferred)} indexes built in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def measure(
    client: Any, label: str, requests: int, next_url: Callable[[int, Any], str]
) -> dict[str, Any]:
    """Request `next_url(i, previous response)` `requests` times after the warm-up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: list[float] = []
    cpu: list[float] = []
    queries: list[int] = []
    in_queries: list[float] = []
    response = None
    for i in range(requests + WARMUP):
        url = next_url(i, response)
        connection.queries_log.clear()  # a full log (9,000 entries) would hide the count
        with CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.thread_time()
            response = client.get(url)
            elapsed, cpu_used = time.perf_counter() - started, time.thread_time() - cpu_started
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        if i >= WARMUP:
            timings.append(elapsed * 1000)
            cpu.append(cpu_used * 1000)
            queries.append(len(captured))
            in_queries.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)

    def p95(values: list[float]) -> float:
        return round(sorted(values)[int(len(values) * 0.95) - 1], 1)

    figures = {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": p95(timings),
        "queries_per_request": sorted(set(queries)),
        # Wall time waiting on PostgreSQL (the queries' round trips), and this process's CPU.
        "db_p50_ms": round(statistics.median(in_queries), 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_p95_ms": p95(cpu),
    }
    log(f"  {label}: {figures}")
    return figures


def naive_rows_page(queryset: Any, *, tenant: Any, after: str = "", before: str = "") -> Any:
    """The baseline: OFFSET pagination with an exact COUNT, and the CRM side per row."""
    from django.core.paginator import Paginator

    from visitors.browse.selectors import KeysetPage, RowMatch, VisitorRow
    from visitors.tracking.selectors import visitors_in_crm

    paginator = Paginator(queryset.order_by("-last_seen_at", "-id"), 25)
    page = paginator.page(int(after or 1))
    rows = [
        VisitorRow(visitor=v, crm=RowMatch.of(visitors_in_crm(tenant=tenant, visitors=[v])[v.pk]))
        for v in page.object_list
    ]
    return KeysetPage(rows=rows, older=None, newer=None, total=paginator.count, capped=False)


# Long on purpose: a benchmark run: one script, read top to bottom.
def main() -> None:  # noqa: PLR0915
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_PAGES_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesmonk_bench_pages"
        ),
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database a previous run generated"
    )
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="only the lists' first pages, deep pages and detail pages (no customer exclusion, "
        "no naive baselines): a before/after comparison in a few minutes",
    )
    args = parser.parse_args()

    load_before = os.getloadavg()
    if not args.reuse:
        fresh_database(args.database_url)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="salesmonk.settings",
        SALESMONK_ENV_FILE="none",
        DEBUG="true",
        DATABASE_URL=args.database_url,
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from integrations.models import SalesforceConnection
    from salesmonk.paging import Cursor, cursor_encode
    from salesmonk.tenants.models import Membership, Role, Tenant, User
    from visitors.browse import selectors as browse_selectors

    log("migrating")
    call_command("migrate", verbosity=0)
    if args.reuse:
        tenant = Tenant.objects.get(slug="bench")
        user = User.objects.get(email="owner@bench.example")
        generate_seconds = 0.0
    else:
        tenant = Tenant.objects.create(name="Bench Inc", slug="bench")
        user = User.objects.create_user("owner@bench.example", "x")
        Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
        SalesforceConnection.objects.create(
            tenant=tenant, instance_url="https://bench.my.salesforce.com"
        )
        log("generating data")
        generate_seconds = generate(tenant)
        log(f"generated in {generate_seconds:.1f} s")
    from visitors.tracking.crm_match import visitor_crm_match_refresh

    # The CRM filters read each visitor's stored match, which the sync's refresh writes.
    log("storing each visitor's CRM match")
    started = time.perf_counter()
    matched = visitor_crm_match_refresh(tenant=tenant)
    crm_match_seconds = round(time.perf_counter() - started, 1)
    log(f"{matched} matches written in {crm_match_seconds} s")

    client = Client()
    client.force_login(user)
    n = args.requests
    figures: dict[str, Any] = {}

    figures["visitors_first"] = measure(client, "visitors first page", n, lambda i, r: "/visitors/")

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT last_seen_at, id FROM visitors_visitor
            WHERE tenant_id = %s AND merged_into_id IS NULL
            ORDER BY last_seen_at DESC, id DESC OFFSET 50000 LIMIT 1""",
            [tenant.pk],
        )
        at, pk = cursor.fetchone()
    deep_start = "/visitors/?after=" + cursor_encode(
        Cursor(at=at, id=pk), scope=browse_selectors.VISITOR_LIST_SCOPE
    )

    def follow_older(i: int, response: Any) -> str:
        older = (
            re.search(r'href="\?after=([^"]+)"[^>]*data-testid="older"', response.content.decode())
            if response
            else None
        )
        return "/visitors/?after=" + older.group(1) if older else deep_start

    figures["visitors_deep"] = measure(client, "visitors deep pages", n, follow_older)
    if not args.pages_only:
        figures["visitors_exclude_customers"] = measure(
            client, "visitors, exclude customers", n, lambda i, r: "/visitors/?exclude_customers=1"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT id FROM visitors_visitor WHERE tenant_id = %s AND merged_into_id IS NULL
            ORDER BY id LIMIT %s""",
            [tenant.pk, n + WARMUP],
        )
        visitor_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """SELECT company_id FROM visitors_visitor WHERE tenant_id = %s
            AND company_id IS NOT NULL GROUP BY company_id ORDER BY count(*) DESC LIMIT %s""",
            [tenant.pk, n + WARMUP],
        )
        company_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT count(*) FROM visitors_visitor WHERE company_id = %s", [company_ids[0]]
        )
        (largest_company,) = cursor.fetchone()
    figures["visitor_detail"] = measure(
        client, "visitor detail", n, lambda i, r: f"/contact/details/{visitor_ids[i]}"
    )
    figures["companies_first"] = measure(
        client, "companies first page", n, lambda i, r: "/accounts/"
    )
    figures["company_detail"] = measure(
        client, "company detail (largest first)", n, lambda i, r: f"/accounts/{company_ids[i]}"
    )

    if not args.pages_only:
        log("baseline: OFFSET pagination + exact COUNT + visitors_in_crm per row")
        keyset_rows_page = browse_selectors.visitor_rows_page
        browse_selectors.visitor_rows_page = naive_rows_page
        try:
            figures["baseline_naive_first"] = measure(
                client, "naive first page", n, lambda i, r: "/visitors/"
            )
            figures["baseline_naive_page_2000"] = measure(
                client, "naive page 2,000", n, lambda i, r: "/visitors/?after=2000"
            )
        finally:
            browse_selectors.visitor_rows_page = keyset_rows_page

    goal = ("visitors_first", "visitors_deep", "visitor_detail", "company_detail")
    print(
        json.dumps(
            {
                "visitors": 100_000,
                "events": 1_000_000,
                "sessions": 300_000,
                "accounts": 20_000,
                "companies": 5_000,
                "largest_company_visitors": largest_company,
                "requests": n,
                "client": "django.test.Client in-process",
                "generate_seconds": round(generate_seconds, 1),
                "crm_match_refresh_s": crm_match_seconds,
                **figures,
                "goal_p95_50ms_met": all(figures[k]["p95_ms"] <= 50 for k in goal),
                **(
                    {}
                    if args.pages_only
                    else {
                        "deep_vs_naive_p95": round(
                            figures["baseline_naive_page_2000"]["p95_ms"]
                            / figures["visitors_deep"]["p95_ms"],
                            1,
                        )
                    }
                ),
                "load_avg_before": [round(x, 2) for x in load_before],
                "load_avg_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
