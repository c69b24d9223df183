"""Reads for the visitor and company detail pages: everything each page shows in a fixed
number of queries, whatever the visitor's or company's history (the lists: `selectors`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Prefetch,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.models import Account, Opportunity, OpportunityStatus
from crm.owners import fallback_owners
from crm.selectors import account_for_domain
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.selectors import get_for_tenant_or_404
from visitors.browse.selectors import (
    COUNT_CAP,
    PAGE_SIZE,
    account_owners_attach,
    live_visitors,
)
from visitors.models import (
    Chat,
    ChatMessage,
    Company,
    Event,
    Meeting,
    Session,
    Visitor,
)
from visitors.tracking.selectors import VisitorInCrm, visitors_in_crm
from visitors.tracking.user_agents import device_label

CHART_DAYS = (30, 90)
MAX_MERGE_HOPS = 10
# Columns of an opportunity row (and its stage and owner) no page shows: the raw records
# cost most of the CPU of reading a row.
OPPORTUNITY_DEFERRED = ("remote_data", "description", "stage__remote_data", "owner__remote_data")


# --- Visitor detail ------------------------------------------------------------------------


@dataclass
class SessionVisit:
    session: Session
    device: str
    events: list[Event] = field(default_factory=list)


@dataclass
class VisitorDetail:
    visitor: Visitor
    crm: VisitorInCrm
    sessions: list[SessionVisit]
    timeline: list[SessionVisit]
    chats: list[Chat]
    meetings: list[Meeting]


def visitor_resolve(*, tenant: Tenant, visitor_id: uuid.UUID) -> Visitor:
    """The visitor with this id (404 for another tenant's), following merges to the
    survivor: old links (e.g. written into Salesforce before a merge) keep working."""
    visitor = get_for_tenant_or_404(
        Visitor.objects.select_related("company"), tenant=tenant, pk=visitor_id
    )
    hops = 0
    while visitor.merged_into_id is not None and hops < MAX_MERGE_HOPS:
        visitor = get_for_tenant_or_404(
            Visitor.objects.select_related("company"), tenant=tenant, pk=visitor.merged_into_id
        )
        hops += 1
    return visitor


def visitor_detail(*, tenant: Tenant, visitor: Visitor) -> VisitorDetail:
    """Everything the visitor page shows, in a fixed number of queries: the CRM side, the
    20 most recent sessions with their device, the 50 most recent events grouped by session,
    chats with their messages, and meetings."""
    sessions = list(
        Session.objects.for_tenant(tenant)
        .filter(visitor=visitor)
        .select_related("device")
        .only(
            "id",
            "started_at",
            "last_event_at",
            "event_count",
            "landing_url",
            "referrer",
            "device__user_agent",
        )
        .order_by("-started_at")[:20]
    )
    events = list(
        Event.objects.for_tenant(tenant)
        .filter(visitor=visitor)
        .select_related("session")
        .only(
            "id",
            "type",
            "occurred_at",
            "url",
            "path",
            "title",
            "session__id",
            "session__started_at",
        )
        .order_by("-occurred_at", "-id")[:50]
    )
    timeline: list[SessionVisit] = []
    for event in events:
        if not timeline or timeline[-1].session.pk != event.session_id:
            timeline.append(SessionVisit(session=event.session, device=""))
        timeline[-1].events.append(event)
    chats = list(
        Chat.objects.for_tenant(tenant)
        .filter(visitor=visitor)
        .prefetch_related(
            Prefetch("messages", queryset=ChatMessage.objects.order_by("sent_at", "id"))
        )
        .order_by("-started_at")
    )
    meetings = list(Meeting.objects.for_tenant(tenant).filter(visitor=visitor))
    return VisitorDetail(
        visitor=visitor,
        crm=visitors_in_crm(
            tenant=tenant,
            visitors=[visitor],
            fallback=lambda: fallback_owners(tenant=tenant),
        )[visitor.pk],
        sessions=[
            SessionVisit(session=s, device=device_label(s.device.user_agent)) for s in sessions
        ],
        timeline=timeline,
        chats=chats,
        meetings=meetings,
    )


# --- Company detail ------------------------------------------------------------------------


@dataclass
class CompanyDetail:
    company: Company
    account: Account | None
    opportunities: list[Opportunity]
    visitors: list[Visitor]
    visitor_total: int
    recent_sessions: list[Session]
    chart: dict[str, Any]


def company_get(*, tenant: Tenant, company_id: uuid.UUID) -> Company:
    return get_for_tenant_or_404(Company.objects.all(), tenant=tenant, pk=company_id)


def company_detail(*, tenant: Tenant, company: Company, days: int) -> CompanyDetail:
    """The company page: its Salesforce account with all its opportunities (open first),
    its 25 most recently seen visitors, their 20 most recent visits, and daily sessions
    over the last `days` days (one aggregate query)."""
    account = account_for_domain(tenant=tenant, domain=company.domain)
    opportunities: list[Opportunity] = []
    if account is not None:
        account_owners_attach(tenant=tenant, accounts=[account])
        opportunities = list(
            Opportunity.objects.for_tenant(tenant)
            .filter(account=account, remote_was_deleted=False)
            .select_related("stage", "owner")
            .defer(*OPPORTUNITY_DEFERRED)
            .order_by(
                Case(
                    When(status=OpportunityStatus.OPEN, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                ),
                F("close_date").desc(nulls_last=True),
                "name",
                "remote_id",
            )
        )
    visitors_qs = live_visitors(tenant=tenant).filter(company=company)
    visitors = list(visitors_qs.order_by("-last_seen_at", "-id")[:PAGE_SIZE])
    visitor_total = visitors_qs.order_by()[: COUNT_CAP + 1].count()
    recent_sessions = list(
        Session.objects.for_tenant(tenant)
        .filter(visitor_id__in=[v.pk for v in visitors])
        .select_related("visitor")
        .only(
            "id",
            "started_at",
            "event_count",
            "landing_url",
            "referrer",
            "visitor__id",
            "visitor__email",
            "visitor__first_name",
            "visitor__last_name",
        )
        .order_by("-started_at", "-id")[:20]
    )
    return CompanyDetail(
        company=company,
        account=account,
        opportunities=opportunities,
        visitors=visitors,
        visitor_total=visitor_total,
        recent_sessions=recent_sessions,
        chart=company_daily_sessions(tenant=tenant, company=company, days=days),
    )


def company_daily_sessions(*, tenant: Tenant, company: Company, days: int) -> dict[str, Any]:
    """The company's sessions per day. A session in the window belongs to a visitor seen in
    it, so the company's live visitors seen since the window opened (an index-only read of
    (company, last seen, id)) are fetched first and the sessions counted by those ids: the
    planner then probes the sessions' visitor index instead of scanning every session."""
    start = _window_start(days)
    seen_ids = list(
        live_visitors(tenant=tenant)
        .filter(company=company, last_seen_at__gte=start)
        .values_list("id", flat=True)
    )
    sessions = Session.objects.for_tenant(tenant).filter(visitor_id__in=seen_ids)
    return daily_sessions(sessions, days=days, label=f"Sessions from {company}")


def _window_start(days: int) -> dt.datetime:
    """Midnight (UTC) opening a window of `days` days that ends today."""
    first = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=days - 1)
    return dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)


def daily_sessions(sessions: QuerySet[Session], *, days: int, label: str) -> dict[str, Any]:
    """Sessions started per UTC day over the last `days` days (today included), zeros filled
    in; the shape the chart script reads from `json_script`."""
    start = _window_start(days)
    first = start.date()
    counts = {
        row["day"]: row["n"]
        for row in sessions.filter(started_at__gte=start)
        .annotate(day=TruncDate("started_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    }
    labels = [first + dt.timedelta(days=i) for i in range(days)]
    return {
        "label": label,
        "days": days,
        "labels": [d.isoformat() for d in labels],
        "counts": [counts.get(d, 0) for d in labels],
    }
