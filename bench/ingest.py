"""Ingest throughput and latency on PostgreSQL, against the framework's own ceiling and
the least a durable endpoint does.

The app runs under gunicorn (2 workers x 8 threads, loopback, `SO_REUSEPORT`) on a fresh
database `salesmonk_bench_ingest`; `wrk` drives `POST /t/e` with bodies like the snippet's
(one device's queued page views, `--batch` per request) spread over 10,000 visitors, and
two baselines served the same way with the same bodies: `/bench/noop` (no database work: the
ceiling) and `/bench/append` (ingest's checks, then each request's events appended as one
row through the same group commit: the durable floor; see `bench/_ingest_urls.py`). The
three alternate in `--rounds` rounds, each with new connections, `--seconds` in all for
each: how wrk's connections land on the two workers, and what else the machine does, then
hits all alike. Afterwards every event ingest or the floor acknowledged must be in the
database.

Throughput is over all rounds; p50 is the rounds' median and p99 their highest (a bound on
the whole run's p99). Beside the wall-clock figures (which depend on what else the machine
runs), each phase reports the CPU time the server spent per request: the gunicorn processes
(`app_cpu_ms`) and the PostgreSQL backends serving them (`db_cpu_ms`), read from /proc.

    .venv/bin/python bench/ingest.py [--seconds 60] [--rounds 3] [--batch 5] [--connections 16]

Prints progress on stderr and one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._append_table import APPEND_DDL, APPEND_TABLE  # noqa: E402
from bench._support import fresh_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/salesmonk_bench_ingest"
ORIGIN = "https://www.bench.example"

WRK_SCRIPT = r"""
local visitors = tonumber(os.getenv("BENCH_VISITORS"))
local batch = tonumber(os.getenv("BENCH_BATCH"))
local path = os.getenv("BENCH_PATH")
local origin = os.getenv("BENCH_ORIGIN")
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("tid", counter) end
init = function(args) math.randomseed(os.time() * 100 + tid) end
request = function()
  local id = math.random(1, visitors)
  local ts = os.time() * 1000
  local events = {}
  for i = 1, batch do
    events[i] = string.format(
      '{"type":"page","url":"https://www.bench.example/p/%d?utm_source=src%d",'
      .. '"title":"Page %d","ts":%d}', i, id % 7, i, ts)
  end
  local body = string.format('{"anonymous_id":"bench-visitor-%06d","events":[%s]}',
                             id, table.concat(events, ","))
  return wrk.format("POST", path, {["Content-Type"] = "text/plain", ["Origin"] = origin}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"connect":%d,'
    .. '"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_env(url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "SALESMONK_ENV_FILE": "none",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SALESMONK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": url,
        # persistent connections that outlive the run, so their CPU time can be read
        "CONN_MAX_AGE": "600",
        "DJANGO_SETTINGS_MODULE": "bench._ingest_settings",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def create_site(env: dict[str, str]) -> str:
    code = (
        "from salesmonk.tenants.models import Tenant;"
        "from visitors.tracking.services import site_create;"
        "t = Tenant.objects.create(name='Bench', slug='bench');"
        "print(site_create(tenant=t, acting_user=None, name='Bench',"
        " allowed_domains=['bench.example']).key)"
    )
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], port: int, threads: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "salesmonk.wsgi",
            "--workers=2",
            "--worker-class=gthread",
            f"--threads={threads}",
            f"--bind=127.0.0.1:{port}",
            "--keep-alive=30",
            "--backlog=2048",
            # each worker listens on its own socket and the kernel spreads new connections
            # over them; on one shared socket a burst of connections may all land on one
            "--reuse-port",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/t/s.js", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def run_wrk(
    port: int, path: str, *, seconds: int, connections: int, batch: int, visitors: int
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = {
        **os.environ,
        "BENCH_VISITORS": str(visitors),
        "BENCH_BATCH": str(batch),
        "BENCH_PATH": path,
        "BENCH_ORIGIN": ORIGIN,
    }
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout=5s",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    figures = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    ok = figures["requests"] - figures["status"]
    elapsed = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "requests_ok": ok,
        "seconds": elapsed,
        "events_per_s": round(ok * batch / elapsed, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "errors": errors,
    }


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(server: subprocess.Popen[bytes], url: str) -> tuple[float, float, int]:
    """CPU seconds so far of the gunicorn processes and of the database's backends, and the
    next transaction id (each write transaction takes one: the ingest's groups)."""
    import psycopg

    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    with psycopg.connect(url, autocommit=True) as conn:
        backends = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        (xid,) = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
    return (
        _cpu_seconds([server.pid, *map(int, children)]),
        _cpu_seconds([pid for (pid,) in backends]),
        xid,
    )


def measured(
    server: subprocess.Popen[bytes], url: str, port: int, path: str, **common: Any
) -> dict[str, Any]:
    app0, db0, xid0 = server_cpu(server, url)
    figures = run_wrk(port, path, **common)
    app1, db1, xid1 = server_cpu(server, url)
    figures["app_cpu_s"] = app1 - app0
    figures["db_cpu_s"] = db1 - db0
    figures["transactions"] = xid1 - xid0 - 1  # the second reading took one
    return figures


def combined(rounds: list[dict[str, Any]], batch: int) -> dict[str, Any]:
    """One phase's figures over its rounds: rates over the total time, CPU per request over
    all requests, the median p50 and the highest p99."""
    requests = sum(r["requests"] for r in rounds)
    ok = sum(r["requests_ok"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    return {
        "requests": requests,
        "requests_ok": ok,
        "requests_per_s": round(requests / seconds, 1),
        "events_per_s": round(ok * batch / seconds, 1),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": max(r["p99_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "app_cpu_ms": round(sum(r["app_cpu_s"] for r in rounds) * 1000 / max(1, requests), 3),
        "db_cpu_ms": round(sum(r["db_cpu_s"] for r in rounds) * 1000 / max(1, requests), 3),
        "requests_per_transaction": round(
            requests / max(1, sum(r["transactions"] for r in rounds)), 2
        ),
    }


def count_events(url: str) -> tuple[int, int]:
    """Events in the database: ingest's, and the durable floor's appended ones."""
    import psycopg

    with psycopg.connect(url) as conn:
        (events,) = conn.execute("SELECT count(*) FROM visitors_event").fetchone()
        (appended,) = conn.execute(
            f"SELECT coalesce(sum(jsonb_array_length(events)), 0) FROM {APPEND_TABLE}"
        ).fetchone()
    return events, appended


def create_append_table(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(APPEND_DDL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=int, default=60, help="per phase, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5, help="events per request")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--visitors", type=int, default=10_000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    load_before = os.getloadavg()[0]
    log(f"load average {load_before:.2f}; fresh database {args.database_url.rsplit('/', 1)[1]}")
    fresh_database(args.database_url)
    env = server_env(args.database_url)
    manage(env, "migrate", "--noinput")
    create_append_table(args.database_url)
    key = create_site(env)
    port = free_port()
    log(f"gunicorn: 2 workers x {args.threads} threads on 127.0.0.1:{port}")
    server = start_server(env, port, args.threads)
    try:
        common = {
            "seconds": max(1, args.seconds // args.rounds),
            "connections": args.connections,
            "batch": args.batch,
            "visitors": args.visitors,
        }
        log(
            f"wrk: {args.rounds} rounds of POST /t/e, POST /bench/append (durable floor) and "
            f"POST /bench/noop (no database work), {common['seconds']}s each, "
            f"{args.connections} connections, {args.batch} events/request, "
            f"{args.visitors} visitors"
        )
        paths = {
            "ingest": f"/t/e?k={key}",
            "floor": f"/bench/append?k={key}",
            "ceiling": "/bench/noop",
        }
        rounds: dict[str, list[dict[str, Any]]] = {phase: [] for phase in paths}
        for number in range(1, args.rounds + 1):
            for phase, path in paths.items():
                rounds[phase].append(measured(server, args.database_url, port, path, **common))
            log(
                f"  round {number}: "
                + "; ".join(
                    f"{phase} {rounds[phase][-1]['events_per_s']} events/s, "
                    f"p99 {rounds[phase][-1]['p99_ms']} ms"
                    for phase in paths
                )
            )
        ingest, floor, ceiling = (combined(rounds[phase], args.batch) for phase in paths)
        for phase, figures in zip(paths, (ingest, floor, ceiling), strict=True):
            log(f"  {phase} {figures}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    in_db, appended = count_events(args.database_url)
    acknowledged = ingest["requests_ok"] * args.batch
    floor_acknowledged = floor["requests_ok"] * args.batch
    log(
        f"events acknowledged {acknowledged}, in the database {in_db}; durable floor "
        f"acknowledged {floor_acknowledged}, appended {appended}"
    )
    print(
        json.dumps(
            {
                "events_per_s": ingest["events_per_s"],
                "requests_per_s": ingest["requests_per_s"],
                "events_per_request": args.batch,
                "p50_ms": ingest["p50_ms"],
                "p99_ms": ingest["p99_ms"],
                "errors": ingest["errors"],
                "app_cpu_ms_per_request": ingest["app_cpu_ms"],
                "db_cpu_ms_per_request": ingest["db_cpu_ms"],
                "requests_per_transaction": ingest["requests_per_transaction"],
                "floor_events_per_s": floor["events_per_s"],
                "floor_p50_ms": floor["p50_ms"],
                "floor_p99_ms": floor["p99_ms"],
                "floor_errors": floor["errors"],
                "floor_app_cpu_ms_per_request": floor["app_cpu_ms"],
                "floor_db_cpu_ms_per_request": floor["db_cpu_ms"],
                "floor_requests_per_transaction": floor["requests_per_transaction"],
                "floor_share_of_ceiling": round(floor["events_per_s"] / ceiling["events_per_s"], 3),
                "floor_events_lost": max(0, floor_acknowledged - appended),
                "ceiling_events_per_s": ceiling["events_per_s"],
                "ceiling_p50_ms": ceiling["p50_ms"],
                "ceiling_p99_ms": ceiling["p99_ms"],
                "ceiling_errors": ceiling["errors"],
                "ceiling_app_cpu_ms_per_request": ceiling["app_cpu_ms"],
                "share_of_ceiling": round(ingest["events_per_s"] / ceiling["events_per_s"], 3),
                "events_acknowledged": acknowledged,
                "events_in_database": in_db,
                "events_lost": max(0, acknowledged - in_db),
                "visitors": args.visitors,
                "seconds": args.seconds,
                "rounds": [
                    {
                        "events_per_s": i["events_per_s"],
                        "p99_ms": i["p99_ms"],
                        "floor_events_per_s": f["events_per_s"],
                        "ceiling_events_per_s": c["events_per_s"],
                    }
                    for i, f, c in zip(
                        rounds["ingest"], rounds["floor"], rounds["ceiling"], strict=True
                    )
                ],
                "load_average_before": load_before,
                "connections": args.connections,
                "server": f"gunicorn gthread, 2 workers x {args.threads} threads",
            }
        )
    )


if __name__ == "__main__":
    main()
