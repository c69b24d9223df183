"""django-q2 tasks of the visitors app: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging
import uuid

from django_q.tasks import async_task

from salesmonk.tenants.models import Tenant
from visitors import alert_selectors
from visitors.services import alerts
from visitors.services.crm_match import visitor_crm_match_refresh_for

log = logging.getLogger(__name__)

SCAN_TASK = "visitors.tasks.alerts_scan"
CRM_MATCH_TASK = "visitors.tasks.crm_match_refresh"
# Below django-q2's `retry` (360 s): a long refresh is never handed to a second worker.
CRM_MATCH_TASK_TIMEOUT = 300
# Each task walks this long, then queues the rest (a batch of 1,000 visitors takes ~1.5 s),
# so a tenant of any size is refreshed to the end, never killed at the time limit midway.
CRM_MATCH_CHUNK_SECONDS = 240


def alerts_tick() -> dict[str, int]:
    """Every minute: queue a scan for each tenant with an active rule, and hand out again
    deliveries whose retry is due or whose worker died."""
    tenant_ids = alert_selectors.tenants_with_active_rules()
    for tenant_id in tenant_ids:
        async_task(SCAN_TASK, str(tenant_id), timeout=alerts.SCAN_TASK_TIMEOUT)
    requeued = alerts.alert_deliveries_requeue()
    return {"scans": len(tenant_ids), "requeued": requeued}


def alerts_scan(tenant_id: str) -> dict[str, object]:
    """Safe to run twice: a second scan of a tenant skips while the first holds the claim."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return {"skipped": "tenant no longer exists"}
    try:
        result = alerts.alerts_scan(tenant=tenant)
    except alerts.AlertScanSkipped as exc:
        log.info("Alert scan of %s skipped: %s", tenant_id, exc)
        return {"skipped": str(exc)}
    return {"sessions": result.sessions, "deliveries": len(result.deliveries)}


def alert_send(delivery_id: int) -> str:
    """Safe to run twice: the delivery is claimed with a conditional UPDATE first."""
    return alerts.alert_delivery_send(delivery_id=delivery_id)


def webhook_test(webhook_id: str) -> str:
    return alerts.webhook_test_send(webhook_id=webhook_id)


def crm_match_refresh(tenant_id: str, after: str | None = None) -> dict[str, object]:
    """After the CRM mirror changed: recompute every visitor's stored match (past the
    visitor id `after`, for a continuation), for up to `CRM_MATCH_CHUNK_SECONDS`, then
    queue a task for the rest. Safe to run twice (a second run finds nothing changed)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return {"skipped": "tenant no longer exists"}
    done = visitor_crm_match_refresh_for(
        tenant=tenant,
        after=uuid.UUID(after) if after else None,
        seconds=CRM_MATCH_CHUNK_SECONDS,
    )
    if done.resume_after is not None:
        crm_match_refresh_enqueue(tenant.pk, after=done.resume_after)
    return {
        "changed": done.written,
        "continued_after": str(done.resume_after) if done.resume_after else None,
    }


def crm_match_refresh_enqueue(tenant_id: object, *, after: uuid.UUID | None = None) -> None:
    args = (str(tenant_id), str(after)) if after else (str(tenant_id),)
    async_task(CRM_MATCH_TASK, *args, timeout=CRM_MATCH_TASK_TIMEOUT)
