"""Run the whole product locally: the job cluster and the web server, stopped together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from salesmonk.tenants.management.commands.seed_demo import DEMO_MEMBER, DEMO_STAFF


class Command(BaseCommand):
    help = "Start the django-q2 cluster and the web server; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")

    def handle(self, *args: Any, addr: str, **options: Any) -> None:
        manage = [sys.executable, "manage.py"]
        children = {
            "jobs": subprocess.Popen([*manage, "qcluster"]),
            "web": subprocess.Popen([*manage, "runserver", addr, "--noreload"]),
        }
        base = f"http://{addr}"
        self.stdout.write(
            self.style.SUCCESS(f"\nSalesMonk is starting on {base}/\n")
            + f"  Customer app:  {base}/   ({DEMO_MEMBER[0]} / {DEMO_MEMBER[1]})\n"
            + f"  Support admin: {base}/admin/   ({DEMO_STAFF[0]} / {DEMO_STAFF[1]})\n"
            + "  Press Ctrl-C to stop.\n"
        )
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
