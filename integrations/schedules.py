"""The django-q2 schedules of the Salesforce integration: one read sync per connected
tenant and one write drain for all tenants.

Declared here and reconciled idempotently, never created at import time: after every
`migrate` and whenever a job cluster starts (`IntegrationsConfig.ready` connects both), when
a tenant connects or disconnects, and when support enables writes. `manage.py
salesforce_schedules` does the same by hand.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django_q.models import Schedule

from integrations.models import ConnectionStatus, SalesforceConnection
from salesmonk.tenants.models import Tenant

READ_SYNC_TASK = "integrations.tasks.read_sync"
PREFIX = "salesforce-read-sync:"
WRITE_DISPATCH_TASK = "integrations.tasks.write_dispatch"
WRITE_SCHEDULE = "salesforce-write-drain"


def schedule_name(tenant: Tenant) -> str:
    return f"{PREFIX}{tenant.pk}"


def schedule_read_sync(conn: SalesforceConnection) -> Schedule:
    """Create or update the tenant's polling schedule (first run right away)."""
    schedule, _ = Schedule.objects.update_or_create(
        name=schedule_name(conn.tenant),
        defaults={
            "func": READ_SYNC_TASK,
            "args": repr(str(conn.tenant_id)),
            "schedule_type": Schedule.MINUTES,
            "minutes": conn.sync_interval_minutes,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    return schedule


def unschedule_read_sync(tenant: Tenant) -> int:
    deleted, _ = Schedule.objects.filter(name=schedule_name(tenant)).delete()
    return deleted


def reconcile() -> tuple[int, int]:
    """Every connected tenant has its schedule, nobody else has one, and the write drain
    is scheduled: (read-sync schedules in place, stale ones removed)."""
    if not Schedule.objects.filter(name=WRITE_SCHEDULE).exists():
        schedule_write_drain()
    connected: QuerySet[SalesforceConnection] = SalesforceConnection.objects.filter(
        status=ConnectionStatus.CONNECTED
    ).select_related("tenant")
    wanted = {schedule_name(c.tenant) for c in connected}
    for conn in connected:
        existing = Schedule.objects.filter(name=schedule_name(conn.tenant)).first()
        if existing is None or existing.minutes != conn.sync_interval_minutes:
            schedule_read_sync(conn)
    stale = Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=wanted)
    removed, _ = stale.delete()
    return len(wanted), removed


def schedule_write_drain() -> Schedule:
    """One schedule for all tenants, every minute: it queues a drain only for tenants with
    pending intents of an enabled kind, so an idle minute costs one cheap query."""
    schedule, _ = Schedule.objects.update_or_create(
        name=WRITE_SCHEDULE,
        defaults={
            "func": WRITE_DISPATCH_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    return schedule
