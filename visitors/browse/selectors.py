"""Reads for the Visitors and Companies lists (their detail pages: `detail_selectors`).

Lists never use OFFSET or an exact COUNT over everything: a page is an index range after (or
before) a cursor on `(last seen, id)`, and the total shown is counted only up to
`COUNT_CAP`. The Salesforce side of a Visitors page (who each row is in the CRM) is the match
stored on each visitor row (`visitors.tracking.crm_match`), read with the row; only rows
whose match was never computed are matched live, for that page's rows at once, so the
number of queries of a page does not grow with its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Generic, Literal, TypeVar

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)

from crm.models import Account, CrmUser
from crm.owners import FallbackOwners, MirrorOwner, OwnerRule, fallback_owners, mirror_owner_resolve
from crm.selectors import accounts_for_domains
from salesmonk.paging import cursor_decode, cursor_encode, keyset_rows, row_cursor
from salesmonk.tenants.models import Tenant
from visitors.models import (
    Company,
    Visitor,
)
from visitors.segments.selectors import customer_accounts
from visitors.tracking.selectors import VisitorInCrm, visitors_in_crm

PAGE_SIZE = 25
COUNT_CAP = 1000
# Both lists page over visitor rows by when they were last seen; their cursors are signed
# for their own list.
_AT_FIELD = "last_seen_at"
VISITOR_LIST_SCOPE = "visitors.visitor_list"
COMPANY_LIST_SCOPE = "visitors.company_list"

T = TypeVar("T")


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
    scope: str,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
    count_from: QuerySet[Any] | None = None,
) -> KeysetPage[Any]:
    """One page of `queryset`, most recently seen first (`salesmonk.paging` on
    `(last_seen_at, id)`). `after`/`before` are cursors of a previous page (older / newer
    rows), signed for `scope`; the capped total counts `count_from` (default: `queryset`)."""
    total = (queryset if count_from is None else count_from).order_by()[: COUNT_CAP + 1].count()
    cursor = None
    if before:
        cursor = replace(cursor_decode(before, scope=scope), backwards=True)
    elif after:
        cursor = replace(cursor_decode(after, scope=scope), backwards=False)
    rows, more = keyset_rows(
        queryset, cursor=cursor, size=size, at_field=_AT_FIELD, newest_first=True
    )
    has_older = True if before else more
    has_newer = more if before else bool(after)

    def link(row: Any, *, backwards: bool) -> str:
        return cursor_encode(row_cursor(row, at_field=_AT_FIELD, backwards=backwards), scope=scope)

    return KeysetPage(
        rows=rows,
        older=link(rows[-1], backwards=False) if rows and has_older else None,
        newer=link(rows[0], backwards=True) if rows and has_newer else None,
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
        scope=VISITOR_LIST_SCOPE,
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
        scope=COMPANY_LIST_SCOPE,
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
    account_owners_attach(tenant=tenant, accounts=list(accounts.values()))
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


def account_owners_attach(*, tenant: Tenant, accounts: Sequence[Account]) -> None:
    """Load the owners of `accounts` in one query (none when there is nothing to load)."""
    owner_ids = {a.owner_id for a in accounts if a.owner_id}
    owners = {
        u.pk: u
        for u in CrmUser.objects.for_tenant(tenant).filter(pk__in=owner_ids).defer("remote_data")
    }
    owner_field = Account._meta.get_field("owner")
    for account in accounts:
        owner_field.set_cached_value(account, owners.get(account.owner_id))
