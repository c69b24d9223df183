"""Visitors and Companies pages: two keyset-paginated lists and their detail pages.

The detail paths are written into Salesforce (`/contact/details/<id>`, `/accounts/<id>`), so
they stay stable; a merged visitor's old link redirects to the visitor it was merged into.

The link to a record in Salesforce needs the org's instance URL, which belongs to
`integrations` (the connection). `visitors` must not import `integrations`, so these views
do not read it: `integrations.context_processors.salesforce` puts `salesforce_instance_url`
in every template's context, read lazily (only pages that show a record link query it).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from salesmonk.paging import InvalidCursor
from salesmonk.tenants.resolution import tenant_member_required
from visitors.browse import detail_selectors, selectors
from visitors.browse.detail_selectors import CHART_DAYS
from visitors.browse.filter_form import SegmentFilterForm


def _cursors(request: HttpRequest) -> dict[str, str]:
    return {
        "after": request.GET.get("after", "")[:200],
        "before": request.GET.get("before", "")[:200],
    }


def _query_without_cursor(request: HttpRequest) -> str:
    """The list's query string minus the cursors, to build page links on."""
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    return params.urlencode()


def _bad_link(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.update(page=None, error="This page link is not valid. Start again from the first page.")
    return render(request, template, context, status=400)


def _filter_form(request: HttpRequest) -> tuple[SegmentFilterForm, dict[str, Any]]:
    """The list's filter bar (saved segment, filters, search, "hide current customers") read
    from the query string; invalid values are shown on the form and ignored."""
    form = SegmentFilterForm(tenant=request.tenant, data=request.GET)
    context = {
        "filter_form": form,
        "filtered": form.is_filtered,
        "base_query": _query_without_cursor(request),
    }
    return form, context


@tenant_member_required
@require_GET
def visitor_list(request: HttpRequest) -> HttpResponse:
    form, context = _filter_form(request)
    context["nav_section"] = "visitors"
    visitors = form.visitors(member=request.membership)
    try:
        page = selectors.visitor_rows_page(visitors, tenant=request.tenant, **_cursors(request))
    except InvalidCursor:
        return _bad_link(request, "visitors/visitor_list.html", context)
    context["page"] = page
    return render(request, "visitors/visitor_list.html", context)


@tenant_member_required
@require_GET
def visitor_detail(request: HttpRequest, visitor_id: uuid.UUID) -> HttpResponse:
    visitor = detail_selectors.visitor_resolve(tenant=request.tenant, visitor_id=visitor_id)
    if visitor.pk != visitor_id:
        return redirect("visitor_detail", visitor_id=visitor.pk)
    detail = detail_selectors.visitor_detail(tenant=request.tenant, visitor=visitor)
    return render(
        request,
        "visitors/visitor_detail.html",
        {"nav_section": "visitors", "detail": detail, "visitor": visitor, "crm": detail.crm},
    )


@tenant_member_required
@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    form, context = _filter_form(request)
    context["nav_section"] = "companies"
    companies = selectors.companies_with_visits(
        tenant=request.tenant,
        among=form.companies(member=request.membership) if form.is_filtered else None,
    )
    try:
        page = selectors.company_rows_page(companies, tenant=request.tenant, **_cursors(request))
    except InvalidCursor:
        return _bad_link(request, "visitors/company_list.html", context)
    context["page"] = page
    return render(request, "visitors/company_list.html", context)


@tenant_member_required
@require_GET
def company_detail(request: HttpRequest, company_id: uuid.UUID) -> HttpResponse:
    company = detail_selectors.company_get(tenant=request.tenant, company_id=company_id)
    days = CHART_DAYS[-1] if request.GET.get("days") != str(CHART_DAYS[0]) else CHART_DAYS[0]
    detail = detail_selectors.company_detail(tenant=request.tenant, company=company, days=days)
    return render(
        request,
        "visitors/company_detail.html",
        {
            "nav_section": "companies",
            "detail": detail,
            "company": company,
            "account": detail.account,
            "chart_days": CHART_DAYS,
        },
    )
