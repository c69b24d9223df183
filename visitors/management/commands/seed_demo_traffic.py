"""Give a tenant a month of demo website traffic (idempotent): `make run` calls it after the
demo tenant's first Salesforce sync so visitors match mirrored people and accounts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesmonk.tenants.models import Tenant
from visitors.tracking.demo import demo_traffic_generate


class Command(BaseCommand):
    help = "Create the demo site and a month of visits for a tenant (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="acme", help="tenant slug")
        parser.add_argument("--visitors", type=int, default=300)
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args: Any, tenant: str, visitors: int, days: int, **options: Any) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        if visitors < 1 or days < 1:
            raise CommandError("--visitors and --days must be at least 1.")
        result = demo_traffic_generate(tenant=found, visitors=visitors, days=days)
        if not result.created:
            self.stdout.write(f"{found.name} already has demo traffic on {result.site.name}.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.events} events from {result.visitors} visitors recorded on "
                f"{result.site.name} (site key {result.site.key})."
            )
        )
