"""Reads for Slack alerts: what the scan looks at, and what the alerts pages show.

The scan's reads are batch reads: each takes the ids of a whole batch and costs one query,
so a busy minute costs the same number of queries as a quiet one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Collection
from urllib.parse import urlsplit

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from crm.member_links import member_for_crm_users
from salesmonk.crypto import DecryptionError
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.selectors import get_for_tenant_or_404
from visitors.models import (
    AlertDelivery,
    AlertRule,
    Event,
    EventType,
    Segment,
    Session,
    SlackWebhook,
    Visitor,
)

PAGES_PER_MESSAGE = 5


# --- The scan --------------------------------------------------------------------------------


def tenants_with_active_rules() -> list[uuid.UUID]:
    """Tenants the scan has work for: an active rule posting to an active webhook."""
    return list(
        AlertRule.objects.filter(is_active=True, webhook__is_active=True)
        .order_by()
        .values_list("tenant_id", flat=True)
        .distinct()
    )


def active_rules(*, tenant: Tenant) -> list[AlertRule]:
    return list(
        AlertRule.objects.for_tenant(tenant)
        .filter(is_active=True, webhook__is_active=True)
        .select_related("webhook", "segment")
        .order_by("created_at", "id")
    )


def sessions_active_since(
    *,
    tenant: Tenant,
    since: dt.datetime,
    until: dt.datetime,
    after: tuple[dt.datetime, uuid.UUID] | None = None,
    limit: int,
) -> list[Session]:
    """One batch of the sessions with an event in [since, until], by (last activity, id)
    after the `after` key, with their visitor and company. Found through the visitors seen
    since then (`visitors_visitor_live_page` index: a visitor's `last_seen_at` moves with every
    event), so sessions need no new index and ingest pays nothing for the scan. Keyset pages
    hold no cursor open while the caller writes; a session whose activity moves on during
    the scan may be read twice, which the deliveries' unique key makes harmless."""
    recent = (
        Visitor.objects.for_tenant(tenant)
        .filter(last_seen_at__gte=since, merged_into__isnull=True)
        .values("pk")
    )
    sessions = Session.objects.for_tenant(tenant).filter(
        visitor_id__in=recent, last_event_at__gte=since, last_event_at__lte=until
    )
    if after is not None:
        at, pk = after
        sessions = sessions.filter(Q(last_event_at__gt=at) | Q(last_event_at=at, id__gt=pk))
    return list(sessions.select_related("visitor__company").order_by("last_event_at", "id")[:limit])


def delivery_keys(*, tenant: Tenant, session_ids: Collection[uuid.UUID]) -> set[tuple]:
    """(rule id, visitor id, session id) of the deliveries already recorded for these
    sessions: lets the scan skip building messages that would be ignored anyway (the unique
    key, not this read, is what guarantees one delivery)."""
    return set(
        AlertDelivery.objects.for_tenant(tenant)
        .filter(session_id__in=session_ids)
        .values_list("rule_id", "visitor_id", "session_id")
    )


def session_pages(
    *, tenant: Tenant, session_ids: Collection[uuid.UUID], limit: int = PAGES_PER_MESSAGE
) -> dict[uuid.UUID, list[dict[str, str]]]:
    """The last `limit` page views of each session, oldest first, in one query."""
    rows = (
        Event.objects.for_tenant(tenant)
        .filter(session_id__in=session_ids, type=EventType.PAGE)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("session_id")],
                order_by=[F("occurred_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=limit)
        .values("session_id", "path", "title", "url", "occurred_at", "id")
    )
    pages: dict[uuid.UUID, list[dict[str, str]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["occurred_at"], r["id"])):
        pages[row["session_id"]].append(
            {"path": row["path"] or row["url"], "title": row["title"], "url": row["url"]}
        )
    return pages


def owner_slack_ids(*, tenant: Tenant, owner_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Salesforce owner (mirrored `crm.User` id) → the Slack member id of the SalesMonk member
    linked to them, among members who set one (a manual link first, then the oldest member),
    in one query."""
    members = member_for_crm_users(tenant=tenant, user_ids=owner_ids, with_slack_id=True)
    return {user_id: member.slack_user_id for user_id, member in members.items()}


def deliveries_due(*, before: dt.datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose next attempt was due before `before` (retries after a
    backoff, or a first attempt whose task was lost)."""
    return list(
        AlertDelivery.objects.filter(
            status=AlertDelivery.Status.PENDING, next_attempt_at__lte=before
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Pages -----------------------------------------------------------------------------------


def webhook_list(*, tenant: Tenant) -> QuerySet[SlackWebhook]:
    """With how many rules post to each, in one query."""
    return (
        SlackWebhook.objects.for_tenant(tenant)
        .annotate(rule_count=Count("rules"))
        .order_by("name", "created_at")
    )


def webhook_get(*, tenant: Tenant, webhook_id: uuid.UUID) -> SlackWebhook:
    return get_for_tenant_or_404(SlackWebhook.objects.all(), tenant=tenant, pk=webhook_id)


def segment_choices(*, tenant: Tenant) -> QuerySet[Segment]:
    return Segment.objects.for_tenant(tenant).order_by("name")


def alert_rule_list(*, tenant: Tenant) -> QuerySet[AlertRule]:
    """Rules with their webhook, segment and last delivery (time and status), one query."""
    last = AlertDelivery.objects.filter(rule=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        AlertRule.objects.for_tenant(tenant)
        .select_related("webhook", "segment")
        .annotate(
            last_delivery_at=Subquery(last.values("created_at")[:1]),
            last_delivery_status=Subquery(last.values("status")[:1]),
        )
        .order_by("name", "created_at")
    )


def alert_rule_get(*, tenant: Tenant, rule_id: uuid.UUID) -> AlertRule:
    return get_for_tenant_or_404(
        AlertRule.objects.select_related("webhook", "segment"), tenant=tenant, pk=rule_id
    )


def alert_delivery_log(*, tenant: Tenant) -> QuerySet[AlertDelivery]:
    """Most recent first, with what each row shows (rule, webhook, visitor, company)."""
    return (
        AlertDelivery.objects.for_tenant(tenant)
        .select_related("rule__webhook", "visitor__company")
        .order_by("-created_at", "-id")
    )


def webhook_url_display(webhook: SlackWebhook) -> str:
    """`hooks.slack.com/services/T0…/B0…/••••`: enough to recognise it, not to use it."""
    try:
        parts = urlsplit(webhook.url)
    except (DecryptionError, ValueError):
        return "••••"
    segments = [s for s in parts.path.split("/") if s]
    shown = [seg[:3] + "…" if i in (1, 2) else seg for i, seg in enumerate(segments[:3])]
    return f"{parts.hostname or ''}/{'/'.join(shown)}/••••"
