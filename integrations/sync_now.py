""" "Sync now" on Settings → Salesforce: queue one read sync outside the schedule."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

from integrations.models import ConnectionStatus, SalesforceConnection
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.services import audit_record

READ_SYNC_TASK = "integrations.tasks.read_sync"


class SyncNotPossible(Exception):
    """There is no working connection to sync; the message says what to do."""


def read_sync_request(*, tenant: Tenant, acting_user: User | None) -> None:
    """Queue a read sync once the transaction commits. Safe to press twice: a second run
    skips while the first holds the tenant's sync claim."""
    conn = SalesforceConnection.objects.filter(tenant=tenant).only("status").first()
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        raise SyncNotPossible("Connect Salesforce first: there is nothing to sync.")
    with transaction.atomic():
        audit_record(tenant=tenant, actor=acting_user, action="salesforce.sync_requested")
        transaction.on_commit(lambda: async_task(READ_SYNC_TASK, str(tenant.pk)))
