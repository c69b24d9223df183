"""Every change to tenants and memberships goes through here, with an audit row."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from salesmonk.tenants.models import AuditEvent, Membership, Role, Tenant, User


def audit_record(
    *,
    tenant: Tenant,
    actor: User | None,
    action: str,
    target: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit row; call it inside the transaction of the change it describes."""
    return AuditEvent.objects.create(
        tenant=tenant, actor=actor, action=action, target=target[:200], data=data or {}
    )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Tenant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def tenant_create(*, name: str, owner: User) -> Tenant:
    """Create a tenant with `owner` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationError("A company name is required.")
    tenant = Tenant.objects.create(name=name, slug=_unique_slug(name))
    Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
    audit_record(tenant=tenant, actor=owner, action="tenant.created", target=tenant.name)
    return tenant


@transaction.atomic
def membership_set_role(
    *, tenant: Tenant, acting_user: User, membership: Membership, role: str
) -> Membership:
    """Change a member's role; only owners grant or take away ownership, and a tenant always
    keeps at least one owner."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.")
    if membership.tenant_id != tenant.pk:
        raise PermissionDenied("That membership belongs to another workspace.")
    actor = Membership.objects.filter(tenant=tenant, user=acting_user).first()
    if actor is None or not actor.can_manage:
        raise PermissionDenied("Only owners and admins can change roles.")
    touches_owner = Role.OWNER in (role, membership.role)
    if touches_owner and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant or remove the owner role.")
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = (
            Membership.objects.select_for_update()
            .filter(tenant=tenant, role=Role.OWNER)
            .values_list("pk", flat=True)
        )
        if list(owners) == [membership.pk]:
            raise ValidationError("A workspace needs at least one owner.")
    old = membership.role
    if old == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="membership.role_changed",
        target=membership.user.email,
        data={"from": old, "to": role},
    )
    return membership
