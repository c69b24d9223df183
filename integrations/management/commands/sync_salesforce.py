"""`manage.py sync_salesforce --tenant SLUG [--full] [--objects Account,Lead]`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.sync.runs import SyncSkipped, read_sync_run
from salesmonk.tenants.models import Tenant

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Mirror a tenant's Salesforce org now (incremental unless --full)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--full", action="store_true", help="re-read every record")
        parser.add_argument(
            "--objects", default="", help="comma-separated Salesforce objects (default: all)"
        )

    def handle(self, *args: Any, tenant: str, full: bool, objects: str, **options: Any) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        names = [o.strip() for o in objects.split(",") if o.strip()] or None
        try:
            run = read_sync_run(tenant=found, full=full, objects=names, progress=self._progress)
        except (SyncSkipped, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        sys.stderr.write("\n")
        for name, counts in run.counts.items():
            self.stdout.write(f"  {name:<17} {counts}")
        line = f"{run.get_kind_display()} sync {run.status}: {run.api_calls} API calls"
        if run.status == "succeeded":
            self.stdout.write(self.style.SUCCESS(line))
        else:
            self.stdout.write(self.style.ERROR(f"{line} — {run.error}"))

    def _progress(self, name: str, read: int, total: int) -> None:
        done = min(1.0, read / total) if total else 1.0
        bar = "#" * round(done * BAR_WIDTH)
        sys.stderr.write(f"\r{name:<17} [{bar:<{BAR_WIDTH}}] {read:>8,}/{total:,}   ")
        sys.stderr.flush()
