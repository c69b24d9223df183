"""django-q2 tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging

from django_q.models import Schedule

from integrations import schedules
from integrations.sync.runs import SyncSkipped, read_sync_run
from salesmonk.tenants.models import Tenant

log = logging.getLogger(__name__)


def read_sync(tenant_id: str, full: bool = False) -> dict[str, object]:
    """Scheduled per connected tenant. Safe to run twice: the second waits its turn (skips)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        Schedule.objects.filter(name=f"{schedules.PREFIX}{tenant_id}").delete()
        return {"skipped": "tenant no longer exists; its schedule was removed"}
    try:
        run = read_sync_run(tenant=tenant, full=full)
    except SyncSkipped as exc:
        log.info("Read sync of %s skipped: %s", tenant_id, exc)
        return {"skipped": str(exc)}
    return {"run": run.pk, "status": run.status, "api_calls": run.api_calls, "counts": run.counts}
