"""Identify → Salesforce, for `bench/writeback.py`: how long after a visitor identifies on
the customer's site their Lead is in Salesforce, with the stack `make run` starts.

A job cluster (`manage.py qcluster`) and the web server (`manage.py runserver --noreload`,
as `rundev` starts them) run as subprocesses on the benchmark's database and emulator.
A tenant with every kind of write enabled by support posts identify events to the real
ingest endpoint over HTTP, one person at a time; each is timed from the POST until its Lead
is listed by the emulator's control API (`GET /__emulator__/orgs/<org>/records/Lead`).
What carries it: the ingest transaction records the write intents, on commit the web server
queues a drain (`integrations.tasks.write_sync_soon`, at most once per
`WRITE_DRAIN_DEBOUNCE_SECONDS` per process), and the cluster runs it; the every-minute
`salesforce-write-drain` schedule is the safety net.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from bench._support import BENCH_APP, tenant_connected

ROOT = Path(__file__).resolve().parent.parent
ORIGIN_HOST = "latency-bench.example"
LEAD_TIMEOUT = 180.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    """A `manage.py` subprocess in its own process group (so stopping it stops its
    children: the cluster's workers), output to `out`."""
    with out.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGINT to each process group we started (the cluster stops its workers), then
    SIGKILL to whatever is left after 15 seconds."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + 15
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group may outlive its leader
        proc.wait(timeout=5)


def wait_for(what: str, check: Any, timeout: float, procs: list[Any], logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a subprocess exited while waiting for {what}; see {logs}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}; see {logs}")
        time.sleep(0.1)


def setup(base_url: str) -> tuple[Any, Any, Any]:
    """A connected tenant with every kind of write enabled by support, and its site."""
    from integrations.models import ConnectionStatus, SalesforceConnection
    from integrations.services import (
        connection_disconnect,
    )
    from integrations.write.policy import WRITE_FLAGS, writes_enable
    from salesforce_emulator.testing import create_org
    from salesmonk.tenants.models import User
    from visitors.models import Site

    # Earlier parts' tenants stop syncing, so the cluster works for this tenant alone.
    for conn in SalesforceConnection.objects.filter(status=ConnectionStatus.CONNECTED):
        connection_disconnect(tenant=conn.tenant, acting_user=None)
    org = create_org(base_url, connected_apps=[BENCH_APP])
    org.control.seed(
        records={"Account": [{"Name": "Known", "Website": "https://known-latency.example"}]}
    )
    tenant = tenant_connected(org, "latency").tenant
    support = User.objects.create_user(
        email="support-latency@example.com", password="x", is_staff=True
    )
    writes_enable(tenant=tenant, acting_user=support, flags=WRITE_FLAGS, note="bench: latency")
    site = Site.objects.create(tenant=tenant, name="Latency", allowed_domains=[ORIGIN_HOST])
    return org, tenant, site


def identify(url: str, n: int) -> tuple[str, float]:
    """Post one identify as the snippet does; (email, monotonic time before the POST)."""
    email = f"person{n}-{secrets.token_hex(3)}@latency{n}.example"
    body = {
        "anonymous_id": uuid.uuid4().hex,
        "sent_at": int(time.time() * 1000),
        "events": [
            {
                "type": "identify",
                "email": email,
                "first_name": "Lat",
                "last_name": f"Ency{n}",
                "company_domain": f"latency{n}.example",
            }
        ],
    }
    t0 = time.monotonic()
    answer = requests.post(
        url,
        data=json.dumps(body),
        headers={"Origin": f"http://{ORIGIN_HOST}", "Content-Type": "text/plain"},
        timeout=30,
    )
    if answer.status_code != 202:
        raise RuntimeError(f"ingest answered {answer.status_code}: {answer.text}")
    return email, t0


def run(base_url: str, people: int, debounce: float, gap: float) -> dict[str, Any]:
    from django.db import connections

    from integrations.models import SalesforceConnection, SyncRun

    org, tenant, site = setup(base_url)
    connections.close_all()  # the subprocesses use the database from here on
    env = {**os.environ, "WRITE_DRAIN_DEBOUNCE_SECONDS": str(debounce)}
    logs = Path(tempfile.mkdtemp(prefix="bench-writeback-"))
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(start(["qcluster"], env, logs / "qcluster.log"))
        procs.append(
            start(["runserver", f"127.0.0.1:{port}", "--noreload"], env, logs / "runserver.log")
        )

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                return False

        def settled() -> bool:
            """The cluster ran the connect's describe task and the first read sync."""
            conn = SalesforceConnection.objects.get(tenant=tenant)
            runs = SyncRun.objects.for_tenant(tenant)
            return (
                conn.describe_checked_at is not None
                and runs.filter(finished_at__isnull=False).exists()
            )

        log(f"latency: web server on :{port} and job cluster starting (logs in {logs})")
        wait_for("the web server", listening, 60, procs, logs)
        wait_for("the job cluster's first jobs", settled, 120, procs, logs)
        url = f"http://127.0.0.1:{port}/t/e?k={site.key}"
        seconds = []
        for n in range(people):
            if n and gap:
                time.sleep(gap)
            email, t0 = identify(url, n)

            def written(email: str = email) -> bool:
                return any(r["Email"] == email for r in org.control.records("Lead"))

            wait_for(f"the Lead of {email}", written, LEAD_TIMEOUT, procs, logs)
            seconds.append(time.monotonic() - t0)
            log(f"  identify {n + 1}: Lead in Salesforce after {seconds[-1]:.2f}s")
    finally:
        stop(procs)
    return {
        "identify_to_salesforce_s": round(statistics.median(seconds), 2),
        "identify_to_salesforce_max_s": round(max(seconds), 2),
        "identify_to_salesforce_each_s": [round(s, 2) for s in seconds],
        "identify_people": people,
        "identify_gap_s": gap,
        "write_drain_debounce_s": debounce,
    }
