"""Reads of visitor data: the site behind a key, and who a visitor is in Salesforce."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import Col

from crm.models import Account, Contact, Lead, Opportunity, OpportunityStatus
from crm.models import User as CrmUser
from crm.selectors import PersonMatch, accounts_for_domains, people_for_emails, people_for_phones
from salesmonk.tenants.models import Tenant
from visitors.models import Site, Visitor


def site_for_key(key: str) -> Site | None:
    """The active site with this public key, with its tenant and write policy in the same
    query (both are needed on every ingest request). Read fresh on every request (a site
    deactivated or a policy switched applies at once, in every process), with one
    hand-written query: the ORM's query building cost more CPU than the query itself."""
    if not key or len(key) > 40:
        return None
    if connection.vendor not in _SITE_QUERIES:
        _SITE_QUERIES[connection.vendor] = _SiteQuery()
    return _SITE_QUERIES[connection.vendor].fetch(key)


class _SiteQuery:
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
            f"WHERE {site_t}.key = %s AND {site_t}.is_active LIMIT 1"
        )
        self.policy_rel = policy_rel

    def fetch(self, key: str) -> Site | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key])
            row = cursor.fetchone()
        if row is None:
            return None
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


_SITE_QUERIES: dict[str, _SiteQuery] = {}


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
    the owner to notify, and the account's open opportunities."""

    person: PersonMatch | None
    account: Account | None
    owner: CrmUser | None
    open_opportunities: list[Opportunity] = field(default_factory=list)

    @property
    def contact(self) -> Contact | None:
        return self.person.contact if self.person else None

    @property
    def lead(self) -> Lead | None:
        return self.person.lead if self.person else None


def visitors_in_crm(
    *, tenant: Tenant, visitors: Iterable[Visitor]
) -> dict[uuid.UUID, VisitorInCrm]:
    """`VisitorInCrm` for many visitors in a fixed number of queries (pages, notifications
    and the write sync all ask this for lists): people by email in two, by phone in two (only
    for visitors with a phone and no email match), accounts by company domain in one, open
    opportunities in one."""
    visitors = list(visitors)
    by_email = people_for_emails(tenant=tenant, emails=[v.email for v in visitors if v.email])
    by_phone = people_for_phones(
        tenant=tenant,
        phones=[v.phone for v in visitors if v.phone and not (v.email and v.email in by_email)],
    )
    people: dict[uuid.UUID, PersonMatch | None] = {}
    for v in visitors:
        match = by_email.get(v.email) if v.email else None
        if match is None and v.phone:
            match = by_phone.get(v.phone)
        people[v.pk] = match
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
    opportunities: dict[uuid.UUID, list[Opportunity]] = {pk: [] for pk in account_ids}
    for opp in (
        Opportunity.objects.for_tenant(tenant)
        .filter(account_id__in=account_ids, remote_was_deleted=False, status=OpportunityStatus.OPEN)
        .select_related("stage", "owner")
        .order_by("close_date", "name", "remote_id")
    ):
        opportunities[opp.account_id].append(opp)

    owner_ids = {a.owner_id for a in accounts.values() if a is not None and a.owner_id}
    account_owners = {u.pk: u for u in CrmUser.objects.for_tenant(tenant).filter(pk__in=owner_ids)}
    result = {}
    for v in visitors:
        person, account = people[v.pk], accounts[v.pk]
        owner = person.record.owner if person is not None else None
        if owner is None and account is not None and account.owner_id:
            owner = account_owners.get(account.owner_id)
        result[v.pk] = VisitorInCrm(
            person=person,
            account=account,
            owner=owner,
            open_opportunities=opportunities.get(account.pk, []) if account else [],
        )
    return result
