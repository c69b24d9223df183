"""Settings → Sites: each website's public key, the two lines to paste, and the hosts allowed
to send its events. Everyone in the workspace reads; owners and admins add, edit and
deactivate sites."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from salesmonk.post_only import post_only
from salesmonk.tenants.resolution import require_manager, tenant_member_required
from visitors.tracking import selectors as site_selectors
from visitors.tracking.services import site_create, site_update


class SiteForm(forms.Form):
    name = forms.CharField(
        max_length=200, required=False, help_text="Defaults to the first domain."
    )
    allowed_domains = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "acme.com\nshop.acme.io"}),
        help_text="One host per line (or comma-separated); subdomains are included.",
    )

    def domains(self) -> list[str]:
        return [d for d in re.split(r"[\s,]+", self.cleaned_data["allowed_domains"]) if d]


def _domains_error(form: SiteForm, exc: ValidationError) -> None:
    form.add_error("allowed_domains", exc.messages)


@tenant_member_required
@require_http_methods(["GET", "POST"])
def site_settings(request: HttpRequest) -> HttpResponse:
    """The list with each site's snippet, and the form to add one."""
    tenant = request.tenant  # type: ignore[attr-defined]
    form = SiteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_manager(request, to="change sites")
        if form.is_valid():
            try:
                site = site_create(
                    tenant=tenant,
                    acting_user=request.user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    allowed_domains=form.domains(),
                )
            except ValidationError as exc:
                _domains_error(form, exc)
            else:
                messages.success(request, f"Added {site.name}: paste its snippet on every page.")
                return redirect("settings_sites")
        status = 400
    sites = [
        {"site": s, "snippet": site_selectors.site_snippet(s)}
        for s in site_selectors.site_list(tenant=tenant)
    ]
    context: dict[str, Any] = {
        "nav_section": "settings",
        "settings_tab": "sites",
        "sites": sites,
        "form": form,
    }
    return render(request, "settings/sites.html", context, status=status)


@tenant_member_required
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, site_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    site = site_selectors.site_get(tenant=tenant, site_id=site_id)
    initial = {"name": site.name, "allowed_domains": "\n".join(site.allowed_domains)}
    form = SiteForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        require_manager(request, to="change sites")
        if form.is_valid():
            try:
                site_update(
                    tenant=tenant,
                    acting_user=request.user,  # type: ignore[arg-type]
                    site=site,
                    name=form.cleaned_data["name"],
                    allowed_domains=form.domains(),
                )
            except ValidationError as exc:
                _domains_error(form, exc)
            else:
                messages.success(request, f"Saved {site.name}.")
                return redirect("settings_sites")
        status = 400
    context: dict[str, Any] = {
        "nav_section": "settings",
        "settings_tab": "sites",
        "site": site,
        "snippet": site_selectors.site_snippet(site),
        "form": form,
    }
    return render(request, "settings/site_edit.html", context, status=status)


@tenant_member_required
@post_only("settings_sites")
def site_set_active(request: HttpRequest, site_id: uuid.UUID) -> HttpResponse:
    """Deactivate (events with its key are refused from then on) or reactivate a site."""
    tenant = request.tenant  # type: ignore[attr-defined]
    site = site_selectors.site_get(tenant=tenant, site_id=site_id)
    require_manager(request, to="change sites")
    active = request.POST.get("active") == "1"
    site_update(
        tenant=tenant,
        acting_user=request.user,  # type: ignore[arg-type]
        site=site,
        is_active=active,
    )
    if active:
        messages.success(request, f"{site.name} is active again.")
    else:
        messages.success(request, f"Deactivated {site.name}: its events are no longer accepted.")
    return redirect("settings_sites")
