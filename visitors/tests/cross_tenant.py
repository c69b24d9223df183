"""Objects of another tenant for each visitors URL that names one."""

from __future__ import annotations

from typing import Any

from salesmonk.tenants.models import Tenant
from salesmonk.tenants.testing import cross_tenant_case
from visitors.services.sites import site_create


@cross_tenant_case("settings_site_edit")
def site_of(tenant: Tenant) -> dict[str, Any]:
    site = site_create(
        tenant=tenant, acting_user=None, name="Theirs", allowed_domains=["t.example"]
    )
    return {"site_id": site.pk}


@cross_tenant_case("settings_site_active", methods=("post",))
def site_to_deactivate(tenant: Tenant) -> dict[str, Any]:
    return site_of(tenant)
