"""The django-q2 schedule of Slack alerts: one for all tenants, every minute.

Declared here and created idempotently after every `migrate` and when a job cluster starts
(`VisitorsConfig.ready`), or by `manage.py alerts_schedules`; never at import time.
"""

from __future__ import annotations

from django.utils import timezone
from django_q.models import Schedule

ALERTS_TICK_TASK = "visitors.alerts.tasks.alerts_tick"
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


def alerts_schedule_ensure() -> None:
    """Create the schedule when it is missing; an existing one keeps its next run. A row
    still naming the task at its former path (`visitors.tasks.alerts_tick`, before the
    alerts had their own package) is pointed at the task where it lives now."""
    stale = Schedule.objects.filter(name=ALERTS_SCHEDULE).exclude(func=ALERTS_TICK_TASK)
    stale.update(func=ALERTS_TICK_TASK)
    if not Schedule.objects.filter(name=ALERTS_SCHEDULE).exists():
        schedule_alerts()
