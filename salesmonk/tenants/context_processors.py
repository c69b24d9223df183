from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from salesmonk.tenants.resolution import resolve_membership


def current_tenant(request: HttpRequest) -> dict[str, Any]:
    membership = resolve_membership(request)
    return {
        "current_membership": membership,
        "current_tenant": membership.tenant if membership else None,
    }
