"""Reads for Settings → Salesforce: the connection, its latest sync, today's API usage, the
SalesMonk custom fields the org lacks and what support has enabled for writing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from integrations.models import ApiUsageDay, ConnectionStatus, SalesforceConnection, SyncRun
from integrations.salesforce.client import SalesforceError
from integrations.salesforce.transport import SessionRejected
from integrations.write.policy import FLAG_LABELS, WriteState, write_state
from integrations.write.selectors import salesmonk_fields_missing
from salesmonk.tenants.models import Tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiUsage:
    used: int
    budget: int
    org_used: int | None
    org_limit: int | None

    @property
    def percent(self) -> int:
        return min(100, self.used * 100 // self.budget) if self.budget else 0


@dataclass(frozen=True)
class SalesforcePage:
    connection: SalesforceConnection | None
    latest_run: SyncRun | None
    usage: ApiUsage | None
    # Object name → missing SalesMonk field names; None when the org could not be asked.
    missing_fields: dict[str, list[str]] | None
    writes: WriteState
    writes_on: list[str]

    @property
    def is_connected(self) -> bool:
        return self.connection is not None and self.connection.status == ConnectionStatus.CONNECTED


def connection_for(*, tenant: Tenant) -> SalesforceConnection | None:
    return SalesforceConnection.objects.filter(tenant=tenant).first()


def _missing_fields(tenant: Tenant) -> dict[str, list[str]] | None:
    """Asks the org (describes are cached for an hour), so it can fail: the page then says
    it could not check instead of failing."""
    try:
        return salesmonk_fields_missing(tenant=tenant)
    except (SalesforceError, SessionRejected):
        log.info("Could not check SalesMonk fields for tenant %s", tenant.pk, exc_info=True)
        return None


def salesforce_page(*, tenant: Tenant) -> SalesforcePage:
    """Everything Settings → Salesforce shows, in a fixed number of queries."""
    conn = connection_for(tenant=tenant)
    latest_run = SyncRun.objects.for_tenant(tenant).first() if conn else None
    usage = None
    if conn is not None:
        today = ApiUsageDay.objects.for_tenant(tenant).filter(day=timezone.now().date()).first()
        usage = ApiUsage(
            used=today.calls if today else 0,
            budget=conn.api_daily_budget,
            org_used=today.org_used if today else None,
            org_limit=today.org_limit if today else None,
        )
    connected = conn is not None and conn.status == ConnectionStatus.CONNECTED
    writes = write_state(tenant=tenant)
    return SalesforcePage(
        connection=conn,
        latest_run=latest_run,
        usage=usage,
        missing_fields=_missing_fields(tenant) if connected else {},
        writes=writes,
        writes_on=[FLAG_LABELS[flag] for flag, on in writes.enabled.items() if on],
    )
