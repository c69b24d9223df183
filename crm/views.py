"""Customer pages of the CRM app: the API keys of the unified CRM API."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.api import selectors, services
from crm.api.services import IssuedKey
from salesmonk.post_only import post_only
from salesmonk.tenants.resolution import tenant_member_required


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which system will use it, e.g. “Warehouse”.")


@tenant_member_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """List the keys; owners and admins create one here and see it this once."""
    form = ApiKeyForm(request.POST or None)
    issued: IssuedKey | None = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_key_create(
                tenant=request.tenant,  # type: ignore[attr-defined]
                acting_user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
            )
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            form = ApiKeyForm()
    response = render(
        request,
        "crm/api_keys.html",
        {
            "api_keys": selectors.api_key_list(tenant=request.tenant),  # type: ignore[attr-defined]
            "form": form,
            "issued": issued,
        },
    )
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the key is on this page and nowhere else
    return response


@tenant_member_required
@post_only("api_keys")
def api_key_revoke(request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
    api_key = selectors.api_key_get(tenant=request.tenant, key_id=key_id)  # type: ignore[attr-defined]
    revoked = services.api_key_revoke(
        tenant=request.tenant,  # type: ignore[attr-defined]
        acting_user=request.user,  # type: ignore[arg-type]
        api_key=api_key,
    )
    if revoked:
        messages.success(request, f"Revoked {api_key.name}: requests with it are refused now.")
    else:
        messages.info(request, f"{api_key.name} was already revoked.")
    return redirect("api_keys")
