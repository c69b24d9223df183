"""Run the whole product locally: the Salesforce emulator (when `SALESFORCE_EMULATOR_URL` points
at this machine), the job cluster and the web server, stopped together."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from salesmonk.tenants.management.commands.seed_demo import (
    DEMO_MEMBER,
    DEMO_SALESFORCE_ADMIN,
    DEMO_STAFF,
)


class Command(BaseCommand):
    help = "Start the django-q2 cluster and the web server; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument(
            "--emulator-data",
            default="emulator.sqlite3",
            help="file the Salesforce emulator keeps its orgs in",
        )
        parser.add_argument(
            "--no-jobs",
            action="store_true",
            help="leave out the job cluster, to run `manage.py qcluster` yourself (in a "
            "debugger, or to stop and restart it while the rest keeps running)",
        )

    def handle(
        self, *args: Any, addr: str, emulator_data: str, no_jobs: bool, **options: Any
    ) -> None:
        manage = [sys.executable, "manage.py"]
        children: dict[str, subprocess.Popen[bytes]] = {}
        emulator = urlsplit(settings.SALESFORCE_EMULATOR_URL)
        if emulator.hostname in ("127.0.0.1", "localhost") and emulator.port:
            children["salesforce-emulator"] = subprocess.Popen(
                [
                    *(sys.executable, "-m", "salesforce_emulator"),
                    *("--host", emulator.hostname, "--port", str(emulator.port)),
                    *("--data", emulator_data, "--seed", "demo"),
                ]
            )
        if "salesforce-emulator" in children:
            self._connect_demo(manage, emulator.hostname or "127.0.0.1", emulator.port or 0)
        if not no_jobs:
            children["jobs"] = subprocess.Popen([*manage, "qcluster"])
        children["web"] = subprocess.Popen([*manage, "runserver", addr, "--noreload"])
        self._banner(addr, emulator="salesforce-emulator" in children, jobs=not no_jobs)
        self._supervise(children)

    def _banner(self, addr: str, *, emulator: bool, jobs: bool) -> None:
        base = f"http://{addr}"
        lines = [
            self.style.SUCCESS(f"\nSalesMonk is starting on {base}/"),
            f"  Customer app:  {base}/   ({DEMO_MEMBER[0]} / {DEMO_MEMBER[1]})",
            f"  Support admin: {base}/admin/   ({DEMO_STAFF[0]} / {DEMO_STAFF[1]})",
        ]
        if emulator:
            lines.append(
                f"  Salesforce emulator: {settings.SALESFORCE_EMULATOR_URL} "
                f"(admin@acme.example / salesmonk-demo)"
            )
        if not jobs:
            lines.append("  Jobs: not started here; run `manage.py qcluster` yourself.")
        lines.append("  Press Ctrl-C to stop.\n")
        self.stdout.write("\n".join(lines))

    def _supervise(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        """Until Ctrl-C, SIGTERM or one child exits; then stop them all (killed after 10 s)."""
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                exited = [name for name, p in children.items() if p.poll() is not None]
                if exited:
                    self.stderr.write(f"{', '.join(exited)} stopped; shutting down the rest.")
                    break
                time.sleep(0.3)
        finally:
            for proc in children.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for proc in children.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.stdout.write("Stopped.")

    def _connect_demo(self, manage: list[str], host: str, port: int) -> None:
        """Once the emulator listens, connect the demo tenant to its demo org (first run
        only) and mirror it; the job cluster then keeps it in sync on the tenant's schedule."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            self.stderr.write("The Salesforce emulator did not start; not connecting the demo.")
            return
        subprocess.run(
            [
                *manage,
                "connect_salesforce",
                *("--tenant", "acme", "--if-not-connected"),
                *("--username", DEMO_SALESFORCE_ADMIN[0], "--password", DEMO_SALESFORCE_ADMIN[1]),
            ],
            check=False,
        )
        # Mirror the org before the job cluster starts, then give the demo a month of visits
        # drawn from the mirrored people and accounts (both are no-ops on later runs).
        subprocess.run([*manage, "sync_salesforce", "--tenant", "acme"], check=False)
        subprocess.run([*manage, "seed_demo_traffic", "--tenant", "acme"], check=False)
