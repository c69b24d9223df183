"""The one owner chain: whom a visitor, an alert or a record SalesMonk creates belongs to.

Account owner, else contact owner, else lead owner, else the tenant's default lead owner,
else the Salesforce user who connected (the installer). Queues (`00G…` ids) and inactive or
deleted users are passed over: nobody is notified for, or handed, what they cannot work.

`owner_resolve` is the chain over Salesforce ids (the write path decides from what Salesforce
answered); `mirror_owner_resolve` is the same chain over mirrored users (pages, segments,
alerts, the stored match). The default lead owner and the installer are settings of the
Salesforce integration, which `crm` and `visitors` must not import: the integration
registers a provider of their ids (`fallback_owner_ids_provide`, at app start) and
`fallback_owners` reads them through it.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass

from django.db import models

from crm.models import CrmUser
from salesmonk.tenants.models import Tenant

USER_PREFIX = "005"  # Salesforce user ids; queues (00G) can own leads but are nobody to notify.


class OwnerRule(models.TextChoices):
    """Which link of the chain chose the owner, in chain order."""

    ACCOUNT_OWNER = "account_owner", "account owner"
    CONTACT_OWNER = "contact_owner", "contact owner"
    LEAD_OWNER = "lead_owner", "lead owner"
    DEFAULT_LEAD_OWNER = "default_lead_owner", "default lead owner"
    INSTALLER = "installer", "installer"


# Owners of records that exist in Salesforce: the only ones alerts and "owned by me" use.
RECORD_RULES = frozenset({OwnerRule.ACCOUNT_OWNER, OwnerRule.CONTACT_OWNER, OwnerRule.LEAD_OWNER})


@dataclass(frozen=True)
class OwnerDecision:
    owner_id: str
    rule: OwnerRule


def owner_resolve(
    *,
    account_owner_id: str | None = None,
    contact_owner_id: str | None = None,
    lead_owner_id: str | None = None,
    default_owner_id: str | None = None,
    installer_id: str | None = None,
    inactive_ids: Container[str] = (),
) -> OwnerDecision | None:
    """The first usable owner in chain order and the rule that chose it; None when no one
    given is usable (the caller decides what that means: no owner to show, or Salesforce's
    own default for a record we create)."""
    for rule, candidate in (
        (OwnerRule.ACCOUNT_OWNER, account_owner_id),
        (OwnerRule.CONTACT_OWNER, contact_owner_id),
        (OwnerRule.LEAD_OWNER, lead_owner_id),
        (OwnerRule.DEFAULT_LEAD_OWNER, default_owner_id),
        (OwnerRule.INSTALLER, installer_id),
    ):
        if candidate and candidate.startswith(USER_PREFIX) and candidate not in inactive_ids:
            return OwnerDecision(candidate, rule)
    return None


@dataclass(frozen=True)
class FallbackOwners:
    """The tenant's default lead owner and installer as mirrored users (None when unset or
    not mirrored: a page can only name a user the mirror holds)."""

    default_lead_owner: CrmUser | None = None
    installer: CrmUser | None = None


@dataclass(frozen=True)
class MirrorOwner:
    user: CrmUser
    rule: OwnerRule

    @property
    def of_record(self) -> bool:
        """Whether the owner owns a record that exists (not one SalesMonk would create)."""
        return self.rule in RECORD_RULES


def mirror_owner_resolve(
    *,
    account_owner: CrmUser | None = None,
    contact_owner: CrmUser | None = None,
    lead_owner: CrmUser | None = None,
    fallback: FallbackOwners | None = None,
) -> MirrorOwner | None:
    """`owner_resolve` over mirrored users, already loaded by the caller (nothing is read
    here). A queue-owned lead has no mirrored owner, so it passes to the next link as in
    `owner_resolve`. Without `fallback`, only owners of existing records are considered."""
    fallback = fallback or FallbackOwners()
    given = (
        account_owner,
        contact_owner,
        lead_owner,
        fallback.default_lead_owner,
        fallback.installer,
    )
    users = {u.remote_id: u for u in given if u is not None}

    def remote_id(user: CrmUser | None) -> str | None:
        return user.remote_id if user is not None else None

    decision = owner_resolve(
        account_owner_id=remote_id(account_owner),
        contact_owner_id=remote_id(contact_owner),
        lead_owner_id=remote_id(lead_owner),
        default_owner_id=remote_id(fallback.default_lead_owner),
        installer_id=remote_id(fallback.installer),
        inactive_ids={rid for rid, u in users.items() if not u.is_active or u.remote_was_deleted},
    )
    if decision is None:
        return None
    return MirrorOwner(users[decision.owner_id], decision.rule)


@dataclass(frozen=True)
class FallbackOwnerIds:
    default_lead_owner_id: str = ""
    installer_id: str = ""


FallbackOwnerIdsProvider = Callable[[Tenant], FallbackOwnerIds]
_provider: FallbackOwnerIdsProvider | None = None


def fallback_owner_ids_provide(provider: FallbackOwnerIdsProvider) -> None:
    """Register where the default lead owner and installer ids come from (the Salesforce
    integration does, when its app is ready). The last registration wins."""
    global _provider
    _provider = provider


def fallback_owners(*, tenant: Tenant) -> FallbackOwners:
    """The tenant's default lead owner and installer as mirrored users: the provider's read
    (one query) and the users (one more, only when an id is set). Nothing without a
    provider: a deployment without the integration creates no records, so none would be
    owned."""
    ids = _provider(tenant) if _provider is not None else FallbackOwnerIds()
    wanted = {i for i in (ids.default_lead_owner_id, ids.installer_id) if i}
    if not wanted:
        return FallbackOwners()
    users = {
        u.remote_id: u
        for u in CrmUser.objects.for_tenant(tenant)
        .filter(remote_id__in=wanted)
        .defer("remote_data")
    }
    return FallbackOwners(
        default_lead_owner=users.get(ids.default_lead_owner_id),
        installer=users.get(ids.installer_id),
    )
