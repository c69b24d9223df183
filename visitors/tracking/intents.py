"""Write intents: the outbox the write sync drains (it never runs inside ingest).

Recorded in the caller's transaction, so an intent exists exactly when its event does.
Coalesced on the database key "one pending intent per visitor and kind": inserting an
intent that is already pending does nothing, whoever wins a race.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from crm.models import WritePolicy
from salesmonk.tenants.models import Tenant
from visitors.models import Chat, IntentKind, Meeting, Visitor, WriteIntent
from visitors.signals import write_intents_recorded

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
    if rows:
        _announce(tenant)
    return len(rows)


def _announce(tenant: Tenant) -> None:
    tenant_id = tenant.pk
    transaction.on_commit(lambda: write_intents_recorded.send(sender=Tenant, tenant_id=tenant_id))


def intent_eligible(*, tenant: Tenant, kind: str) -> QuerySet[Visitor]:
    """The visitors an intent of `kind` would be recorded for had writes been on all along:
    identified people (LEAD, PERSON), those of them with a company (ACCOUNT), with a
    meeting (MEETING) or a chat (CHAT). Merged visitors never."""
    people = Visitor.objects.for_tenant(tenant).filter(
        identified_at__isnull=False, merged_into__isnull=True
    )
    if kind == IntentKind.ACCOUNT:
        return people.filter(company__isnull=False)
    if kind == IntentKind.MEETING:
        return people.filter(Exists(Meeting.objects.filter(visitor_id=OuterRef("pk"))))
    if kind == IntentKind.CHAT:
        return people.filter(Exists(Chat.objects.filter(visitor_id=OuterRef("pk"))))
    return people


def intents_backfill_preview(*, tenant: Tenant, kinds: Collection[str]) -> dict[str, int]:
    """What enabling `kinds` would write for visitors already seen: people, companies,
    meetings and chats (a few COUNT queries, for the confirmation page)."""
    out: dict[str, int] = {}
    if {IntentKind.LEAD, IntentKind.PERSON} & set(kinds):
        out["people"] = intent_eligible(tenant=tenant, kind=IntentKind.LEAD).count()
    if IntentKind.ACCOUNT in kinds:
        eligible = intent_eligible(tenant=tenant, kind=IntentKind.ACCOUNT)
        out["companies"] = eligible.values("company_id").distinct().count()
    if IntentKind.MEETING in kinds:
        out["meetings"] = intent_eligible(tenant=tenant, kind=IntentKind.MEETING).count()
    if IntentKind.CHAT in kinds:
        out["chats"] = intent_eligible(tenant=tenant, kind=IntentKind.CHAT).count()
    return out


def intents_backfill(*, tenant: Tenant, kinds: Collection[str]) -> int:
    """One pending intent of each kind for every visitor already eligible (one INSERT …
    SELECT per kind, whatever the tenant's size; an intent already pending is kept, so a
    second backfill adds nothing). Returns the number of intents added."""
    table = WriteIntent._meta.db_table
    now = timezone.now()
    added = 0
    for kind in sorted(kinds):
        eligible = (
            intent_eligible(tenant=tenant, kind=kind)
            .order_by()
            .values(bf_tenant=F("tenant_id"), bf_visitor=F("id"))
        )
        select_sql, params = eligible.query.sql_with_params()
        sql = (
            f"INSERT INTO {table} "
            "(tenant_id, visitor_id, kind, status, created_at, updated_at, attempts, last_error) "
            f"SELECT sel.bf_tenant, sel.bf_visitor, %s, %s, %s, %s, 0, '' FROM ({select_sql}) sel "
            "WHERE true ON CONFLICT DO NOTHING"
        )
        field = WriteIntent._meta.get_field("created_at")
        stamp = field.get_db_prep_value(now, connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [kind, WriteIntent.Status.PENDING, stamp, stamp, *params])
            added += max(cursor.rowcount, 0)
    if added:
        _announce(tenant)
    return added
