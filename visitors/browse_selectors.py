"""Reads for the Visitors and Companies pages: keyset-paginated lists and the two detail pages.

Lists never use OFFSET or an exact COUNT over everything: a page is an index range after (or
before) a cursor on `(last seen, id)`, and the total shown is counted only up to
`COUNT_CAP`. The Salesforce side of a Visitors page (who each row is in the CRM) is the match
stored on each visitor row (`visitors.services.crm_match`), read with the row; only rows
whose match was never computed are matched live, for that page's rows at once, so the
number of queries of a page does not grow with its rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, Literal, TypeVar

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.models import Account, CrmUser, Opportunity, OpportunityStatus
from crm.owners import FallbackOwners, MirrorOwner, OwnerRule, fallback_owners, mirror_owner_resolve
from crm.selectors import account_for_domain, accounts_for_domains
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.selectors import get_for_tenant_or_404
from visitors.models import (
    Chat,
    ChatMessage,
    Company,
    Event,
    Meeting,
    Session,
    Visitor,
)
from visitors.segments import customer_accounts
from visitors.selectors import VisitorInCrm, visitors_in_crm
from visitors.user_agents import device_label

PAGE_SIZE = 25
COUNT_CAP = 1000
CHART_DAYS = (30, 90)
MAX_MERGE_HOPS = 10

T = TypeVar("T")
# Columns of an opportunity row (and its stage and owner) no page shows: the raw records
# cost most of the CPU of reading a row.
OPPORTUNITY_DEFERRED = ("remote_data", "description", "stage__remote_data", "owner__remote_data")


class InvalidCursor(ValueError):
    """A page link whose cursor we did not write (edited by hand, or truncated)."""


@dataclass(frozen=True)
class Cursor:
    """A position in a list ordered by `(at, id)` descending, opaque in URLs."""

    at: dt.datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            at_text, id_text = raw.split("|")
            at = dt.datetime.fromisoformat(at_text)
            if at.tzinfo is None:
                raise ValueError("naive")
            return cls(at=at, id=uuid.UUID(id_text))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursor("This page link is not valid.") from exc


@dataclass
class KeysetPage(Generic[T]):
    rows: list[T]
    older: str | None  # cursor of the next page (`?after=`)
    newer: str | None  # cursor of the previous page (`?before=`)
    total: int  # counted up to COUNT_CAP + 1
    capped: bool


def keyset_page(
    queryset: QuerySet[Any],
    *,
    at_field: str,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
    count_from: QuerySet[Any] | None = None,
) -> KeysetPage[Any]:
    """One page of `queryset` ordered by `(at_field, id)` descending. `after`/`before` are
    cursors from a previous page (older / newer rows); the capped total counts `count_from`
    (default: `queryset`). The range condition is written as
    `at <= x AND (at < x OR id < y)` so its first half is an index condition."""
    total = (queryset if count_from is None else count_from).order_by()[: COUNT_CAP + 1].count()
    newest_first = (F(at_field).desc(), F("id").desc())
    if before:
        cursor = Cursor.decode(before)
        rows = list(
            queryset.filter(**{f"{at_field}__gte": cursor.at})
            .filter(Q(**{f"{at_field}__gt": cursor.at}) | Q(id__gt=cursor.id))
            .order_by(F(at_field).asc(), F("id").asc())[: size + 1]
        )
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = True
    else:
        query = queryset
        if after:
            cursor = Cursor.decode(after)
            query = query.filter(**{f"{at_field}__lte": cursor.at}).filter(
                Q(**{f"{at_field}__lt": cursor.at}) | Q(id__lt=cursor.id)
            )
        rows = list(query.order_by(*newest_first)[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = bool(after)

    def at(row: Any) -> Cursor:
        return Cursor(at=getattr(row, at_field), id=row.pk)

    return KeysetPage(
        rows=rows,
        older=at(rows[-1]).encode() if rows and has_older else None,
        newer=at(rows[0]).encode() if rows and has_newer else None,
        total=min(total, COUNT_CAP),
        capped=total > COUNT_CAP,
    )


# --- Visitors ------------------------------------------------------------------------------


def live_visitors(*, tenant: Tenant) -> QuerySet[Visitor]:
    """The tenant's visitors that were not merged into another one."""
    return Visitor.objects.for_tenant(tenant).filter(merged_into__isnull=True)


@dataclass(frozen=True)
class RowMatch:
    """Who a list row is in Salesforce, as much as the list shows: the kind of person record
    (a contact wins over the lead it was converted from), whether an account matched, the
    owner to show and the rule of the owner chain that chose them, or, for an identified
    visitor with no Contact or Lead, whom their Lead would be owned by."""

    person_kind: Literal["contact", "lead"] | None
    in_account: bool
    owner: CrmUser | None
    owner_rule: str = ""
    would_be_owner: MirrorOwner | None = None

    @property
    def owner_rule_label(self) -> str:
        return OwnerRule(self.owner_rule).label if self.owner_rule else ""

    @classmethod
    def of(cls, match: VisitorInCrm) -> RowMatch:
        return cls(
            person_kind=match.person.kind if match.person else None,
            in_account=match.account is not None,
            owner=match.owner,
            owner_rule=match.owner_rule or "",
            would_be_owner=match.would_be_owner,
        )


@dataclass(frozen=True)
class VisitorRow:
    visitor: Visitor
    crm: RowMatch


# The columns a Visitors row shows or matches on: reading whole rows (and the owners' raw
# records) is most of the CPU of a list page.
_ROW_FIELDS = (
    "id",
    "tenant_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "company__id",
    "company__name",
    "company__domain",
    "last_seen_at",
    "total_sessions",
    "utm_source",
    "utm_campaign",
    "crm_contact_id",
    "crm_lead_id",
    "crm_account_id",
    "crm_owner__name",
    "crm_owner__email",
    "crm_owner_rule",
    "crm_matched_at",
    "identified_at",
)


def visitor_rows_page(
    queryset: QuerySet[Visitor], *, tenant: Tenant, after: str = "", before: str = ""
) -> KeysetPage[VisitorRow]:
    """A page of visitors, most recently seen first, each with who they are in Salesforce:
    the stored match, or (for rows never matched yet) the live one, all in one query; the
    tenant's fallback owners are read once (two queries) if some identified row has no
    Contact or Lead, to say whom its Lead would be owned by."""
    page = keyset_page(
        queryset.select_related("company", "crm_owner").only(*_ROW_FIELDS),
        at_field="last_seen_at",
        after=after,
        before=before,
    )
    fallback = cache(lambda: fallback_owners(tenant=tenant))
    unmatched = [v for v in page.rows if v.crm_matched_at is None]
    live = (
        visitors_in_crm(tenant=tenant, visitors=unmatched, opportunities=False, fallback=fallback)
        if unmatched
        else {}
    )
    page.rows = [
        VisitorRow(
            visitor=v,
            crm=RowMatch.of(live[v.pk]) if v.pk in live else _stored_match(v, fallback),
        )
        for v in page.rows
    ]
    return page


def _stored_match(visitor: Visitor, fallback: Callable[[], FallbackOwners]) -> RowMatch:
    kind: Literal["contact", "lead"] | None = None
    if visitor.crm_contact_id:
        kind = "contact"
    elif visitor.crm_lead_id:
        kind = "lead"
    would_be = None
    if kind is None and visitor.crm_owner_id is None and visitor.identified_at:
        would_be = mirror_owner_resolve(fallback=fallback())
    return RowMatch(
        person_kind=kind,
        in_account=visitor.crm_account_id is not None,
        owner=visitor.crm_owner,
        owner_rule=visitor.crm_owner_rule,
        would_be_owner=would_be,
    )


# --- Companies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyList:
    """The Companies list: each company stands as its most recent live visitor, so the list
    pages on the same (last seen, id) index as the Visitors list instead of grouping all
    visitors per company; `companies` is what the capped total counts."""

    latest_visitors: QuerySet[Visitor]
    companies: QuerySet[Company]


def companies_with_visits(*, tenant: Tenant, among: QuerySet[Company] | None = None) -> CompanyList:
    """The tenant's companies that have live visitors, most recent visit first; only those
    in `among` (e.g. a segment engine queryset) when given."""
    newer = Visitor.objects.filter(
        tenant_id=OuterRef("tenant_id"),
        company_id=OuterRef("company_id"),
        merged_into__isnull=True,
        last_seen_at__gte=OuterRef("last_seen_at"),
    ).filter(Q(last_seen_at__gt=OuterRef("last_seen_at")) | Q(id__gt=OuterRef("id")))
    latest = (
        live_visitors(tenant=tenant)
        .filter(company__isnull=False)
        .filter(~Exists(newer))
        .select_related("company")
    )
    companies = Company.objects.for_tenant(tenant)
    if among is not None:
        latest = latest.filter(company_id__in=among.order_by().values("pk"))
        companies = among
    return CompanyList(latest_visitors=latest, companies=companies)


@dataclass(frozen=True)
class CompanyRow:
    company: Company
    account: Account | None
    is_customer: bool


def company_rows_page(
    companies: CompanyList,
    *,
    tenant: Tenant,
    after: str = "",
    before: str = "",
) -> KeysetPage[CompanyRow]:
    """A page of companies, most recent visit first, each with its number of live visitors,
    its Salesforce account, the account's owner and whether it is a current customer, read
    for the page's rows only. The total counts companies (up to the cap), whether or not
    they still have live visitors: an estimate, as on the Visitors list."""
    page = keyset_page(
        companies.latest_visitors,
        at_field="last_seen_at",
        after=after,
        before=before,
        count_from=companies.companies,
    )
    page_companies = []
    for visitor in page.rows:
        company = visitor.company
        company.last_visit_at = visitor.last_seen_at
        page_companies.append(company)
    counts = dict(
        live_visitors(tenant=tenant)
        .filter(company_id__in=[c.pk for c in page_companies])
        .values("company_id")
        .annotate(n=Count("id"))
        .values_list("company_id", "n")
        .order_by()
    )
    accounts = accounts_for_domains(tenant=tenant, domains=[c.domain for c in page_companies])
    _attach_owners(tenant, list(accounts.values()))
    customers = set(
        customer_accounts(tenant=tenant)
        .filter(pk__in=[a.pk for a in accounts.values()])
        .values_list("pk", flat=True)
    )
    rows = []
    for company in page_companies:
        company.visitor_count = counts.get(company.pk, 0)
        account = accounts.get(company.domain)
        rows.append(
            CompanyRow(
                company=company,
                account=account,
                is_customer=account is not None and account.pk in customers,
            )
        )
    page.rows = rows
    return page


def _attach_owners(tenant: Tenant, accounts: Sequence[Account]) -> None:
    """Load the owners of `accounts` in one query (none when there is nothing to load)."""
    owner_ids = {a.owner_id for a in accounts if a.owner_id}
    owners = {
        u.pk: u
        for u in CrmUser.objects.for_tenant(tenant).filter(pk__in=owner_ids).defer("remote_data")
    }
    owner_field = Account._meta.get_field("owner")
    for account in accounts:
        owner_field.set_cached_value(account, owners.get(account.owner_id))


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
        _attach_owners(tenant, [account])
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
