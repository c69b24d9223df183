"""Writes of the unified CRM API: creating and revoking API keys (with an audit row), and
noting when a key was last used."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from crm.api.keys import PREFIX_LENGTH, key_generate, key_hash
from crm.models import ApiKey
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.selectors import manager_membership
from salesmonk.tenants.services import audit_record

# A key's `last_used_at` is rewritten at most this often, so reads do not become writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedKey:
    """A key just created. `token` exists only here: we keep its hash, never the key."""

    api_key: ApiKey
    token: str


@transaction.atomic
def api_key_create(*, tenant: Tenant, acting_user: User, name: str) -> IssuedKey:
    """Issue a key for `tenant`. The caller shows `token` once; it cannot be recovered."""
    manager_membership(tenant=tenant, user=acting_user, to="manage API keys")
    name = name.strip()
    if not name:
        raise ValidationError("Give the key a name, e.g. the system that will use it.")
    token = key_generate()
    api_key = ApiKey.objects.create(
        tenant=tenant,
        name=name[:100],
        prefix=token[:PREFIX_LENGTH],
        key_hash=key_hash(token),
        created_by=acting_user,
    )
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="api_key.created",
        target=api_key.name,
        data={"api_key_id": str(api_key.pk), "prefix": api_key.prefix},
    )
    return IssuedKey(api_key=api_key, token=token)


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, acting_user: User, api_key: ApiKey) -> bool:
    """Revoke a key; requests with it are refused from now on. Returns False when it was
    already revoked (a second click, or two admins at once): only one audit row is written."""
    manager_membership(tenant=tenant, user=acting_user, to="manage API keys")
    if api_key.tenant_id != tenant.pk:
        raise PermissionDenied("That key belongs to another workspace.")
    now = timezone.now()
    changed = (
        ApiKey.objects.for_tenant(tenant)
        .filter(pk=api_key.pk, revoked_at__isnull=True)
        .update(revoked_at=now, revoked_by=acting_user)
    )
    if changed != 1:
        return False
    api_key.revoked_at, api_key.revoked_by = now, acting_user
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="api_key.revoked",
        target=api_key.name,
        data={"api_key_id": str(api_key.pk), "prefix": api_key.prefix},
    )
    return True


def api_key_mark_used(*, api_key: ApiKey, now: dt.datetime | None = None) -> None:
    """Record that the key was used, at most once per `LAST_USED_RESOLUTION`."""
    now = now or timezone.now()
    last = api_key.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
