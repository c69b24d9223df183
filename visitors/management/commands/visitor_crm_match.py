"""Recompute every visitor's stored Salesforce match for a tenant: the backfill after an
upgrade (the sync and identification keep it current afterwards)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesmonk.tenants.models import Tenant
from visitors.tracking.crm_match import visitor_crm_match_refresh


class Command(BaseCommand):
    help = "Recompute who each visitor of a tenant is in Salesforce (backfill)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")

    def handle(self, *args: Any, tenant: str, **options: Any) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        started = time.monotonic()
        changed = visitor_crm_match_refresh(tenant=found)
        self.stdout.write(
            self.style.SUCCESS(
                f"{changed} visitors of {found.name} updated in {time.monotonic() - started:.1f} s."
            )
        )
