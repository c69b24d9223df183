"""Resolves the current tenant of a request, in one place.

A logged-in user works in one tenant at a time: the one stored in their session (chosen with
the workspace switcher), else their first membership. Views get it through the
`tenant_member_required` decorator, templates through the context processor; both call
`resolve_membership`, which caches its answer on the request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from salesmonk.tenants.models import Membership, Tenant, User
from salesmonk.tenants.selectors import membership_for_user

SESSION_KEY = "salesmonk_tenant_id"
_CACHE_ATTR = "_salesmonk_membership"
P = ParamSpec("P")


class TenantRequest(HttpRequest):
    """The request a `tenant_member_required` view gets: a logged-in user acting in one
    workspace. Annotating views with it lets the type checker see `tenant` and
    `membership` instead of each use being excused."""

    user: User
    tenant: Tenant
    membership: Membership


def resolve_membership(request: HttpRequest) -> Membership | None:
    """The membership the request acts through, or None (anonymous, or no workspace)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(request, _CACHE_ATTR):
        membership = membership_for_user(user=user, tenant_id=request.session.get(SESSION_KEY))
        setattr(request, _CACHE_ATTR, membership)
    return getattr(request, _CACHE_ATTR)


def remember_tenant(request: HttpRequest, membership: Membership) -> None:
    """Make `membership`'s tenant the current one for the rest of the session."""
    request.session[SESSION_KEY] = str(membership.tenant_id)
    setattr(request, _CACHE_ATTR, membership)


def tenant_member_required(
    view: Callable[Concatenate[TenantRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Views for customers: login required, then `request.tenant` and `request.membership`
    are set. A logged-in user without a workspace (e.g. support staff) gets a clear page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = resolve_membership(request)
        if membership is None:
            return render(request, "tenants/no_workspace.html", status=403)
        tenant_request: TenantRequest = request  # type: ignore[assignment]  # set just below
        tenant_request.membership = membership
        tenant_request.tenant = membership.tenant
        return view(tenant_request, *args, **kwargs)

    return wrapper


def require_manager(request: TenantRequest, *, to: str) -> None:
    """Refuse a change by a member who is not an owner or admin, before a form is read
    (services check again): "Only owners and admins can <to>."."""
    if not request.membership.can_manage:
        raise PermissionDenied(f"Only owners and admins can {to}.")
