"""django-q2 tasks of the stored CRM match: thin wrappers that take ids and call
`visitors.tracking.crm_match`."""

from __future__ import annotations

import uuid

from django_q.tasks import async_task

from salesmonk.tenants.models import Tenant
from visitors.tracking.crm_match import visitor_crm_match_refresh_for

CRM_MATCH_TASK = "visitors.tracking.tasks.crm_match_refresh"
# Below django-q2's `retry` (360 s): a long refresh is never handed to a second worker.
CRM_MATCH_TASK_TIMEOUT = 300
# Each task walks this long, then queues the rest (a batch of 1,000 visitors takes ~1.5 s),
# so a tenant of any size is refreshed to the end, never killed at the time limit midway.
CRM_MATCH_CHUNK_SECONDS = 240


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
