"""Reads for Settings → Salesforce: the connection, its latest sync, today's API usage, the
SalesMonk custom fields the org lacks and how writing to Salesforce goes.

Only the database is read: the page must answer at once even while Salesforce is slow or
down. What the org's describes say is stored on the connection by a background task
(`services.connection_describe_refresh`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from integrations.models import ApiUsageDay, ConnectionStatus, SalesforceConnection, SyncRun
from integrations.write.selectors import WriteHealth, write_health
from salesmonk.tenants.models import Tenant


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
    # Object name → missing SalesMonk field names; None when not checked yet.
    missing_fields: dict[str, list[str]] | None
    fields_checked_at: dt.datetime | None
    health: WriteHealth

    @property
    def is_connected(self) -> bool:
        return self.connection is not None and self.connection.status == ConnectionStatus.CONNECTED


def connection_for(*, tenant: Tenant) -> SalesforceConnection | None:
    return SalesforceConnection.objects.filter(tenant=tenant).first()


def salesforce_page(*, tenant: Tenant) -> SalesforcePage:
    """Everything Settings → Salesforce shows, in a fixed number of queries and no
    Salesforce call."""
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
    return SalesforcePage(
        connection=conn,
        latest_run=latest_run,
        usage=usage,
        missing_fields=conn.salesmonk_fields_missing if conn else None,
        fields_checked_at=conn.describe_checked_at if conn else None,
        health=write_health(tenant=tenant),
    )
