"""Write intents: the outbox the write sync drains (it never runs inside ingest).

Recorded in the caller's transaction, so an intent exists exactly when its event does.
Coalesced on the database key "one pending intent per visitor and kind": inserting an
intent that is already pending does nothing, whoever wins a race.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from crm.models import WritePolicy
from salesmonk.tenants.models import Tenant
from visitors.models import IntentKind, Visitor, WriteIntent

# Which WritePolicy switch enables which kind of intent.
POLICY_FLAGS = {
    IntentKind.ACCOUNT: "create_accounts",
    IntentKind.LEAD: "create_leads",
    IntentKind.PERSON: "update_people",
    IntentKind.MEETING: "log_meetings",
    IntentKind.CHAT: "log_chats",
}


def enabled_intent_kinds(tenant: Tenant) -> frozenset[str]:
    """The intent kinds the tenant's write policy enables (none without a policy). Uses
    the policy cached on the tenant when the caller's query selected it."""
    try:
        policy = tenant.write_policy  # type: ignore[attr-defined]
    except WritePolicy.DoesNotExist:
        return frozenset()
    return frozenset(kind for kind, flag in POLICY_FLAGS.items() if getattr(policy, flag))


def intents_record(
    *,
    tenant: Tenant,
    visitor_ids: Iterable[uuid.UUID],
    kinds: frozenset[str],
    activity: bool = False,
    only: Iterable[str] = (),
) -> int:
    """Record pending intents for identified visitors. `activity=True` means the tracked
    fields changed (sessions, last seen, UTM): a PERSON intent. `only` names further kinds
    (a chat, a meeting, an identify's LEAD/ACCOUNT). Kinds the policy disables are skipped.
    Returns how many kinds were wanted, not how many rows were new."""
    wanted = set(only) | ({IntentKind.PERSON} if activity else set())
    wanted &= kinds
    ids = list(visitor_ids)
    if not wanted or not ids:
        return 0
    identified = Visitor.objects.for_tenant(tenant).filter(
        pk__in=ids, identified_at__isnull=False, merged_into__isnull=True
    )
    rows = [
        WriteIntent(tenant=tenant, visitor_id=pk, kind=kind)
        for pk in identified.values_list("pk", flat=True)
        for kind in sorted(wanted)
    ]
    WriteIntent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
