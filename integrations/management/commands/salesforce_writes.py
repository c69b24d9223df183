"""`manage.py salesforce_writes --tenant SLUG [--dry-run] [--batch N]`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.write.engine import WriteSkipped, write_dry_run, write_sync_run
from salesmonk.tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Drain a tenant's Salesforce write intents now, or with --dry-run show what the next "
        "drain would create and update (works before writes are enabled)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--dry-run", action="store_true", help="call no write endpoint")
        parser.add_argument("--batch", type=int, default=1000, help="visitors per batch")

    def handle(self, *args: Any, tenant: str, dry_run: bool, batch: int, **options: Any) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        try:
            if dry_run:
                run = write_dry_run(tenant=found, batch_size=batch)
            else:
                run = write_sync_run(tenant=found, batch_size=batch)
        except WriteSkipped as exc:
            raise CommandError(str(exc)) from exc
        for item in run.plan:
            self.stdout.write(json.dumps(item, default=str))
        self.stdout.write(f"counts: {json.dumps(run.counts, sort_keys=True)}")
        line = f"{'Dry run' if dry_run else 'Write run'} {run.status}: {run.api_calls} API calls"
        if run.error:
            line += f" ({run.error})"
        self.stdout.write(self.style.SUCCESS(line) if run.status == "succeeded" else line)
