"""The read sync's cost in Salesforce API calls and in time, on PostgreSQL.

An emulated org with ~118k records (20k accounts, 40k contacts, 25k leads, 10k opportunities,
5k tasks, 5k events, 5k notes, 200 users) is mirrored over HTTP, then polled:
- `api_calls_initial` vs `api_calls_floor` (one describe per object plus ceil(rows/2000)
  query pages per object: the least any reader can spend);
- `api_calls_noop_poll` (nothing changed) and `api_calls_poll_1pct` (after 1% of the
  records changed);
- `mirror_seconds` (initial mirror, wall time), `wait_seconds` (of which waiting on
  Salesforce's answers) and `copy_seconds` (a raw COPY of the same mirrored rows into scratch
  tables, same run): our own work is `mirror_seconds - wait_seconds`;
- `naive_ratio`: a naive mirror (simple-salesforce `query_all` + `update_or_create` per row)
  of 10,000 contacts against ours on the same contacts, same run.

    .venv/bin/python bench/mirror.py [--database-url postgres://…] [--scale 1.0]

Prints progress on stderr and one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
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

COUNTS = {
    "User": 200,
    "Account": 20_000,
    "Contact": 40_000,
    "Lead": 25_000,
    "Opportunity": 10_000,
    "Task": 5_000,
    "Event": 5_000,
    "Note": 5_000,
}
NAIVE_ROWS = 10_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class WaitClock:
    """Time spent inside HTTP round trips to Salesforce (sending, waiting, reading)."""

    def __init__(self) -> None:
        import requests

        self.seconds = 0.0
        original = requests.Session.send

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(session, request, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0

        requests.Session.send = send  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salesmonk_bench"
        ),
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every object count")
    args = parser.parse_args()
    counts = {k: max(1, round(v * args.scale)) for k, v in COUNTS.items()}

    proc, base_url = start_emulator()
    try:
        run(args.database_url, base_url, counts)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# Long on purpose: a benchmark run: one script, read top to bottom.
def run(database_url: str, base_url: str, counts: dict[str, int]) -> None:  # noqa: PLR0915
    django_against_emulator(database_url, base_url)
    import datetime as dt

    import time_machine
    from django.db import connection
    from django.utils import timezone

    from crm import services as crm_services
    from crm.models import Contact
    from integrations.salesforce.client import SalesforceClient
    from integrations.salesforce.mapping import SPECS, SPECS_BY_OBJECT, MappingContext
    from integrations.sync.runs import read_sync_run
    from salesforce_emulator.testing import create_org

    org = create_org(
        base_url,
        connected_apps=[BENCH_APP],
    )
    log(f"seeding {sum(counts.values()):,} records")
    org.control.seed(counts=counts, seed=1)
    remote_counts = {spec.sobject: 0 for spec in SPECS}
    for obj in remote_counts:
        remote_counts[obj] = len(org.control.records(obj, include_deleted=True))
    total = sum(remote_counts.values())

    tenant = tenant_connected(org, "bench").tenant
    waits = WaitClock()

    log(f"initial mirror of {total:,} records")
    t0 = time.perf_counter()
    initial = read_sync_run(tenant=tenant)
    mirror_seconds = time.perf_counter() - t0
    wait_seconds = waits.seconds
    assert initial.status == "succeeded", initial.error
    log(f"initial: {initial.api_calls} calls, {mirror_seconds:.1f}s, waiting {wait_seconds:.1f}s")
    floor = sum(1 + math.ceil(n / 2000) for n in remote_counts.values())

    later = dt.timedelta(minutes=2)
    shift = dt.timedelta()

    def poll() -> Any:
        nonlocal shift
        # getUpdated covers whole minutes: move both clocks past the current one.
        shift += later
        org.control.clock(advance_seconds=later.total_seconds())
        with time_machine.travel(timezone.now() + shift, tick=True):
            return read_sync_run(tenant=tenant)

    settle = poll()  # the minute of the initial read itself is checked once
    noop = poll()
    log("changing 1% of the records")
    changed = 0
    for spec in SPECS:
        if spec.sobject in ("User", "OpportunityStage"):
            continue
        rows = [
            r
            for r in org.control.records(spec.sobject, include_deleted=False)
            if not r.get("IsConverted")  # converted leads are read-only, as in Salesforce
        ]
        for row in rows[: max(1, len(rows) // 100)]:
            field = {"Note": "Title", "Task": "Subject", "Event": "Subject"}.get(
                spec.sobject, "Description"
            )
            org.control.edit(spec.sobject, row["Id"], {field: f"changed {changed}"})
            changed += 1
    poll_1pct = poll()
    assert poll_1pct.status == "succeeded", poll_1pct.error

    log("raw COPY of the mirrored rows into scratch tables")
    copy_seconds = 0.0
    with connection.cursor() as cursor:
        raw = connection.connection
        for spec in SPECS:
            table = spec.model._meta.db_table
            columns = [f.column for f in spec.model._meta.concrete_fields]
            cols = ", ".join(f'"{c}"' for c in columns)
            cursor.execute(f'CREATE TEMP TABLE "scratch_{table}" (LIKE "{table}")')
            with raw.cursor() as pg:
                pg.execute(f'SELECT {cols} FROM "{table}"')
                rows = pg.fetchall()
            t0 = time.perf_counter()
            with raw.cursor() as pg, pg.copy(f'COPY "scratch_{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(
                        [json.dumps(v) if isinstance(v, (dict, list)) else v for v in row]
                    )
            copy_seconds += time.perf_counter() - t0

    log(f"naive mirror vs ours, {NAIVE_ROWS:,} contacts")
    spec = SPECS_BY_OBJECT["Contact"]
    naive_tenant = tenant_connected(org, "naive").tenant
    ours_tenant = tenant_connected(org, "ours").tenant
    ctx = MappingContext()
    client = SalesforceClient(naive_tenant.salesforce_connection)
    fields = ", ".join(spec.fields(client.field_names("Contact")))
    soql = f"SELECT {fields} FROM Contact LIMIT {NAIVE_ROWS}"
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # naive loop's date strings
    t0 = time.perf_counter()
    for record in client.sf.query_all(soql)["records"]:
        row = spec.to_row(record, ctx)
        remote_id = row.pop("remote_id")
        Contact.objects.update_or_create(tenant=naive_tenant, remote_id=remote_id, defaults=row)
    naive_seconds = time.perf_counter() - t0
    ours_client = SalesforceClient(ours_tenant.salesforce_connection)
    ours_client.field_names("Contact")
    t0 = time.perf_counter()
    for page in ours_client.query_pages(soql):
        crm_services.mirror_upsert(
            tenant=ours_tenant, model=Contact, rows=[spec.to_row(r, ctx) for r in page]
        )
    ours_seconds = time.perf_counter() - t0
    assert (
        Contact.objects.for_tenant(naive_tenant).count()
        == Contact.objects.for_tenant(ours_tenant).count()
    )

    figures = {
        "benchmark": "mirror",
        "database": connection.vendor,
        "records": total,
        "api_calls_initial": initial.api_calls,
        "api_calls_floor": floor,
        "api_calls_ratio": round(initial.api_calls / floor, 3),
        "api_calls_first_poll": settle.api_calls,
        "api_calls_noop_poll": noop.api_calls,
        "records_changed": changed,
        "api_calls_poll_1pct": poll_1pct.api_calls,
        "mirror_seconds": round(mirror_seconds, 2),
        "wait_seconds": round(wait_seconds, 2),
        "own_seconds": round(mirror_seconds - wait_seconds, 2),
        "copy_seconds": round(copy_seconds, 2),
        "own_vs_copy": round((mirror_seconds - wait_seconds) / copy_seconds, 2),
        "naive_seconds": round(naive_seconds, 2),
        "ours_seconds": round(ours_seconds, 2),
        "naive_ratio": round(naive_seconds / ours_seconds, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
