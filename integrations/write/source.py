"""What the write sync reads from visitor tracking: pending intents (the outbox) and, for
the visitors they name, the values we write. Reads only; intents are settled by `engine`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from salesmonk.tenants.models import Tenant
from visitors.models import Chat, ChatMessage, IntentKind, Meeting, Visitor, WriteIntent

# WritePolicy flag enabling each intent kind.
KIND_FLAGS = {
    IntentKind.ACCOUNT: "create_accounts",
    IntentKind.LEAD: "create_leads",
    IntentKind.PERSON: "update_people",
    IntentKind.MEETING: "log_meetings",
    IntentKind.CHAT: "log_chats",
}


@dataclass
class Work:
    """One visitor's pending intents, and what we write for them."""

    visitor: Visitor
    intents: dict[str, int] = field(default_factory=dict)  # kind -> intent id (0: dry run)
    meetings: list[Meeting] = field(default_factory=list)
    chats: list[tuple[Chat, str]] = field(default_factory=list)  # (chat, transcript)
    # The error of the visitor's LEAD intent when it failed (parked, or pending after a
    # failed attempt): its meetings and chats wait for the Lead rather than being dropped.
    lead_error: str = ""

    def values(self) -> dict[str, Any]:
        """The SalesMonk attributes of this visitor, by the names field maps use."""
        v, base = self.visitor, settings.SALESMONK_BASE_URL
        company = v.company
        return {
            "first_name": v.first_name,
            "last_name": v.last_name,
            "email": v.email,
            "phone": v.phone,
            "company_name": company.name if company else "",
            "company_domain": company.domain if company else "",
            "visitor_url": f"{base}/contact/details/{v.pk}",
            "company_url": f"{base}/accounts/{company.pk}" if company else "",
            "first_seen_at": _iso(v.first_seen_at),
            "last_seen_at": _iso(v.last_seen_at),
            "total_sessions": v.total_sessions,
            "total_events": v.total_events,
            "utm_campaign": v.utm_campaign,
            "utm_content": v.utm_content,
            "utm_medium": v.utm_medium,
            "utm_source": v.utm_source,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def pending_work(
    *, tenant: Tenant, flags: Collection[str], limit: int, exclude: Collection[int] = ()
) -> list[Work]:
    """Up to `limit` visitors with pending intents of the enabled kinds, oldest first, each
    with all of those intents. A visitor's intents of different kinds are far apart in the
    queue after a backfill (one INSERT per kind): taken in one batch, the Lead is created
    before its chat's Note and meeting's Event are planned, and the person is written once,
    not once for the Lead and again for the update."""
    kinds = [k for k, flag in KIND_FLAGS.items() if flag in flags]
    pending = (
        WriteIntent.objects.for_tenant(tenant)
        .filter(status=WriteIntent.Status.PENDING, kind__in=kinds)
        .exclude(pk__in=list(exclude))
    )
    by_visitor: dict[uuid.UUID, dict[str, int]] = {}
    for visitor_id in pending.order_by("id").values_list("visitor_id", flat=True).iterator():
        if visitor_id not in by_visitor:
            if len(by_visitor) >= limit:
                break
            by_visitor[visitor_id] = {}
    theirs = pending.filter(visitor_id__in=list(by_visitor)).order_by("id")
    for pk, visitor_id, kind in theirs.values_list("pk", "visitor_id", "kind"):
        by_visitor[visitor_id][kind] = pk
    return _load(tenant, by_visitor)


def dry_run_work(*, tenant: Tenant, limit: int) -> list[Work]:
    """What the drain would see if every kind were enabled: pending intents first, else the
    identified visitors themselves (no intents exist before writes are enabled)."""
    work = pending_work(tenant=tenant, flags=set(KIND_FLAGS.values()), limit=limit)
    if work:
        return work
    visitors = (
        Visitor.objects.for_tenant(tenant)
        .filter(identified_at__isnull=False, merged_into__isnull=True)
        .order_by("-last_seen_at")
        .values_list("pk", flat=True)[:limit]
    )
    with_meetings = set(
        Meeting.objects.for_tenant(tenant)
        .filter(visitor_id__in=list(visitors))
        .values_list("visitor_id", flat=True)
    )
    with_chats = set(
        Chat.objects.for_tenant(tenant)
        .filter(visitor_id__in=list(visitors))
        .values_list("visitor_id", flat=True)
    )
    by_visitor: dict[uuid.UUID, dict[str, int]] = {}
    for pk in visitors:
        kinds = {IntentKind.ACCOUNT: 0, IntentKind.LEAD: 0, IntentKind.PERSON: 0}
        if pk in with_meetings:
            kinds[IntentKind.MEETING] = 0
        if pk in with_chats:
            kinds[IntentKind.CHAT] = 0
        by_visitor[pk] = kinds
    return _load(tenant, by_visitor)


def _load(tenant: Tenant, by_visitor: dict[uuid.UUID, dict[str, int]]) -> list[Work]:
    """Visitors, meetings and chats (with transcripts) and failed Leads for a batch in five
    queries."""
    if not by_visitor:
        return []
    visitors = {
        v.pk: v
        for v in Visitor.objects.for_tenant(tenant)
        .filter(pk__in=list(by_visitor))
        .select_related("company")
    }
    work = {pk: Work(visitors[pk], kinds) for pk, kinds in by_visitor.items() if pk in visitors}
    activity_ids = [
        pk for pk, w in work.items() if {IntentKind.MEETING, IntentKind.CHAT} & set(w.intents)
    ]
    failed_leads = (
        WriteIntent.objects.for_tenant(tenant)
        .filter(visitor_id__in=activity_ids, kind=IntentKind.LEAD)
        .filter(
            Q(status=WriteIntent.Status.FAILED)
            | (Q(status=WriteIntent.Status.PENDING) & ~Q(last_error=""))
        )
        .values_list("visitor_id", "last_error")
    )
    for visitor_id, error in failed_leads:
        work[visitor_id].lead_error = error or "The Lead could not be written."
    meeting_ids = [pk for pk, w in work.items() if IntentKind.MEETING in w.intents]
    for m in (
        Meeting.objects.for_tenant(tenant).filter(visitor_id__in=meeting_ids).order_by("starts_at")
    ):
        work[m.visitor_id].meetings.append(m)
    chat_ids = [pk for pk, w in work.items() if IntentKind.CHAT in w.intents]
    chats = list(
        Chat.objects.for_tenant(tenant).filter(visitor_id__in=chat_ids).order_by("started_at")
    )
    lines: dict[uuid.UUID, list[str]] = defaultdict(list)
    for msg in (
        ChatMessage.objects.for_tenant(tenant).filter(chat__in=chats).order_by("sent_at", "id")
    ):
        who = "Visitor" if msg.sender == ChatMessage.Sender.VISITOR else "Agent"
        lines[msg.chat_id].append(f"[{msg.sent_at:%Y-%m-%d %H:%M}] {who}: {msg.body}")
    for chat in chats:
        work[chat.visitor_id].chats.append((chat, "\n".join(lines[chat.pk])[:32000]))
    return list(work.values())


def intents_settle(
    *, tenant: Tenant, done: Iterable[int], failed: dict[int, str], max_attempts: int
) -> None:
    """Mark intents done, or count a failed attempt (keeping the error). An intent is parked
    as failed, for support to retry from the admin once the cause is fixed, when Salesforce
    refused it for a reason that sending it again cannot change (an invalid email, a
    validation rule), or after `max_attempts` passing failures (locks, timeouts)."""
    from django.db.models import F

    from integrations.write.failures import retrying_helps

    done = [pk for pk in done if pk]
    if done:
        WriteIntent.objects.for_tenant(tenant).filter(
            pk__in=done, status=WriteIntent.Status.PENDING
        ).update(status=WriteIntent.Status.DONE, last_error="")
    failed = {pk: error for pk, error in failed.items() if pk}
    for pk, error in failed.items():
        WriteIntent.objects.for_tenant(tenant).filter(pk=pk).update(
            attempts=F("attempts") + 1, last_error=error[:2000]
        )
    if failed:
        lasting = [pk for pk, error in failed.items() if not retrying_helps(error)]
        WriteIntent.objects.for_tenant(tenant).filter(
            Q(attempts__gte=max_attempts) | Q(pk__in=lasting),
            pk__in=list(failed),
            status=WriteIntent.Status.PENDING,
        ).update(status=WriteIntent.Status.FAILED)


def intents_retry(*, tenant: Tenant, intent_ids: Iterable[int]) -> int:
    """Give intents that failed a fresh run of attempts: parked ones (failed
    `max_attempts` times) go back in the queue, pending ones that failed an attempt start
    counting again; the error stays shown until a write succeeds. A parked intent whose
    visitor and kind already has a newer pending one is left parked (the newer one carries
    the latest values). Returns how many were queued again."""
    ids = list(intent_ids)
    mine = WriteIntent.objects.for_tenant(tenant).filter(pk__in=ids)
    retried = mine.filter(status=WriteIntent.Status.PENDING, attempts__gt=0).update(attempts=0)
    newer = WriteIntent.objects.filter(
        visitor_id=OuterRef("visitor_id"), kind=OuterRef("kind"), status=WriteIntent.Status.PENDING
    )
    parked = mine.filter(status=WriteIntent.Status.FAILED).exclude(Exists(newer))
    for pk in parked.values_list("pk", flat=True):
        try:
            with transaction.atomic():  # two parked twins: the second stays parked
                retried += WriteIntent.objects.filter(pk=pk).update(
                    status=WriteIntent.Status.PENDING, attempts=0
                )
        except IntegrityError:
            continue
    return retried
