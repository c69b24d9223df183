"""Running a read sync for a tenant: claim, run, record, release.

Two syncs of one tenant never overlap: a run claims the connection with a conditional
UPDATE (exactly one row changes, or someone else holds it) and releases it at the end. A
claim older than `CLAIM_TTL` belonged to a worker that died and may be taken over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from crm.signals import crm_mirror_changed
from integrations.claims import Claim
from integrations.models import (
    ConnectionStatus,
    SalesforceConnection,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from integrations.salesforce.client import (
    ApiBudgetExhausted,
    SalesforceAuthError,
    SalesforceClient,
)
from integrations.sync.read import Progress, ReadSync, validate_objects
from salesmonk.tenants.models import Tenant

log = logging.getLogger(__name__)


class SyncSkipped(Exception):
    """Nothing ran: not connected, or another sync of this tenant is running."""


class SyncInterrupted(Exception):
    """The run lost its claim: the connection was disconnected, or (after a stall longer
    than `CLAIM_TTL`) another run took over. It stops at once, keeping what it wrote."""


def _renew(claim: Claim) -> None:
    if not claim.renew():
        raise SyncInterrupted("Salesforce is no longer connected, or another sync took over.")


def read_sync_run(
    *,
    tenant: Tenant,
    full: bool = False,
    objects: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Mirror the tenant's org now. Failures are recorded on the run and the connection
    (and the run is returned); `SyncSkipped` when nothing could start."""
    conn = SalesforceConnection.objects.select_related("tenant").filter(tenant=tenant).first()
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        raise SyncSkipped("Salesforce is not connected for this workspace.")
    chosen = validate_objects(objects) if objects else None
    claim = Claim.take(
        SalesforceConnection, conn.pk, "sync_claimed_at", status=ConnectionStatus.CONNECTED
    )
    if claim is None:
        raise SyncSkipped("Another Salesforce sync of this workspace is running.")
    now = claim.at
    # A run whose worker died while holding the claim never finished: say so.
    SyncRun.objects.for_tenant(tenant).filter(status=SyncStatus.RUNNING).update(
        status=SyncStatus.FAILED,
        error="The worker stopped before the run finished.",
        finished_at=now,
    )
    run = SyncRun.objects.create(
        tenant=tenant, kind=SyncKind.FULL if full else SyncKind.INCREMENTAL
    )
    client: SalesforceClient | None = None
    sync: ReadSync | None = None
    error = ""
    try:
        client = SalesforceClient(conn, purpose="read")
        sync = ReadSync(
            connection=conn,
            client=client,
            run=run,
            full=full,
            progress=progress,
            keepalive=lambda: _renew(claim),
        )
        if chosen:
            sync.objects = chosen
        sync.execute()
        run.status = SyncStatus.SUCCEEDED
    except ApiBudgetExhausted as exc:
        # Watermarks were saved page by page: the next run resumes from here.
        run.status = SyncStatus.PAUSED
        run.error = str(exc)
    except (SalesforceAuthError, SyncInterrupted) as exc:
        run.status = SyncStatus.FAILED
        run.error = error = str(exc)
    except Exception as exc:
        log.exception("Read sync of tenant %s failed", tenant.pk)
        run.status = SyncStatus.FAILED
        run.error = error = f"{type(exc).__name__}: {exc}"
    finally:
        finished = timezone.now()
        if sync is not None:
            run.counts = {name: c.as_dict() for name, c in sync.counts.items()}
            if sync.full_reads and set(sync.full_reads) == set(sync.objects):
                run.kind = SyncKind.FULL
        run.api_calls = client.usage.calls if client else 0
        run.finished_at = finished
        run.save()
        changes: dict[str, object] = {}
        if run.status == SyncStatus.SUCCEEDED:
            changes.update(last_sync_at=finished, last_error="", last_error_at=None)
        elif error:
            changes.update(last_error=error, last_error_at=finished)
        claim.release(**changes)
        if sync is not None and sync.changed_records():
            # Even a paused or failed run keeps what it wrote: derived data follows it.
            transaction.on_commit(
                lambda: crm_mirror_changed.send(sender=ReadSync, tenant_id=tenant.pk)
            )
    return run
