"""`manage.py salesforce_schedules`: one read-sync schedule per connected tenant, no others."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from integrations.schedules import reconcile, schedule_write_drain


class Command(BaseCommand):
    help = "Create missing read-sync schedules and remove stale ones (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        kept, removed = reconcile()
        self.stdout.write(f"{kept} tenant schedule(s) in place, {removed} stale removed.")
        schedule_write_drain()
        self.stdout.write("Write drain scheduled every minute.")
