"""Template context owned by the Salesforce integration.

Customer pages of other apps (a visitor's Contact or Lead, a company's Account) link to the
record in the tenant's org, `<instance URL>/<record id>`. Those apps must not import
`integrations`, so the instance URL reaches their templates from here, read lazily: only a
page that renders `salesforce_instance_url` queries the connection, once.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from integrations.models import SalesforceConnection
from salesmonk.tenants.resolution import resolve_membership


def salesforce(request: HttpRequest) -> dict[str, Any]:
    def instance_url() -> str:
        membership = resolve_membership(request)
        if membership is None:
            return ""
        url = (
            SalesforceConnection.objects.filter(tenant_id=membership.tenant_id)
            .values_list("instance_url", flat=True)
            .first()
        )
        return (url or "").rstrip("/")

    return {"salesforce_instance_url": SimpleLazyObject(instance_url)}
