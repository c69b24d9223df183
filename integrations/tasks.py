"""django-q2 tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django_q.models import Schedule
from django_q.tasks import async_task

from integrations import schedules
from integrations.services import connection_describe_refresh
from integrations.sync.runs import SyncSkipped, read_sync_run
from integrations.write.engine import WriteSkipped, write_sync_run
from integrations.write.runs import runs_abandon
from integrations.write.selectors import tenants_with_pending_writes
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
    # The org's fields may have changed with its records: keep the stored answer fresh.
    described = connection_describe_refresh(tenant=tenant)
    return {
        "run": run.pk,
        "status": run.status,
        "api_calls": run.api_calls,
        "counts": run.counts,
        "described": described,
    }


def describe_refresh(tenant_id: str) -> dict[str, object]:
    """Queued on connect: store which SalesMonk fields the org lacks. Safe to run twice."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return {"skipped": "tenant no longer exists"}
    return {"described": connection_describe_refresh(tenant=tenant)}


WRITE_SYNC_TASK = "integrations.tasks.write_sync"


def write_dispatch() -> dict[str, object]:
    """Every minute: close drains whose worker died, then queue a drain for each connected
    tenant with pending enabled intents."""
    runs_abandon()
    tenant_ids = tenants_with_pending_writes()
    for tenant_id in tenant_ids:
        async_task(WRITE_SYNC_TASK, str(tenant_id))
    return {"queued": len(tenant_ids)}


_queued_at: dict[str, float] = {}
_trailing: dict[str, threading.Timer] = {}
_queued_lock = threading.Lock()


def write_sync_soon(tenant_id: object) -> bool:
    """Queue a drain of the tenant now rather than at the next minute's tick, at most once
    per `WRITE_DRAIN_DEBOUNCE_SECONDS` per process: a busy site records intents on every
    request, and one drain takes them all. Intents recorded within the window are not left
    for the minute's tick: one more drain is queued when the window ends. Returns whether a
    drain was queued now."""
    key, now = str(tenant_id), time.monotonic()
    wait = settings.WRITE_DRAIN_DEBOUNCE_SECONDS
    with _queued_lock:
        last = _queued_at.get(key)
        if last is not None and now - last < wait:
            if key not in _trailing:
                timer = threading.Timer(wait - (now - last), _queue_trailing, args=(key,))
                timer.daemon = True
                _trailing[key] = timer
                timer.start()
            return False
        _queued_at[key] = now
    async_task(WRITE_SYNC_TASK, key)
    return True


def _queue_trailing(key: str) -> None:
    """The drain at the end of a debounce window, from its timer thread."""
    from django.db import connection

    with _queued_lock:
        _trailing.pop(key, None)
        _queued_at[key] = time.monotonic()
    try:
        async_task(WRITE_SYNC_TASK, key)
    except Exception:
        log.exception("Could not queue the write drain of tenant %s", key)
    finally:
        connection.close()  # this thread's own database connection (the ORM broker)


def write_sync(tenant_id: str) -> dict[str, object]:
    """Safe to run twice: a second drain of a tenant skips while the first holds the claim."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return {"skipped": "tenant no longer exists"}
    try:
        run = write_sync_run(tenant=tenant)
    except WriteSkipped as exc:
        log.info("Write sync of %s skipped: %s", tenant_id, exc)
        return {"skipped": str(exc)}
    return {"run": run.pk, "status": run.status, "api_calls": run.api_calls, "counts": run.counts}
