"""Reads of the write-back for the task, admin and (later) customer pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from crm.models import WritePolicy
from crm.owners import FallbackOwnerIds
from integrations.models import ConnectionStatus, SalesforceConnection
from integrations.salesforce.client import SalesforceClient
from integrations.write.fieldmaps import missing_salesmonk_fields
from integrations.write.source import KIND_FLAGS
from salesmonk.tenants.models import Tenant
from visitors.models import WriteIntent


def tenants_with_pending_writes() -> list[uuid.UUID]:
    """Connected tenants with a pending intent of a kind their policy enables, except
    those paused by an API limit."""
    enabled = Q()
    for kind, flag in KIND_FLAGS.items():
        enabled |= Q(kind=kind, **{f"tenant__write_policy__{flag}": True})
    pending = WriteIntent.objects.filter(enabled, tenant_id=OuterRef("tenant_id"), status="pending")
    return list(
        SalesforceConnection.objects.filter(status=ConnectionStatus.CONNECTED)
        .filter(Exists(pending))
        .exclude(tenant__write_settings__paused_until__gt=timezone.now())
        .values_list("tenant_id", flat=True)
    )


def salesmonk_fields_missing(*, tenant: Tenant) -> dict[str, list[str]]:
    """Which SalesMonk custom fields the tenant's org lacks (writes skip them), from the
    cached describes: for the connection page."""
    conn = SalesforceConnection.objects.filter(tenant=tenant).first()
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        return {}
    client = SalesforceClient(conn, purpose="read")
    describes: dict[str, Any] = client.describe_many(["Account", "Contact", "Lead"])
    return missing_salesmonk_fields(describes)


def salesforce_users_active(*, tenant: Tenant) -> list[tuple[str, str]]:
    """(Salesforce id, "Name <email>") of the tenant's active mirrored users, by name: whom
    support may choose as an owner."""
    from crm.models import User as CrmUser

    rows = (
        CrmUser.objects.for_tenant(tenant)
        .filter(is_active=True, remote_was_deleted=False)
        .order_by("name", "email")
        .values_list("remote_id", "name", "email")
    )
    return [
        (rid, f"{name or email} <{email}>" if email else name or rid) for rid, name, email in rows
    ]


def write_policy_exists(*, tenant: Tenant) -> bool:
    return WritePolicy.objects.filter(tenant=tenant).exists()


def fallback_owner_ids(tenant: Tenant) -> FallbackOwnerIds:
    """The default lead owner and the installer of the tenant, in one query: the owners the
    write path hands a Lead to when no account owner is usable. Registered with
    `crm.owners` so pages can say whom a record SalesMonk creates would go to."""
    row = (
        Tenant.objects.filter(pk=tenant.pk)
        .values_list(
            "write_settings__default_lead_owner_remote_id",
            "salesforce_connection__installer_remote_id",
        )
        .first()
    )
    default_id, installer_id = row or (None, None)
    return FallbackOwnerIds(default_lead_owner_id=default_id or "", installer_id=installer_id or "")
