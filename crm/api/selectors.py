"""Reads of the unified CRM API: API keys, and pages of mirrored records.

Every record read is scoped by the key's tenant. A list is one query for the page (expanded
links joined in with `select_related`) plus, for engagements, one for their contacts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from crm.api.keys import KEY_PREFIX, key_hash
from crm.api.paging import Page, paginate
from crm.api.resources import Options, Resource
from crm.models import ApiKey, Contact, Engagement, MirrorModel
from salesmonk.paging import Cursor
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.selectors import get_for_tenant_or_404

MAX_TOKEN_LENGTH = 100


def api_key_authenticate(*, token: str) -> ApiKey | None:
    """The active key `token` is, with its tenant; None for unknown or revoked keys."""
    if not token.startswith(KEY_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (
        ApiKey.objects.select_related("tenant")
        .filter(key_hash=key_hash(token), revoked_at__isnull=True)
        .first()
    )


def api_key_list(*, tenant: Tenant) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.for_tenant(tenant)
        .select_related("created_by", "revoked_by")
        .order_by("revoked_at", "-created_at")
    )


def api_key_get(*, tenant: Tenant, key_id: uuid.UUID) -> ApiKey:
    return get_for_tenant_or_404(ApiKey.objects.all(), tenant=tenant, pk=key_id)


@dataclass(frozen=True)
class RecordFilter:
    """The list filters of the API (Merge's names); datetimes are aware."""

    created_after: dt.datetime | None = None
    modified_after: dt.datetime | None = None
    modified_before: dt.datetime | None = None
    remote_id: str | None = None
    include_deleted_data: bool = False


def _records(*, tenant: Tenant, resource: Resource, options: Options) -> QuerySet[MirrorModel]:
    queryset = resource.model.objects.for_tenant(tenant)
    links = sorted(options.expand - {"contacts"})
    if links:
        queryset = queryset.select_related(*links)
    if not options.include_remote_data:
        # The raw record is the widest column; most requests never look at it.
        queryset = queryset.defer("remote_data")
    # Expanded engagement types show their raw fields (`remote_fields`); others never do.
    deferred = [f"{link}__remote_data" for link in links if link != "engagement_type"]
    if deferred:
        queryset = queryset.defer(*deferred)
    if resource.model is Engagement:
        contacts = Contact.objects.for_tenant(tenant)
        if "contacts" in options.expand:
            contacts = contacts.defer("remote_data")
        else:
            contacts = contacts.only("id", "remote_id")
        queryset = queryset.prefetch_related(
            Prefetch("contacts", queryset=contacts, to_attr="linked_contacts")
        )
    return queryset


def _order_engagement_contacts(rows: list[MirrorModel]) -> None:
    """Contacts in the order the CRM lists them (`contact_remote_ids`)."""
    for row in rows:
        if isinstance(row, Engagement):
            position = {rid: i for i, rid in enumerate(row.contact_remote_ids or [])}
            linked = getattr(row, "linked_contacts", [])
            row.api_contacts = sorted(  # type: ignore[attr-defined]
                linked, key=lambda c: (position.get(c.remote_id, len(position)), c.remote_id)
            )


def record_page(
    *,
    tenant: Tenant,
    resource: Resource,
    options: Options,
    filters: RecordFilter,
    cursor: Cursor | None,
    page_size: int,
) -> Page[MirrorModel]:
    queryset = _records(tenant=tenant, resource=resource, options=options)
    if not filters.include_deleted_data:
        queryset = queryset.filter(remote_was_deleted=False)
    if filters.created_after is not None:
        queryset = queryset.filter(created_at__gt=filters.created_after)
    if filters.modified_after is not None:
        queryset = queryset.filter(modified_at__gt=filters.modified_after)
    if filters.modified_before is not None:
        queryset = queryset.filter(modified_at__lt=filters.modified_before)
    if filters.remote_id is not None:
        queryset = queryset.filter(remote_id=filters.remote_id)
    page = paginate(queryset, cursor=cursor, size=page_size, scope=resource.name)
    _order_engagement_contacts(page.rows)
    return page


def record_get(
    *, tenant: Tenant, resource: Resource, record_id: uuid.UUID, options: Options
) -> MirrorModel:
    """One record of the tenant (deleted ones too: they carry `remote_was_deleted`)."""
    queryset = _records(tenant=tenant, resource=resource, options=options)
    row = queryset.filter(pk=record_id).first()
    if row is None:
        raise Http404("No such record.")
    _order_engagement_contacts([row])
    return row
