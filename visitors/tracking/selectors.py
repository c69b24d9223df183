"""Reads of tracking data: the site behind a key, the sites of Settings → Sites with the
snippet to paste, and who a visitor is in Salesforce."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import Col
from django.urls import reverse

from crm.models import Account, Contact, CrmUser, Lead, Opportunity, OpportunityStatus
from crm.owners import FallbackOwners, MirrorOwner, OwnerRule, mirror_owner_resolve
from crm.selectors import (
    PersonMatch,
    accounts_for_domains,
    people_for_emails,
    people_for_phones,
)
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.selectors import get_for_tenant_or_404
from salesmonk.ttl_cache import TtlCache
from visitors.models import Site, Visitor


def site_for_key(key: str, *, recent: bool = False) -> Site | None:
    """The active site with this public key, with its tenant and write policy in the same
    query (both are needed on every ingest request), with one hand-written query: the
    ORM's query building cost more CPU than the query itself.

    Read fresh (a site deactivated or a policy switched applies at once, in every process)
    unless `recent`: then a site read in this process in the last `RECENT_SITE_SECONDS`
    will do. Only for a caller that checks the site again where it writes (the ingest
    group writer reads its group's sites fresh with `site_query`, in the round trip that
    locks its devices); an unknown key is never remembered."""
    if not key or len(key) > 40:
        return None
    if recent and (hit := _RECENT_SITES.get(key)) is not None:
        return hit
    site = sites_for_keys([key]).get(key)
    if site is not None and recent:
        _RECENT_SITES.set(key, site)
    return site


RECENT_SITE_SECONDS = 30.0
_RECENT_SITES_MAX = 10_000
_RECENT_SITES: TtlCache[str, Site] = TtlCache(
    seconds=RECENT_SITE_SECONDS, max_size=_RECENT_SITES_MAX
)


def sites_for_keys(keys: Collection[str]) -> dict[str, Site]:
    """The active sites with these keys, read fresh in one query, by key."""
    keys = [k for k in keys if k and len(k) <= 40]
    if not keys:
        return {}
    query = site_query()
    sql, params = query.statement(keys)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return query.sites(cursor.fetchall())


def site_query() -> SiteQuery:
    """`sites_for_keys` as a statement and a reader of its rows, for a caller that sends
    it in one round trip with its own statements."""
    if connection.vendor not in _SITE_QUERIES:
        _SITE_QUERIES[connection.vendor] = SiteQuery()
    return _SITE_QUERIES[connection.vendor]


class SiteQuery:
    """`Site.objects.select_related("tenant", "tenant__write_policy")`, compiled once:
    the columns of the three tables and the converters the ORM would apply to them."""

    def __init__(self) -> None:
        policy_rel = Tenant._meta.get_field("write_policy")
        self.models: list[tuple[type[Model], list[Field], list[tuple[Col, list]]]] = []
        columns = []
        for model in (Site, Tenant, policy_rel.related_model):
            fields = list(model._meta.concrete_fields)
            cols = [f.get_col(model._meta.db_table) for f in fields]
            converters = [
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
                for col in cols
            ]
            self.models.append((model, fields, converters))
            columns += [f"{col.alias}.{col.target.column}" for col in cols]
        site_t, tenant_t = Site._meta.db_table, Tenant._meta.db_table
        policy_t = policy_rel.related_model._meta.db_table
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {site_t} "
            f"JOIN {tenant_t} ON {tenant_t}.id = {site_t}.tenant_id "
            f"LEFT JOIN {policy_t} ON {policy_t}.{policy_rel.field.column} = {tenant_t}.id "
            f"WHERE {site_t}.is_active AND {site_t}.key IN "
        )
        self.policy_rel = policy_rel

    def statement(self, keys: Sequence[str]) -> tuple[str, list[Any]]:
        """The active sites among `keys` (non-empty)."""
        return self.sql + "(" + ", ".join(["%s"] * len(keys)) + ")", list(keys)

    def sites(self, rows: Iterable[Sequence[Any]]) -> dict[str, Site]:
        """The statement's rows as sites, with their tenant and write policy, by key."""
        sites = [self._site(row) for row in rows]
        return {site.key: site for site in sites}

    def _site(self, row: Sequence[Any]) -> Site:
        objs: list[Model | None] = []
        at = 0
        for model, fields, converters in self.models:
            values = list(row[at : at + len(fields)])
            at += len(fields)
            if model is not Site and model is not Tenant and values[0] is None:
                objs.append(None)  # no write policy
                continue
            for i, (col, funcs) in enumerate(converters):
                for convert in funcs:
                    values[i] = convert(values[i], col, connection)
            objs.append(model.from_db(connection.alias, [f.attname for f in fields], values))
        site, tenant, policy = objs
        Site._meta.get_field("tenant").set_cached_value(site, tenant)
        self.policy_rel.set_cached_value(tenant, policy)
        if policy is not None:
            self.policy_rel.field.set_cached_value(policy, tenant)
        return site  # type: ignore[return-value]


_SITE_QUERIES: dict[str, SiteQuery] = {}


def origin_allowed(site: Site, origin: str | None) -> bool:
    """Whether a browser `Origin` belongs to one of the site's hosts or their subdomains."""
    if not origin:
        return False
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == d or host.endswith("." + d) for d in site.allowed_domains)


def visitor_list(*, tenant: Tenant) -> QuerySet[Visitor]:
    return (
        Visitor.objects.for_tenant(tenant)
        .filter(merged_into__isnull=True)
        .select_related("company")
        .order_by("-last_seen_at")
    )


@dataclass(frozen=True)
class VisitorInCrm:
    """Who a visitor is in Salesforce: the person (contact first, then lead), their account,
    the owner to notify (of an existing record, by the owner chain `crm.owners`, with the
    rule that chose them), the account's open opportunities, and, for an identified
    visitor with no Contact or Lead, whom the Lead SalesMonk would create for them would
    be owned by (when asked for)."""

    person: PersonMatch | None
    account: Account | None
    owner: CrmUser | None
    owner_rule: OwnerRule | None = None
    open_opportunities: list[Opportunity] = field(default_factory=list)
    would_be_owner: MirrorOwner | None = None

    @property
    def contact(self) -> Contact | None:
        return self.person.contact if self.person else None

    @property
    def lead(self) -> Lead | None:
        return self.person.lead if self.person else None


def visitors_in_crm(
    *,
    tenant: Tenant,
    visitors: Iterable[Visitor],
    opportunities: bool = True,
    fallback: Callable[[], FallbackOwners] | None = None,
) -> dict[uuid.UUID, VisitorInCrm]:
    """`VisitorInCrm` for many visitors in a fixed number of queries (pages and
    notifications ask this for lists): people by email in two, by phone in two more (only
    for visitors with a phone and no email match: `person_match`'s order, contact then
    lead, email before phone), accounts by company domain in one, open opportunities in
    one (unless `opportunities` is false: callers that never show them), account owners in
    one. The CRM rows are read without their raw records. With `fallback` (the tenant's
    default lead owner and installer, called at most once and only when an identified
    visitor has no Contact or Lead), also the owner their Lead would get."""
    visitors = list(visitors)
    by_email = people_for_emails(tenant=tenant, emails=[v.email for v in visitors if v.email])
    people: dict[uuid.UUID, PersonMatch | None] = {
        v.pk: by_email.get(v.email) if v.email else None for v in visitors
    }
    phones = [v.phone for v in visitors if v.phone and people[v.pk] is None]
    if phones:
        by_phone = people_for_phones(tenant=tenant, phones=phones)
        for v in visitors:
            if people[v.pk] is None and v.phone:
                people[v.pk] = by_phone.get(v.phone)
    domains = [v.company.domain for v in visitors if v.company_id and v.company]
    by_domain = accounts_for_domains(tenant=tenant, domains=domains)

    accounts: dict[uuid.UUID, Account | None] = {}
    for v in visitors:
        person = people[v.pk]
        account = None
        if person is not None and person.contact is not None:
            account = person.contact.account
        if account is None and v.company_id and v.company:
            account = by_domain.get(v.company.domain)
        accounts[v.pk] = account
    account_ids = {a.pk for a in accounts.values() if a is not None}
    open_deals: dict[uuid.UUID, list[Opportunity]] = {pk: [] for pk in account_ids}
    if opportunities:
        for opp in (
            Opportunity.objects.for_tenant(tenant)
            .filter(
                account_id__in=account_ids, remote_was_deleted=False, status=OpportunityStatus.OPEN
            )
            .select_related("stage", "owner")
            .defer("remote_data", "description", "stage__remote_data", "owner__remote_data")
            .order_by("close_date", "name", "remote_id")
        ):
            open_deals[opp.account_id].append(opp)

    owner_ids = {a.owner_id for a in accounts.values() if a is not None and a.owner_id}
    account_owners = {
        u.pk: u
        for u in CrmUser.objects.for_tenant(tenant).filter(pk__in=owner_ids).defer("remote_data")
    }
    result = {}
    fallback_users: FallbackOwners | None = None
    for v in visitors:
        person, account = people[v.pk], accounts[v.pk]
        account_owner = account_owners.get(account.owner_id) if account is not None else None
        owner = mirror_owner_resolve(
            account_owner=account_owner,
            contact_owner=person.contact.owner if person and person.contact else None,
            lead_owner=person.lead.owner if person and person.lead else None,
        )
        would_be = None
        if fallback is not None and person is None and owner is None and v.identified_at:
            if fallback_users is None:
                fallback_users = fallback()
            would_be = mirror_owner_resolve(fallback=fallback_users)
        result[v.pk] = VisitorInCrm(
            person=person,
            account=account,
            owner=owner.user if owner else None,
            owner_rule=owner.rule if owner else None,
            open_opportunities=open_deals.get(account.pk, []) if account else [],
            would_be_owner=would_be,
        )
    return result


# --- Settings → Sites ---------------------------------------------------------------------

# The first line queues calls made before the script loads; the second loads it with the
# site's public key (see `visitors/static/visitors/snippet.js`).
SNIPPET_QUEUE_LINE = (
    "<script>window.salesmonk=window.salesmonk||function(){"
    "(salesmonk.q=salesmonk.q||[]).push(arguments)};</script>"
)


def site_list(*, tenant: Tenant) -> QuerySet[Site]:
    """Active sites first, then by name."""
    return Site.objects.for_tenant(tenant).order_by("-is_active", "name", "created_at")


def site_get(*, tenant: Tenant, site_id: uuid.UUID) -> Site:
    return get_for_tenant_or_404(Site.objects.all(), tenant=tenant, pk=site_id)


def script_url() -> str:
    """The tracking script's public address: the ingest endpoint is derived from it."""
    return settings.SALESMONK_BASE_URL + reverse("visitors_snippet")


def site_snippet(site: Site) -> str:
    """The exact two lines a customer pastes before `</head>` on every page of the site."""
    return (
        f'{SNIPPET_QUEUE_LINE}\n<script async src="{script_url()}" data-site="{site.key}"></script>'
    )
