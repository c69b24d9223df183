"""Turning writes to a tenant's Salesforce on and off (support staff only), write settings,
and the read-only view customers get of that state.

Every change goes through one function that takes the tenant first and `acting_user=`, and
writes an audit row in the same transaction (who, when, what, the note).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from crm.models import WritePolicy
from integrations import schedules
from integrations.write.models import WriteSettings
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.services import audit_record
from visitors.tracking.intents import intents_backfill, intents_backfill_preview

WRITE_FLAGS = ("create_accounts", "create_leads", "update_people", "log_meetings", "log_chats")
FLAG_LABELS = {
    "create_accounts": "Create Accounts",
    "create_leads": "Create Leads",
    "update_people": "Update Contacts and Leads",
    "log_meetings": "Log meetings (Events)",
    "log_chats": "Log chats (Notes)",
}


class WritePermissionDenied(Exception):
    """Only SalesMonk staff may change what we write to a customer's Salesforce."""


def _require_staff(user: User | None) -> None:
    if user is None or not user.is_staff:
        raise WritePermissionDenied("Only SalesMonk support staff can change Salesforce writes.")


def _kinds(flags: Iterable[str]) -> set[str]:
    from integrations.write.source import KIND_FLAGS

    chosen = set(flags)
    return {kind for kind, flag in KIND_FLAGS.items() if flag in chosen}


def writes_enable_preview(*, tenant: Tenant, flags: Iterable[str]) -> dict[str, int]:
    """What enabling `flags` would write at once for visitors already seen (people,
    companies, meetings, chats), for the confirmation page. Kinds already on are left out:
    their visitors are written already."""
    on = enabled_flags(tenant=tenant)
    return intents_backfill_preview(tenant=tenant, kinds=_kinds(set(flags) - on))


def writes_enable(
    *, tenant: Tenant, acting_user: User | None, flags: Iterable[str], note: str
) -> WritePolicy:
    """Turn on the given kinds of writes (others keep their state), recording approval.
    Visitors already eligible for a newly enabled kind get their intent at once (the
    backfill), and the write drain is scheduled, so nothing waits for a manual step."""
    _require_staff(acting_user)
    chosen = set(flags)
    if unknown := chosen - set(WRITE_FLAGS):
        raise ValueError(f"Unknown write kinds: {sorted(unknown)}")
    if not note.strip():
        raise ValueError("A note saying what the customer agreed to is required.")
    with transaction.atomic():
        policy, _ = WritePolicy.objects.select_for_update().get_or_create(tenant=tenant)
        before = {f: getattr(policy, f) for f in WRITE_FLAGS}
        for flag in chosen:
            setattr(policy, flag, True)
        policy.approved_by, policy.approved_at, policy.note = acting_user, timezone.now(), note
        policy.save()
        newly = {f for f in chosen if not before[f]}
        backfilled = intents_backfill(tenant=tenant, kinds=_kinds(newly)) if newly else 0
        audit_record(
            tenant=tenant,
            actor=acting_user,
            action="salesforce.writes_enabled",
            target=", ".join(sorted(chosen)),
            data={
                "before": before,
                "after": {f: getattr(policy, f) for f in WRITE_FLAGS},
                "note": note,
                "backfilled_intents": backfilled,
            },
        )
        transaction.on_commit(schedules.schedule_write_drain)
    return policy


def writes_disable(
    *, tenant: Tenant, acting_user: User | None, flags: Iterable[str] = WRITE_FLAGS, note: str = ""
) -> WritePolicy:
    """Turn writes off at once: the engine re-reads the policy before every write call."""
    _require_staff(acting_user)
    with transaction.atomic():
        policy, _ = WritePolicy.objects.select_for_update().get_or_create(tenant=tenant)
        before = {f: getattr(policy, f) for f in WRITE_FLAGS}
        for flag in flags:
            setattr(policy, flag, False)
        policy.save()
        audit_record(
            tenant=tenant,
            actor=acting_user,
            action="salesforce.writes_disabled",
            target=", ".join(sorted(flags)),
            data={
                "before": before,
                "after": {f: getattr(policy, f) for f in WRITE_FLAGS},
                "note": note,
            },
        )
    return policy


def write_settings_update(
    *,
    tenant: Tenant,
    acting_user: User | None,
    default_lead_owner_remote_id: str | None = None,
    lead_source: str | None = None,
) -> WriteSettings:
    """Change the default lead owner (a mirrored Salesforce user, or blank for the
    installer) or the LeadSource we set."""
    _require_staff(acting_user)
    with transaction.atomic():
        ws, _ = WriteSettings.objects.select_for_update().get_or_create(tenant=tenant)
        before = {
            "default_lead_owner": ws.default_lead_owner_remote_id,
            "lead_source": ws.lead_source,
        }
        if default_lead_owner_remote_id is not None:
            write_settings_check(
                tenant=tenant, default_lead_owner_remote_id=default_lead_owner_remote_id
            )
            ws.default_lead_owner_remote_id = default_lead_owner_remote_id
        if lead_source is not None:
            ws.lead_source = lead_source.strip() or "SalesMonk"
        ws.save()
        audit_record(
            tenant=tenant,
            actor=acting_user,
            action="salesforce.write_settings_changed",
            data={
                "before": before,
                "after": {
                    "default_lead_owner": ws.default_lead_owner_remote_id,
                    "lead_source": ws.lead_source,
                },
            },
        )
    return ws


def write_settings_check(*, tenant: Tenant, default_lead_owner_remote_id: str) -> None:
    """Raise ValueError when `write_settings_update` would refuse these settings, so a
    form can show the refusal as its own error before anything is saved."""
    if default_lead_owner_remote_id and not _is_active_user(tenant, default_lead_owner_remote_id):
        raise ValueError("The default lead owner must be an active Salesforce user.")


def _is_active_user(tenant: Tenant, remote_id: str) -> bool:
    from crm.models import CrmUser

    return (
        CrmUser.objects.for_tenant(tenant)
        .filter(remote_id=remote_id, is_active=True, remote_was_deleted=False)
        .exists()
    )


# --- selectors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteState:
    """What a customer may see of their write enablement (never change)."""

    enabled: dict[str, bool]
    approved_by: str
    approved_at: object
    note: str

    @property
    def any_enabled(self) -> bool:
        return any(self.enabled.values())


def write_state(*, tenant: Tenant) -> WriteState:
    policy = WritePolicy.objects.filter(tenant=tenant).select_related("approved_by").first()
    if policy is None:
        return WriteState(dict.fromkeys(WRITE_FLAGS, False), "", None, "")
    return WriteState(
        enabled={f: getattr(policy, f) for f in WRITE_FLAGS},
        approved_by=str(policy.approved_by or ""),
        approved_at=policy.approved_at,
        note=policy.note,
    )


def enabled_flags(*, tenant: Tenant) -> frozenset[str]:
    """Read fresh from the database every time: disabling must take effect mid-run."""
    row = WritePolicy.objects.filter(tenant=tenant).values(*WRITE_FLAGS).first()
    return frozenset(f for f, on in (row or {}).items() if on)


def write_settings_for(*, tenant: Tenant) -> WriteSettings:
    ws, _ = WriteSettings.objects.get_or_create(tenant=tenant)
    return ws
