"""`manage.py alerts_schedules`: the every-minute Slack alerts schedule (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from visitors.alerts.schedules import schedule_alerts


class Command(BaseCommand):
    help = "Create or update the Slack alerts schedule (every minute). Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        schedule_alerts()
        self.stdout.write("Slack alerts scheduled every minute.")
