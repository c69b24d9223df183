"""The unified CRM API's list speed at 100,000 mirrored contacts, on PostgreSQL.

Loads 100,000 contacts (with 10,000 accounts and 200 owners, realistic `remote_data`) into a
fresh database with COPY, then pages through `GET /api/crm/v1/contacts?expand=account,owner`
(100 per page, following `next`) through Django's full request stack, and reports p50/p95 and
the queries of each request. Baselines in the same run: the same pages without `expand`, and
a naive serializer that loads each expanded account and owner on access (N+1).

    .venv/bin/python bench/api.py [--database-url postgres://…] [--contacts 100000]

Prints progress on stderr and one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import fresh_database  # noqa: E402

ACCOUNTS_PER_100_CONTACTS = 10
USERS = 200


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def copy_rows(model: Any, rows: Iterator[dict[str, Any]]) -> int:
    """COPY plain rows into `model`'s table (JSON columns as text), bypassing the ORM."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    json_columns = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[f.attname]) if f.attname in json_columns else row[f.attname]
                        for f in fields
                    ]
                )
                count += 1
    return count


def load(tenant: Any, contacts: int) -> dict[str, list[uuid.UUID]]:
    import datetime as dt

    from crm.factories import salesforce_id
    from crm.models import Account, Contact, CrmUser

    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    accounts = max(1, contacts * ACCOUNTS_PER_100_CONTACTS // 100)
    ids: dict[str, list[uuid.UUID]] = {
        "users": [uuid.uuid4() for _ in range(USERS)],
        "accounts": [uuid.uuid4() for _ in range(accounts)],
    }

    def mirror(n: int, prefix: str, pk: uuid.UUID, raw: dict[str, Any]) -> dict[str, Any]:
        remote_id = salesforce_id(prefix, n + 1)
        at = base + dt.timedelta(seconds=n)
        return {
            "tenant_id": tenant.pk,
            "id": pk,
            "remote_id": remote_id,
            "remote_created_at": at,
            "remote_updated_at": at,
            "remote_was_deleted": False,
            "remote_data": {"attributes": {"type": raw["type"]}, "Id": remote_id, **raw["data"]},
            "created_at": at,
            "modified_at": at,
        }

    def users() -> Iterator[dict[str, Any]]:
        for n, pk in enumerate(ids["users"]):
            row = mirror(n, "005", pk, {"type": "User", "data": {"Name": f"Rep {n}"}})
            yield row | {"name": f"Rep {n}", "email": f"rep{n}@acme.example", "is_active": True}

    def account_rows() -> Iterator[dict[str, Any]]:
        for n, pk in enumerate(ids["accounts"]):
            owner = ids["users"][n % USERS]
            data = {"Name": f"Initech {n}", "Website": f"https://initech{n}.example"}
            row = mirror(n, "001", pk, {"type": "Account", "data": data})
            yield row | {
                "name": f"Initech {n}",
                "description": "A company that makes things. " * 4,
                "industry": "Technology",
                "website": f"https://initech{n}.example",
                "domain": f"initech{n}.example",
                "type": "Customer",
                "number_of_contacts": contacts // accounts,
                "last_activity_at": None,
                "addresses": [{"street_1": f"{n} Main St", "city": "Austin", "country": "US"}],
                "phone_numbers": [{"phone_number": "+15125550100", "phone_number_type": "Work"}],
                "owner_id": owner,
                "owner_remote_id": salesforce_id("005", n % USERS + 1),
                "created_by_salesmonk": False,
            }

    def contact_rows() -> Iterator[dict[str, Any]]:
        for n in range(contacts):
            account_n = n % accounts
            email = f"person{n}@initech{account_n}.example"
            data = {
                "FirstName": "Ada",
                "LastName": f"Lovelace {n}",
                "Email": email,
                "Title": "VP Sales",
                "MailingStreet": f"{n} Side St",
                "MailingCity": "Austin",
                "Description": "Met at the conference; interested in the enterprise plan. " * 3,
            }
            row = mirror(n, "003", uuid.uuid4(), {"type": "Contact", "data": data})
            yield row | {
                "first_name": "Ada",
                "last_name": f"Lovelace {n}",
                "title": "VP Sales",
                "email": email,
                "phone": "+15125550142",
                "lead_source": "Web",
                "email_addresses": [{"email_address": email, "email_address_type": "Work"}],
                "phone_numbers": [{"phone_number": "+15125550142", "phone_number_type": "Mobile"}],
                "addresses": [{"street_1": f"{n} Side St", "city": "Austin", "country": "US"}],
                "last_activity_at": None,
                "created_by_salesmonk": False,
                "account_id": ids["accounts"][account_n],
                "account_remote_id": salesforce_id("001", account_n + 1),
                "owner_id": ids["users"][n % USERS],
                "owner_remote_id": salesforce_id("005", n % USERS + 1),
            }

    for model, rows in ((CrmUser, users()), (Account, account_rows()), (Contact, contact_rows())):
        started = time.perf_counter()
        n = copy_rows(model, rows)
        log(f"  {model.__name__}: {n:,} rows in {time.perf_counter() - started:.1f} s")
    return ids


def measure(client: Any, path: str, requests: int, *, label: str) -> dict[str, Any]:
    """Follow `next` from the first page for `requests` requests (wrapping at the end)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: list[float] = []
    queries: list[int] = []
    cursor = ""
    for i in range(requests + 5):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path + cursor)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert len(body["results"]) == 100, len(body["results"])
        if i >= 5:  # the first few warm caches and connections
            timings.append(elapsed * 1000)
            queries.append(len(captured))
        cursor = f"&cursor={body['next']}" if body["next"] else ""
    timings.sort()
    figures = {
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "queries_per_request": sorted(set(queries)),
    }
    log(f"  {label}: {figures}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_API_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesmonk_bench_api"
        ),
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    fresh_database(args.database_url)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="salesmonk.settings",
        SALESMONK_ENV_FILE="none",
        DEBUG="true",
        DATABASE_URL=args.database_url,
        ALLOWED_HOSTS="testserver",
        CRM_API_RATE_LIMIT="1000000",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from crm.api import selectors
    from crm.api.resources import Options
    from crm.api.services import api_key_create
    from salesmonk.tenants.models import Membership, Role, Tenant, User

    log("migrating")
    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(name="Bench Inc", slug="bench")
    user = User.objects.create_user("owner@bench.example", "x")
    Membership.objects.create(tenant=tenant, user=user, role=Role.OWNER)
    other = Tenant.objects.create(name="Other Inc", slug="other")
    log(f"loading {args.contacts:,} contacts with COPY")
    started = time.perf_counter()
    load(tenant, args.contacts)
    load(other, 1000)  # an outsider's rows share the tables
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    load_seconds = time.perf_counter() - started
    token = api_key_create(tenant=tenant, acting_user=user, name="bench").token
    client = Client(headers={"Authorization": f"Bearer {token}"})

    base = "/api/crm/v1/contacts?page_size=100"
    log(f"{args.requests} requests each")
    expand = measure(client, base + "&expand=account,owner", args.requests, label="expand")
    flat = measure(client, base, args.requests, label="no expand")

    records: Callable[..., Any] = selectors._records

    def without_joins(*, tenant: Any, resource: Any, options: Options) -> Any:
        return records(tenant=tenant, resource=resource, options=Options())

    selectors._records = without_joins  # the serializer then loads each link on access
    try:
        naive = measure(client, base + "&expand=account,owner", args.requests, label="naive")
    finally:
        selectors._records = records

    print(
        json.dumps(
            {
                "contacts": args.contacts,
                "requests": args.requests,
                "load_seconds": round(load_seconds, 1),
                "expand_account_owner": expand,
                "baseline_no_expand": flat,
                "baseline_naive_n_plus_1": naive,
                "expand_vs_naive_p95": round(naive["p95_ms"] / expand["p95_ms"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
