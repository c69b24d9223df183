"""How fast the Salesforce emulator answers SOQL pages, so other benchmarks measure SalesMonk.

Starts the emulator as its own process on a free port, seeds one org with N leads (default
100,000) and reads them through simple-salesforce over real HTTP:
- `first_page`: a fresh incremental-sync query (filter + order on SystemModstamp, Id) answering
  its first 2,000-row page, which evaluates the whole result and opens a cursor; measured
  right after a write (`first_page_after_write`: the emulator re-sorts the object) and again
  with nothing changed (its sorted order is reused, like an index);
- `next_page`: each following 2,000-row page (`nextRecordsUrl`);
- `full_read`: all N rows with `query_all`;
- `lookup`: a dedupe lookup (`Email IN (...200 values)`), the write sync's typical read.
Baseline, same run: the same first page computed in-process by the same SOQL engine and
JSON-encoded, without HTTP — the difference is the server and transport overhead.

    .venv/bin/python bench/emulator_query.py [--rows 100000] [--rounds 15]

Prints progress on stderr and one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simple_salesforce import Salesforce  # noqa: E402

from bench._support import start_emulator  # noqa: E402
from salesforce_emulator.control import seed_raw  # noqa: E402
from salesforce_emulator.soql import execute  # noqa: E402
from salesforce_emulator.state import Emulator  # noqa: E402
from salesforce_emulator.testing import create_org, emulator_session  # noqa: E402

FIELDS = (
    "Id, FirstName, LastName, Email, Phone, Company, Status, OwnerId, Owner.Name, SystemModstamp"
)
SYNC_QUERY = (
    f"SELECT {FIELDS} FROM Lead WHERE SystemModstamp >= 2020-01-01T00:00:00Z "
    "ORDER BY SystemModstamp, Id"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def make_leads(n: int) -> list[dict[str, Any]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    statuses = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
    return [
        {
            "FirstName": f"First{i}",
            "LastName": f"Last{i}",
            "Email": f"person{i}@company{i % 5000}.example",
            "Phone": f"+1415555{i % 10000:04d}",
            "Company": f"Company {i % 5000}",
            "Status": statuses[i % 3],
            # A few rows share each timestamp, as bulk edits in a real org do.
            "SystemModstamp": (start + timedelta(seconds=i // 3)).isoformat(),
        }
        for i in range(n)
    ]


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def over_http(base_url: str, leads: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    org = create_org(base_url)
    for i in range(0, len(leads), 20_000):
        org.control.seed(records={"Lead": leads[i : i + 20_000]})
    sf = Salesforce(
        username=org.username,
        password=org.password,
        security_token=org.security_token,
        session=emulator_session(base_url),
    )
    sf.query("SELECT COUNT() FROM Lead")  # warm up the connection and parse cache

    lead_ids = [r["Id"] for r in sf.query("SELECT Id FROM Lead LIMIT 100")["records"]]
    cold, first, nxt = [], [], []
    for i in range(rounds):
        # A write invalidates the emulator's cached order: the next query sorts from scratch,
        # as the first poll after a change does.
        org.control.edit("Lead", lead_ids[i % len(lead_ids)], {"Title": f"Edit {i}"})
        cold.append(timed(lambda: sf.query(SYNC_QUERY))[0])
        elapsed, page = timed(lambda: sf.query(SYNC_QUERY))
        first.append(elapsed)
        assert len(page["records"]) == 2000
        assert page["totalSize"] == len(leads)
        for _ in range(5):
            if page["done"]:
                break
            url = page["nextRecordsUrl"]
            elapsed, page = timed(lambda url=url: sf.query_more(url, identifier_is_url=True))
            nxt.append(elapsed)
    full, rows = timed(lambda: sf.query_all(SYNC_QUERY)["records"])
    assert len(rows) == len(leads)
    emails = ",".join(f"'person{i}@company{i % 5000}.example'" for i in range(0, 20_000, 100))
    lookup_query = f"SELECT Id, Email FROM Lead WHERE Email IN ({emails})"
    lookups = [timed(lambda: sf.query(lookup_query))[0] for _ in range(rounds)]
    return {
        "first_page_after_write_p50_ms": ms(statistics.median(cold)),
        "first_page_after_write_p95_ms": ms(pct(cold, 0.95)),
        "first_page_p50_ms": ms(statistics.median(first)),
        "first_page_p95_ms": ms(pct(first, 0.95)),
        "next_page_p50_ms": ms(statistics.median(nxt)),
        "next_page_p95_ms": ms(pct(nxt, 0.95)),
        "full_read_seconds": round(full, 2),
        "full_read_rows_per_second": round(len(leads) / full),
        "lookup_200_emails_p50_ms": ms(statistics.median(lookups)),
        "api_calls_full_read": -(-len(leads) // 2000),
    }


def in_process(leads: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """Baseline: the same engine and page, no server and no HTTP."""
    emu = Emulator(None)
    org = emu.create_org("baseline", custom_fields=True, users=[])
    seed_raw(org, {"Lead": leads})
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = execute(
            SYNC_QUERY,
            schema=org.schema,
            source=org.store,
            include_deleted=False,
            now=org.clock.now(),
        )
        page = [result.project(r) for r in result.rows[:2000]]
        json.dumps({"totalSize": result.total_size, "records": page}, separators=(",", ":"))
        samples.append(time.perf_counter() - t0)
    emu.close()
    return {"engine_first_page_p50_ms": ms(statistics.median(samples))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    leads = make_leads(args.rows)
    log(f"baseline: in-process engine over {args.rows} leads")
    baseline = in_process([dict(r) for r in leads], args.rounds)
    proc, base_url = start_emulator()
    try:
        log(f"emulator at {base_url}: seeding {args.rows} leads and querying over HTTP")
        figures = over_http(base_url, leads, args.rounds)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    figures.update(baseline)
    figures["http_overhead_ms"] = round(
        figures["first_page_p50_ms"] - figures["engine_first_page_p50_ms"], 1
    )
    print(json.dumps({"benchmark": "emulator_query", "rows": args.rows, **figures}))


if __name__ == "__main__":
    main()
