"""django-q2 tasks of Slack alerts: thin wrappers that take ids and call the alert services."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

from salesmonk.tenants.models import Tenant
from visitors.alerts import selectors as alert_selectors
from visitors.alerts import services as alerts

log = logging.getLogger(__name__)

SCAN_TASK = "visitors.alerts.tasks.alerts_scan"


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
