"""Settings pages: Salesforce (connect, status, sync now, disconnect) and Members (who each
member is in Salesforce and in Slack). Everyone in the workspace reads them; owners and
admins change them. Thin: reads come from selectors, changes from services."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from crm import member_links
from integrations import oauth_web, selectors
from integrations.forms import ConnectForm, DisconnectForm, MemberSettingsForm, member_initial
from integrations.services import ConnectError, connection_disconnect
from integrations.sync_now import SyncNotPossible, read_sync_request
from salesmonk.post_only import post_only
from salesmonk.tenants.models import Membership
from salesmonk.tenants.resolution import require_manager, tenant_member_required
from salesmonk.tenants.selectors import get_for_tenant_or_404


def _salesforce_page(
    request: HttpRequest, *, connect_form: ConnectForm | None = None, status: int = 200
) -> HttpResponse:
    page = selectors.salesforce_page(tenant=request.tenant)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "nav_section": "settings",
        "settings_tab": "salesforce",
        "page": page,
        "connect_form": connect_form or ConnectForm(),
        "disconnect_form": DisconnectForm(),
    }
    return render(request, "integrations/salesforce.html", context, status=status)


@tenant_member_required
@require_GET
def settings_salesforce(request: HttpRequest) -> HttpResponse:
    return _salesforce_page(request)


@tenant_member_required
@post_only("settings_salesforce")
def settings_salesforce_connect(request: HttpRequest) -> HttpResponse:
    """Start the OAuth web-server flow: send the browser to Salesforce's login page."""
    require_manager(request, to="change settings")
    form = ConnectForm(request.POST)
    if not form.is_valid():
        return _salesforce_page(request, connect_form=form, status=400)
    url = oauth_web.flow_start(
        session=request.session,
        tenant=request.tenant,  # type: ignore[attr-defined]
        environment=form.cleaned_data["environment"],
    )
    return redirect(url)


@tenant_member_required
@require_GET
def settings_salesforce_callback(request: HttpRequest) -> HttpResponse:
    """Where Salesforce sends the browser back, with a code or an error, and our state."""
    require_manager(request, to="change settings")
    try:
        login_url = oauth_web.flow_state_take(
            session=request.session,
            tenant=request.tenant,  # type: ignore[attr-defined]
            state=request.GET.get("state", ""),
        )
    except oauth_web.FlowStateError as exc:
        return _callback_refused(request, str(exc))
    error = request.GET.get("error", "")
    if error == "access_denied":
        messages.warning(
            request, "Access was not allowed in Salesforce, so SalesMonk is not connected."
        )
        return redirect("settings_salesforce")
    if error:
        detail = request.GET.get("error_description") or error
        messages.error(request, f"Salesforce did not connect SalesMonk: {detail}.")
        return redirect("settings_salesforce")
    code = request.GET.get("code", "")
    if not code:
        return _callback_refused(request, "Salesforce did not send an authorization code.")
    try:
        conn = oauth_web.flow_finish(
            tenant=request.tenant,  # type: ignore[attr-defined]
            acting_user=request.user,  # type: ignore[arg-type]
            login_url=login_url,
            code=code,
        )
    except ConnectError as exc:
        messages.error(request, str(exc))
        return redirect("settings_salesforce")
    kind = "sandbox" if conn.is_sandbox else "production"
    messages.success(
        request,
        f"Connected to your Salesforce {kind} org as {conn.installer_username}. "
        "The first sync has been scheduled.",
    )
    return redirect("settings_salesforce")


def _callback_refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(
        request,
        "integrations/salesforce_callback_error.html",
        {"nav_section": "settings", "settings_tab": "salesforce", "reason": reason},
        status=400,
    )


@tenant_member_required
@post_only("settings_salesforce")
def settings_salesforce_disconnect(request: HttpRequest) -> HttpResponse:
    require_manager(request, to="change settings")
    if selectors.connection_for(tenant=request.tenant) is None:  # type: ignore[attr-defined]
        messages.info(request, "Salesforce is not connected.")
        return redirect("settings_salesforce")
    form = DisconnectForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors["confirm"]))
        return redirect("settings_salesforce")
    connection_disconnect(
        tenant=request.tenant,  # type: ignore[attr-defined]
        acting_user=request.user,  # type: ignore[arg-type]
    )
    messages.success(
        request,
        "Disconnected from Salesforce: syncing has stopped. Mirrored records stay until you "
        "reconnect.",
    )
    return redirect("settings_salesforce")


@tenant_member_required
@post_only("settings_salesforce")
def settings_salesforce_sync(request: HttpRequest) -> HttpResponse:
    require_manager(request, to="change settings")
    try:
        read_sync_request(
            tenant=request.tenant,  # type: ignore[attr-defined]
            acting_user=request.user,  # type: ignore[arg-type]
        )
    except SyncNotPossible as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Sync queued: new and changed records arrive in a minute.")
    return redirect("settings_salesforce")


# --- Members ------------------------------------------------------------------------------


def _members_page(
    request: HttpRequest,
    *,
    bound: tuple[uuid.UUID, MemberSettingsForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    users = member_links.mapping_user_choices(tenant=tenant)
    rows = []
    for row in member_links.member_mapping_list(tenant=tenant):
        if bound and bound[0] == row.membership.pk:
            form = bound[1]
        else:
            form = MemberSettingsForm(
                crm_users=users,
                initial=member_initial(
                    crm_user=row.crm_user,
                    is_manual=row.is_manual,
                    slack_user_id=row.membership.slack_user_id,
                ),
                prefix=f"m-{row.membership.pk}",
                html_form_id=f"member-form-{row.membership.pk}",
            )
        rows.append({"mapping": row, "form": form})
    context = {
        "nav_section": "settings",
        "settings_tab": "members",
        "rows": rows,
        "has_crm_users": bool(users),
    }
    return render(request, "integrations/members.html", context, status=status)


@tenant_member_required
@require_GET
def settings_members(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    if member_links.members_unmatched_exist(tenant=tenant):
        member_links.member_links_auto_match(tenant=tenant)
    return _members_page(request)


@tenant_member_required
@post_only("settings_members")
def settings_member_update(request: HttpRequest, membership_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = get_for_tenant_or_404(
        Membership.objects.select_related("user"), tenant=tenant, pk=membership_id
    )
    require_manager(request, to="change settings")
    form = MemberSettingsForm(
        request.POST,
        crm_users=member_links.mapping_user_choices(tenant=tenant),
        prefix=f"m-{membership.pk}",
        html_form_id=f"member-form-{membership.pk}",
    )
    if form.is_valid():
        try:
            member_links.member_settings_update(
                tenant=tenant,
                acting_user=request.user,  # type: ignore[arg-type]
                membership=membership,
                automatic=form.is_automatic(),
                crm_user=form.chosen_user(),
                slack_user_id=form.cleaned_data["slack_user_id"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {membership.user.email}.")
            return redirect("settings_members")
    return _members_page(request, bound=(membership.pk, form), status=400)
