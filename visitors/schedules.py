"""The django-q2 schedule of Slack alerts: one for all tenants, every minute.

Declared here and created idempotently by `manage.py alerts_schedules` (which `make run`
calls), never at import time.
"""

from __future__ import annotations

from django.utils import timezone
from django_q.models import Schedule

ALERTS_TICK_TASK = "visitors.tasks.alerts_tick"
ALERTS_SCHEDULE = "slack-alerts"


def schedule_alerts() -> Schedule:
    """Every minute; an idle minute costs one query (no tenant has an active rule). The
    cluster's `catch_up=False` keeps a stopped cluster from replaying missed minutes."""
    schedule, _ = Schedule.objects.update_or_create(
        name=ALERTS_SCHEDULE,
        defaults={
            "func": ALERTS_TICK_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    return schedule
