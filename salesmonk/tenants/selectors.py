"""Reads of tenancy data for views; every function is scoped by tenant or by user."""

from __future__ import annotations

import uuid
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from salesmonk.tenants.models import AuditEvent, Membership, Tenant, User

M = TypeVar("M", bound=Model)


def get_for_tenant_or_404(queryset: QuerySet[M], *, tenant: Tenant, **lookup: object) -> M:
    """Fetch one tenant-owned object or 404: another tenant's object is simply not found,
    so its existence is never revealed."""
    try:
        return queryset.filter(tenant=tenant).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")


def membership_for_user(*, user: User, tenant_id: uuid.UUID | str | None) -> Membership | None:
    """The user's membership in `tenant_id`, or their first one when none is chosen."""
    memberships = memberships_for_user(user=user)
    if tenant_id:
        chosen = memberships.filter(tenant_id=tenant_id).first()
        if chosen is not None:
            return chosen
    return memberships.first()


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("created_at")


def membership_get(*, tenant: Tenant, membership_id: uuid.UUID) -> Membership:
    return get_for_tenant_or_404(
        Membership.objects.select_related("user"), tenant=tenant, pk=membership_id
    )


def audit_event_list(*, tenant: Tenant, limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.for_tenant(tenant).select_related("actor")[:limit]


def manager_membership(*, tenant: Tenant, user: User, to: str) -> Membership:
    """`user`'s membership in `tenant` when they are an owner or admin; otherwise
    PermissionDenied("Only owners and admins can <to>."). For services that change settings."""
    membership = Membership.objects.filter(tenant=tenant, user=user).first()
    if membership is None or not membership.can_manage:
        raise PermissionDenied(f"Only owners and admins can {to}.")
    return membership
