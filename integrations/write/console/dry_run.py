"""A dry run as support reads it: how many of each write, then per write a page of records
— who it is for, how Salesforce's record was found, who will own it and why, and each field
before → after — built from `WriteRun.plan` (what `Op.describe` stored)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString

from integrations.write.console.names import Names, names_load, person_and_company, truncated
from integrations.write.engine import ORDER
from integrations.write.models import WriteRun
from visitors.models import Company, Visitor

PAGE_SIZE = 25
MATCH_LABELS = {
    "email": "email",
    "phone": "phone",
    "domain": "Website domain",
    "SalesMonk_Domain__c": "SalesMonk_Domain__c",
}
PEOPLE_AND_ACCOUNTS = {"Account", "Contact", "Lead"}


@dataclass
class Change:
    field: str
    before: SafeString
    after: SafeString


@dataclass
class Row:
    record: SafeString  # the visitor and company it is written for
    salesforce: SafeString  # the record in Salesforce, or what a create will be called
    match: str
    owner: SafeString
    changes: list[Change] = field(default_factory=list)


@dataclass
class Group:
    key: str  # "Lead.create"
    label: str  # "Lead · create"
    count: int
    param: str  # the query parameter holding this group's page number
    page: Page
    rows: list[Row] = field(default_factory=list)
    previous_query: str = ""  # the query string of the neighbouring pages, others kept
    next_query: str = ""


def dry_run_groups(*, run: WriteRun, params: QueryDict) -> list[Group]:
    """The run's planned writes grouped by object and operation, in the order the drain
    sends them, each group paginated by its own `?<object>_<operation>=N` parameter."""
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in run.plan or []:
        by_key[f"{item.get('object', '?')}.{item.get('operation', '?')}"].append(item)
    order = [f"{obj}.{op}" for obj, op in ORDER]
    keys = sorted(by_key, key=lambda k: (order.index(k) if k in order else len(order), k))
    groups = []
    for key in keys:
        param = key.replace(".", "_")
        page = Paginator(by_key[key], PAGE_SIZE).get_page(params.get(param))
        group = Group(key, key.replace(".", " · "), len(by_key[key]), param, page)
        if page.has_previous():
            group.previous_query = _query(params, param, page.previous_page_number())
        if page.has_next():
            group.next_query = _query(params, param, page.next_page_number())
        groups.append(group)
    _fill(run, groups)
    return groups


def _query(params: QueryDict, param: str, number: int) -> str:
    changed = params.copy()
    changed[param] = str(number)
    return changed.urlencode()


def _uuids(values: set[str]) -> list[uuid.UUID]:
    out = []
    for value in values:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue  # a plan stored before visitors were recorded
    return out


def _fill(run: WriteRun, groups: list[Group]) -> None:
    """The rows of every shown page, with names loaded in a few queries for all of them."""
    items = [item for g in groups for item in g.page.object_list]
    visitors = {
        str(v.pk): v
        for v in Visitor.objects.filter(
            tenant_id=run.tenant_id, pk__in=_uuids({i.get("visitor") or "" for i in items})
        ).select_related("company")
    }
    companies = {
        str(c.pk): c
        for c in Company.objects.filter(
            tenant_id=run.tenant_id, pk__in=_uuids({i.get("company") or "" for i in items})
        )
    }
    owners = {i.get("owner") or (i.get("after") or {}).get("OwnerId") or "" for i in items}
    names = names_load(
        records=[(run.tenant_id, i.get("object", ""), i.get("id", "")) for i in items],
        users=[(run.tenant_id, o) for o in owners if o],
    )
    for group in groups:
        group.rows = [_row(run, item, names, visitors, companies) for item in group.page]


def _row(
    run: WriteRun,
    item: dict[str, Any],
    names: Names,
    visitors: dict[str, Visitor],
    companies: dict[str, Company],
) -> Row:
    obj, after, before = item.get("object", ""), item.get("after") or {}, item.get("before") or {}
    visitor = visitors.get(item.get("visitor") or "")
    company = companies.get(item.get("company") or "")
    if obj == "Account":
        visitor = None  # an account is written for its company, whoever visited
    if item.get("id"):
        salesforce = names.salesforce_link(run.tenant_id, item["id"])
    else:
        new_name = after.get("Name") or " ".join(
            str(after[k]) for k in ("FirstName", "LastName") if after.get(k)
        )
        new_name = new_name or after.get("Subject") or after.get("Title") or ""
        salesforce = format_html('new: {}<br><span class="quiet">{}</span>', new_name, obj)
    if obj in PEOPLE_AND_ACCOUNTS:
        match = MATCH_LABELS.get(item.get("match") or "", "none → create")
    else:
        match = "on the person" if item.get("operation") == "create" else "already logged"
    owner_id = item.get("owner") or after.get("OwnerId") or ""
    owner = names.owner(run.tenant_id, owner_id, item.get("owner_rule") or "")
    if obj not in PEOPLE_AND_ACCOUNTS:
        owner = format_html("{}", "—")
    changes = [
        Change(name, _value(names, run, name, before.get(name)), _value(names, run, name, value))
        for name, value in after.items()
    ]
    return Row(person_and_company(visitor, company), salesforce, match, owner, changes)


def _value(names: Names, run: WriteRun, name: str, value: Any) -> SafeString:
    if value in (None, ""):
        return format_html('<span class="quiet">{}</span>', "—")
    if name == "OwnerId":
        return format_html("{}", names.user_name(run.tenant_id, str(value)) or value)
    return truncated(str(value), 80)
