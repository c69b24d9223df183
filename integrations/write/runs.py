"""Write runs whose worker died: found by the claim's stopped heartbeat and closed as
*abandoned* with a finish time, so no run stays "running" forever."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q

from integrations.claims import db_now
from integrations.write.models import WriteRun, WriteRunStatus, WriteSettings
from salesmonk.tenants.models import Tenant

ABANDONED = "The worker stopped before the run finished (its heartbeat stopped)."
# A dry run holds no claim; one still running after this long died with its request.
DRY_RUN_LIMIT = dt.timedelta(minutes=10)


def write_claim_ttl() -> dt.timedelta:
    """A drain's claim lives `WRITE_CLAIM_TTL_SECONDS` (a minute) past its last heartbeat:
    a killed drain frees the tenant that long after it died."""
    return dt.timedelta(seconds=settings.WRITE_CLAIM_TTL_SECONDS)


def heartbeat_seconds() -> float:
    """The claim is renewed four times per lifetime from a thread, even while a call waits
    on Salesforce, so a live drain never loses it."""
    return settings.WRITE_CLAIM_TTL_SECONDS / 4


def runs_abandon(*, tenant: Tenant | None = None, claim_ttl: dt.timedelta | None = None) -> int:
    """Close dead runs. With `tenant` (whose drain claim the caller holds), every other
    running drain of it is dead. Without, a drain is dead when its tenant's claim is free
    or older than `claim_ttl` (the dispatcher's sweep). Returns how many were closed."""
    now = db_now()
    running = WriteRun.objects.filter(status=WriteRunStatus.RUNNING)
    dead_dry = Q(dry_run=True, started_at__lt=now - DRY_RUN_LIMIT)
    if tenant is not None:
        dead = running.filter(Q(dry_run=False) | dead_dry, tenant=tenant)
    else:
        held = WriteSettings.objects.filter(
            claimed_at__gte=now - (claim_ttl or write_claim_ttl())
        ).values("tenant_id")
        dead = running.filter(Q(dry_run=False) & ~Q(tenant_id__in=held) | dead_dry)
    return dead.update(status=WriteRunStatus.ABANDONED, finished_at=now, error=ABANDONED)
