"""The segment engine: which visitors and companies match a set of filters over tracking and
CRM data. Reads only; saving segments and the customer rule is `visitors.segments.services`.

Who a visitor is in the CRM is the match stored on the visitor row (`crm_contact`,
`crm_lead`, `crm_account`, `crm_owner`), which `visitors.tracking.crm_match` computes with
`visitors.tracking.selectors.visitors_in_crm` itself, so filters agree with the pages and alerts:

- "contact" has a contact (a converted lead counts as the contact it became), "lead" a lead
  and no contact, "account" only an account (the company's domain), "none" nothing;
- the owner is the first usable one of the account, contact and lead owners (the owner
  chain of `crm.owners`, existing records only: "owned by me" never means "a Lead we create
  would be mine"); customer and opportunity filters use the stored account.

Every visitor condition is an indexed column lookup (`(tenant, crm_owner)`,
`(tenant, crm_account)`) or a semi-join on a small set of accounts. Merged visitors never
appear and CRM rows deleted remotely are ignored. Companies find their account by domain
(the live `(tenant, domain)` index of accounts).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from crm.models import Account, MemberLink, Opportunity, OpportunityStatus
from crm.selectors import ACCOUNT_PREFERENCE
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import Company, CustomerRule, Segment, SegmentTarget, Visitor
from visitors.segments.filters import ME, SegmentFilters

# --- CRM sets ------------------------------------------------------------------------------


def _live(model: Any, tenant: Tenant) -> QuerySet[Any]:
    return model.objects.for_tenant(tenant).filter(remote_was_deleted=False)


def customer_accounts(*, tenant: Tenant) -> QuerySet[Account]:
    """Live accounts that are current customers under the tenant's `CustomerRule`: an
    account type listed in the rule, or (when the rule says so) a won opportunity. With no
    rule saved, a won opportunity makes a customer."""
    rule = CustomerRule.objects.filter(tenant=tenant).first()
    types = list(rule.account_types) if rule else []
    won = rule.won_opportunity if rule else True
    return customer_accounts_for_rule(tenant=tenant, account_types=types, won_opportunity=won)


def customer_accounts_for_rule(
    *, tenant: Tenant, account_types: list[str], won_opportunity: bool
) -> QuerySet[Account]:
    """`customer_accounts` for a rule that may not be saved yet (the settings preview)."""
    condition = Q()
    matched = False
    if account_types:
        condition |= Q(type__in=account_types)
        matched = True
    if won_opportunity:
        won = _live(Opportunity, tenant).filter(
            account_id=OuterRef("pk"), status=OpportunityStatus.WON
        )
        condition |= Q(Exists(won))
        matched = True
    accounts = _live(Account, tenant)
    return accounts.filter(condition) if matched else accounts.none()


def _open_opportunity_accounts(tenant: Tenant, stage_ids: tuple[str, ...]) -> QuerySet[Account]:
    opps = _live(Opportunity, tenant).filter(
        account_id=OuterRef("pk"), status=OpportunityStatus.OPEN
    )
    if stage_ids:
        opps = opps.filter(stage_id__in=stage_ids)
    return _live(Account, tenant).filter(Exists(opps))


def _owner_condition(
    tenant: Tenant, owner_ids: tuple[str, ...], member: Membership | None
) -> tuple[list[str], QuerySet[MemberLink] | None]:
    """The explicit user ids, and the "me" users as a subquery (None when not asked)."""
    explicit = [i for i in owner_ids if i != ME]
    mine = None
    if ME in owner_ids:
        mine = (
            MemberLink.objects.for_tenant(tenant)
            .filter(membership_id=member.pk if member else None, user__isnull=False)
            .values("user_id")
        )
    return explicit, mine


def _owner_q(field: str, explicit: list[str], mine: QuerySet[MemberLink] | None) -> Q:
    q = Q(**{f"{field}__in": explicit}) if explicit else Q(pk__in=[])
    if mine is not None:
        q |= Q(**{f"{field}__in": mine})
    return q


# --- visitors ------------------------------------------------------------------------------


def visitors_filtered(
    *,
    tenant: Tenant,
    filters: SegmentFilters,
    member: Membership | None,
    exclude_customers: bool = False,
) -> QuerySet[Visitor]:
    """The tenant's (unmerged) visitors matching `filters`, most recently seen first, with
    their company. `member` resolves the "me" owner; `exclude_customers` hides visitors whose
    account is a current customer (as `customer="exclude"` does)."""
    return _visitors(_Customers(tenant), filters, member, exclude_customers)


class _Customers:
    """The tenant's customer accounts, with the rule read once however many filters use it."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self._accounts: QuerySet[Account] | None = None

    @property
    def accounts(self) -> QuerySet[Account]:
        if self._accounts is None:
            self._accounts = customer_accounts(tenant=self.tenant)
        return self._accounts


def _visitors(
    customers: _Customers,
    filters: SegmentFilters,
    member: Membership | None,
    exclude_customers: bool,
) -> QuerySet[Visitor]:
    tenant = customers.tenant
    qs = (
        Visitor.objects.for_tenant(tenant)
        .filter(merged_into__isnull=True)
        .select_related("company")
        .order_by("-last_seen_at", "-id")
    )
    f = filters
    for term in f.q.split():
        qs = qs.filter(pk__in=_visitors_matching(tenant, term))
    for name in ("utm_source", "utm_medium", "utm_campaign"):
        if value := getattr(f, name):
            qs = qs.filter(**{name: value})
    if f.seen_within_days is not None:
        qs = qs.filter(last_seen_at__gte=timezone.now() - dt.timedelta(days=f.seen_within_days))
    if f.identified is not None:
        qs = qs.filter(identified_at__isnull=not f.identified)
    if not _needs_crm(f, exclude_customers):
        return qs

    if f.in_crm == "contact":
        qs = qs.filter(crm_contact__isnull=False)
    elif f.in_crm == "lead":
        qs = qs.filter(crm_contact__isnull=True, crm_lead__isnull=False)
    elif f.in_crm == "account":
        qs = qs.filter(crm_contact__isnull=True, crm_lead__isnull=True, crm_account__isnull=False)
    elif f.in_crm == "none":
        qs = qs.filter(crm_contact__isnull=True, crm_lead__isnull=True, crm_account__isnull=True)
    if f.lead_statuses:
        qs = qs.filter(crm_contact__isnull=True, crm_lead__lead_status__in=list(f.lead_statuses))
    if f.owner_ids:
        explicit, mine = _owner_condition(tenant, f.owner_ids, member)
        qs = qs.filter(_owner_q("crm_owner_id", explicit, mine))
    if f.has_open_opportunity is not None or f.stage_ids:
        with_open = _open_opportunity_accounts(tenant, ())
        if f.has_open_opportunity is True:
            qs = qs.filter(_account_in(with_open))
        elif f.has_open_opportunity is False:
            qs = qs.exclude(_account_in(with_open))
        if f.stage_ids:
            qs = qs.filter(_account_in(_open_opportunity_accounts(tenant, f.stage_ids)))
    if f.customer == "only":
        qs = qs.filter(_account_in(customers.accounts))
    if f.customer == "exclude" or exclude_customers:
        qs = qs.exclude(_account_in(customers.accounts))
    return qs


def _account_in(accounts: QuerySet[Account]) -> Q:
    """Visitors whose stored account is one of `accounts`. Never NULL (a visitor without an
    account is simply not in), so its negation keeps them."""
    return Q(crm_account_id__isnull=False) & Q(crm_account_id__in=accounts.values("pk"))


def _visitors_matching(tenant: Tenant, term: str) -> QuerySet[Visitor]:
    """Ids of visitors whose name or email contains `term`, united with those of companies
    whose name or domain does: each side can use its own trigram index on PostgreSQL
    (migration 0003), where one OR across the join would scan every visitor."""
    by_text = Visitor.objects.for_tenant(tenant).filter(
        Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
    )
    by_company = Visitor.objects.for_tenant(tenant).filter(
        company_id__in=_companies_matching(tenant, term).order_by().values("pk")
    )
    return by_text.order_by().values("pk").union(by_company.order_by().values("pk"))


def _companies_matching(tenant: Tenant, term: str) -> QuerySet[Company]:
    return Company.objects.for_tenant(tenant).filter(
        Q(name__icontains=term) | Q(domain__icontains=term)
    )


def _needs_crm(f: SegmentFilters, exclude_customers: bool) -> bool:
    return bool(
        exclude_customers
        or f.customer
        or f.owner_ids
        or f.stage_ids
        or f.lead_statuses
        or f.in_crm
        or f.has_open_opportunity is not None
    )


# --- companies -----------------------------------------------------------------------------


def companies_filtered(
    *,
    tenant: Tenant,
    filters: SegmentFilters,
    member: Membership | None,
    exclude_customers: bool = False,
) -> QuerySet[Company]:
    """The tenant's companies matching `filters`, ordered by name then domain. A company's
    account is the live Account with its domain; owner, customer and opportunity filters
    use that account. Filters about a person (UTM, recency, identified, lead status, in CRM
    as contact/lead) mean "has at least one visitor who matches"."""
    return _companies(_Customers(tenant), filters, member, exclude_customers)


def _companies(
    customers: _Customers,
    filters: SegmentFilters,
    member: Membership | None,
    exclude_customers: bool,
) -> QuerySet[Company]:
    tenant = customers.tenant
    qs = Company.objects.for_tenant(tenant).order_by("name", "domain", "id")
    f = filters
    for term in f.q.split():
        qs = qs.filter(pk__in=_companies_matching(tenant, term).order_by().values("pk"))
    people = f.visitor_level()
    if not people.is_empty():
        matching = _visitors(customers, people, member, False).filter(company_id=OuterRef("pk"))
        qs = qs.filter(Exists(matching.order_by().values("pk")))
    account_filters = (
        f.owner_ids
        or f.customer
        or exclude_customers
        or f.stage_ids
        or f.has_open_opportunity is not None
        or f.in_crm in ("account", "none")
    )
    if not account_filters:
        return qs
    accounts = _live(Account, tenant).exclude(domain="")
    account = Subquery(
        accounts.filter(domain=OuterRef("domain")).order_by(*ACCOUNT_PREFERENCE).values("pk")[:1]
    )
    qs = qs.alias(_sm_account=account)

    def account_in(subset: QuerySet[Account]) -> Q:
        return Q(domain__in=subset.exclude(domain="").values("domain")) & Q(
            _sm_account__in=subset.values("pk")
        )

    def account_not_in(subset: QuerySet[Account]) -> Q:
        return (
            ~Q(domain__in=subset.exclude(domain="").values("domain"))
            | Q(_sm_account__isnull=True)
            | ~Q(_sm_account__in=subset.values("pk"))
        )

    if f.in_crm == "account":
        qs = qs.filter(_sm_account__isnull=False)
    elif f.in_crm == "none":
        qs = qs.filter(_sm_account__isnull=True)
    if f.owner_ids:
        explicit, mine = _owner_condition(tenant, f.owner_ids, member)
        qs = qs.filter(
            account_in(_live(Account, tenant).filter(_owner_q("owner_id", explicit, mine)))
        )
    if f.has_open_opportunity is True:
        qs = qs.filter(account_in(_open_opportunity_accounts(tenant, ())))
    elif f.has_open_opportunity is False:
        qs = qs.filter(account_not_in(_open_opportunity_accounts(tenant, ())))
    if f.stage_ids:
        qs = qs.filter(account_in(_open_opportunity_accounts(tenant, f.stage_ids)))
    if f.customer == "only":
        qs = qs.filter(account_in(customers.accounts))
    if f.customer == "exclude" or exclude_customers:
        qs = qs.filter(account_not_in(customers.accounts))
    return qs


def segment_visitors(
    *, tenant: Tenant, segment: Segment, member: Membership | None
) -> QuerySet[Visitor]:
    """The visitors in a saved segment. For a companies segment: the visitors of its
    companies. Saved filters that no longer parse match nobody."""
    return _segment_visitors(_Customers(tenant), segment, member)


def _segment_visitors(
    customers: _Customers, segment: Segment, member: Membership | None
) -> QuerySet[Visitor]:
    try:
        filters = SegmentFilters.from_dict(segment.filters)
    except ValidationError:
        return Visitor.objects.none()
    hide = segment.exclude_customers
    if segment.target == SegmentTarget.COMPANIES:
        companies = _companies(customers, filters, member, hide)
        return (
            Visitor.objects.for_tenant(customers.tenant)
            .filter(merged_into__isnull=True, company__in=companies.order_by().values("pk"))
            .select_related("company")
            .order_by("-last_seen_at", "-id")
        )
    return _visitors(customers, filters, member, hide)


def _segment_companies(
    customers: _Customers, segment: Segment, member: Membership | None
) -> QuerySet[Company]:
    try:
        filters = SegmentFilters.from_dict(segment.filters)
    except ValidationError:
        return Company.objects.none()
    hide = segment.exclude_customers
    if segment.target == SegmentTarget.VISITORS:
        visitors = _visitors(customers, filters, member, hide)
        return (
            Company.objects.for_tenant(customers.tenant)
            .filter(pk__in=visitors.order_by().values("company_id"))
            .order_by("name", "domain", "id")
        )
    return _companies(customers, filters, member, hide)


def visitors_of_accounts(*, tenant: Tenant, accounts: QuerySet[Account]) -> QuerySet[Visitor]:
    """The unmerged visitors whose account (as defined above) is one of `accounts`: who a
    customer rule would hide, before it is saved."""
    return (
        Visitor.objects.for_tenant(tenant)
        .filter(merged_into__isnull=True)
        .select_related("company")
        .filter(_account_in(accounts))
        .order_by("-last_seen_at", "-id")
    )


def segment_counts(
    *, tenant: Tenant, segments: list[Segment], member: Membership | None
) -> dict[Any, int]:
    """How many visitors (or companies, per the segment's target) each segment holds, all
    counted in one query."""
    if not segments:
        return {}
    counts: dict[str, Any] = {}
    customers = _Customers(tenant)
    for i, segment in enumerate(segments):
        if segment.target == SegmentTarget.COMPANIES:
            qs: QuerySet[Any] = _segment_companies(customers, segment, member)
        else:
            qs = _segment_visitors(customers, segment, member)
        counts[f"n{i}"] = Subquery(
            qs.order_by().values(n=Func(F("pk"), function="COUNT")), output_field=IntegerField()
        )
    row = Tenant.objects.filter(pk=tenant.pk).values(**counts).get()
    return {segment.pk: row[f"n{i}"] or 0 for i, segment in enumerate(segments)}
