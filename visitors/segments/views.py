"""Segment pages (list, create, edit, delete) and Settings → Current customers."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.models import Account
from salesmonk.post_only import post_only
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.resolution import tenant_member_required
from salesmonk.tenants.selectors import get_for_tenant_or_404
from visitors.browse.filter_form import FilterFields, describe_filters, filter_labels
from visitors.models import Company, CustomerRule, Segment, SegmentTarget
from visitors.segments.filters import SegmentFilters
from visitors.segments.selectors import (
    customer_accounts_for_rule,
    segment_counts,
    visitors_of_accounts,
)
from visitors.segments.services import (
    customer_rule_set,
    segment_create,
    segment_delete,
    segment_update,
)

PREVIEW_SIZE = 20
# Service errors name engine fields; the form names them as the query string does.
_FORM_FIELD = {"owner_ids": "owner", "stage_ids": "stage", "lead_statuses": "lead_status"}


class SegmentForm(FilterFields):
    """A segment: its name, what it lists, its filters and the customer toggle."""

    name = forms.CharField(max_length=120, label="Name")
    target = forms.ChoiceField(
        choices=SegmentTarget.choices, widget=forms.RadioSelect, label="Lists"
    )
    exclude_customers = forms.BooleanField(required=False, label="Hide current customers")

    field_order = ["name", "target", "exclude_customers"]

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        self.fields["customer"].label = "Current customers (filter)"

    @classmethod
    def initial_for_segment(cls, segment: Segment) -> dict[str, Any]:
        try:
            filters = SegmentFilters.from_dict(segment.filters)
        except ValidationError:
            filters = SegmentFilters()
        return {
            "name": segment.name,
            "target": segment.target,
            "exclude_customers": segment.exclude_customers,
            **cls.initial_for(filters),
        }

    def filter_groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Fields grouped as the editor shows them."""
        return [
            ("Salesforce", [self[n] for n in ("owner", "in_crm", "lead_status")]),
            ("Opportunities", [self[n] for n in ("open_opportunity", "stage", "customer")]),
            ("Activity", [self[n] for n in ("seen", "identified", "q")]),
            ("Campaign", [self[n] for n in ("utm_source", "utm_medium", "utm_campaign")]),
        ]


def _segment_page(request: HttpRequest, form: SegmentForm, segment: Segment | None) -> HttpResponse:
    return render(
        request,
        "visitors/segments/form.html",
        {"form": form, "segment": segment, "nav_section": "segments"},
    )


def _save(request: HttpRequest, form: SegmentForm, segment: Segment | None) -> Segment | None:
    """Save through the service; its validation errors land on the form."""
    data = form.cleaned_data
    kwargs = {
        "tenant": request.tenant,  # type: ignore[attr-defined]
        "acting_user": request.user,
        "name": data["name"],
        "target": data["target"],
        "filters": form.filters_from_fields(),
        "exclude_customers": data["exclude_customers"],
    }
    try:
        if segment is None:
            return segment_create(**kwargs)
        return segment_update(segment=segment, **kwargs)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            name = _FORM_FIELD.get(field, field)
            form.add_error(name if name in form.fields else None, errors)
        return None


@tenant_member_required
def segment_list(request: HttpRequest) -> HttpResponse:
    """Every segment with a summary of its filters and how many it holds right now."""
    tenant = request.tenant  # type: ignore[attr-defined]
    segments = list(Segment.objects.for_tenant(tenant))
    parsed: list[SegmentFilters] = []
    for segment in segments:
        try:
            parsed.append(SegmentFilters.from_dict(segment.filters))
        except ValidationError:
            parsed.append(SegmentFilters())
    users, stages = filter_labels(tenant=tenant, filters=parsed)
    counts = segment_counts(tenant=tenant, segments=segments, member=request.membership)  # type: ignore[attr-defined]
    rows = []
    for segment, filters in zip(segments, parsed, strict=True):
        summary = describe_filters(filters, users=users, stages=stages)
        if segment.exclude_customers:
            summary.append("Hides current customers")
        rows.append({"segment": segment, "summary": summary, "count": counts[segment.pk]})
    return render(
        request,
        "visitors/segments/list.html",
        {"rows": rows, "nav_section": "segments"},
    )


@tenant_member_required
@require_http_methods(["GET", "POST"])
def segment_create_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    if request.method == "POST":
        form = SegmentForm(request.POST, tenant=tenant)
        if form.is_valid() and (segment := _save(request, form, None)) is not None:
            messages.success(request, f"Segment “{segment.name}” created.")
            return redirect("segment_list")
    else:
        form = SegmentForm(tenant=tenant, initial={"target": SegmentTarget.VISITORS})
    return _segment_page(request, form, None)


@tenant_member_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, segment_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    segment = get_for_tenant_or_404(Segment.objects.all(), tenant=tenant, pk=segment_id)
    if request.method == "POST":
        form = SegmentForm(request.POST, tenant=tenant)
        if form.is_valid() and _save(request, form, segment) is not None:
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect("segment_list")
    else:
        form = SegmentForm(tenant=tenant, initial=SegmentForm.initial_for_segment(segment))
    return _segment_page(request, form, segment)


@tenant_member_required
@post_only("segment_edit", keep=("segment_id",))
def segment_delete_view(request: HttpRequest, segment_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    segment = get_for_tenant_or_404(Segment.objects.all(), tenant=tenant, pk=segment_id)
    name = segment.name
    segment_delete(tenant=tenant, acting_user=request.user, segment=segment)  # type: ignore[arg-type]
    messages.success(request, f"Segment “{name}” deleted.")
    return redirect("segment_list")


# --- Settings → Current customers ---------------------------------------------------------


class CustomerRuleForm(forms.Form):
    account_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Accounts of these types are customers",
    )
    won_opportunity = forms.BooleanField(
        required=False, label="Accounts with a won opportunity are customers"
    )

    def __init__(self, *args: Any, tenant: Tenant, saved: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = (
            Account.objects.for_tenant(tenant)
            .filter(remote_was_deleted=False)
            .exclude(type="")
            .values_list("type", flat=True)
            .distinct()
            .order_by("type")
        )
        # Keep saved types selectable even when no account has them any more.
        values = sorted(set(types) | set(saved))
        self.fields["account_types"].choices = [(t, t) for t in values]  # type: ignore[attr-defined]


def _preview(tenant: Tenant, *, account_types: list[str], won_opportunity: bool) -> dict[str, Any]:
    """Who a rule marks as customers: accounts, companies, and the visitors it hides."""
    accounts: QuerySet[Account] = customer_accounts_for_rule(
        tenant=tenant, account_types=account_types, won_opportunity=won_opportunity
    )
    domains = accounts.exclude(domain="").values("domain")
    companies = Company.objects.for_tenant(tenant).filter(domain__in=domains)
    visitors = visitors_of_accounts(tenant=tenant, accounts=accounts)
    return {
        "account_count": accounts.aggregate(n=Count("pk"))["n"],
        "accounts": list(accounts.order_by("name", "remote_id")[:PREVIEW_SIZE]),
        "company_count": companies.count(),
        "visitor_count": visitors.count(),
        "visitors": list(visitors[:PREVIEW_SIZE]),
        "size": PREVIEW_SIZE,
    }


@tenant_member_required
@require_http_methods(["GET", "POST"])
def settings_customers(request: HttpRequest) -> HttpResponse:
    """The current-customer rule. "Preview" shows who a rule would mark without saving;
    owners and admins save it."""
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    rule = CustomerRule.objects.filter(tenant=tenant).first()
    saved_types = list(rule.account_types) if rule else []
    saved_won = rule.won_opportunity if rule else True
    previewing = False
    if request.method == "POST":
        form = CustomerRuleForm(request.POST, tenant=tenant, saved=saved_types)
        if form.is_valid():
            types = form.cleaned_data["account_types"]
            won = form.cleaned_data["won_opportunity"]
            if "preview" not in request.POST:
                if not membership.can_manage:
                    raise PermissionDenied("Only owners and admins change the customer rule.")
                customer_rule_set(
                    tenant=tenant,
                    acting_user=request.user,  # type: ignore[arg-type]
                    account_types=types,
                    won_opportunity=won,
                )
                messages.success(request, "Customer rule saved: lists use it now.")
                return redirect("settings_customers")
            previewing = True
            preview = _preview(tenant, account_types=types, won_opportunity=won)
        else:
            preview = None
    else:
        form = CustomerRuleForm(
            tenant=tenant,
            saved=saved_types,
            initial={"account_types": saved_types, "won_opportunity": saved_won},
        )
        preview = _preview(tenant, account_types=saved_types, won_opportunity=saved_won)
    return render(
        request,
        "visitors/segments/customers.html",
        {
            "form": form,
            "preview": preview,
            "previewing": previewing,
            "rule": rule,
            "nav_section": "settings",
        },
    )
