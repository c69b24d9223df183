"""Workspace pages: the dashboard, the team and the workspace switcher."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from salesmonk.post_only import post_only
from salesmonk.tenants import selectors, services
from salesmonk.tenants.forms import RoleForm
from salesmonk.tenants.resolution import remember_tenant, tenant_member_required


@tenant_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/dashboard.html")


@tenant_member_required
def team(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tenants/team.html",
        {
            "memberships": selectors.membership_list(tenant=request.tenant),
            "audit_events": selectors.audit_event_list(tenant=request.tenant, limit=20),
        },
    )


@tenant_member_required
@require_http_methods(["GET", "POST"])
def member_detail(request: HttpRequest, membership_id: uuid.UUID) -> HttpResponse:
    membership = selectors.membership_get(tenant=request.tenant, membership_id=membership_id)
    form = RoleForm(request.POST or None, initial={"role": membership.role})
    if request.method == "POST":
        if not request.membership.can_manage:
            raise PermissionDenied("Only owners and admins can change roles.")
        if form.is_valid():
            try:
                services.membership_set_role(
                    tenant=request.tenant,
                    acting_user=request.user,
                    membership=membership,
                    role=form.cleaned_data["role"],
                )
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, f"{membership.user.email} is now {membership.role}.")
                return redirect("team")
    return render(request, "tenants/member_detail.html", {"member": membership, "form": form})


@login_required
@post_only("dashboard")
def switch_tenant(request: HttpRequest) -> HttpResponse:
    membership = (
        selectors.memberships_for_user(user=request.user)
        .filter(tenant_id=request.POST.get("tenant_id") or None)
        .first()
    )
    if membership is None:
        messages.error(request, "You are not a member of that workspace.")
    else:
        remember_tenant(request, membership)
        messages.success(request, f"Switched to {membership.tenant.name}.")
    return redirect("dashboard")
