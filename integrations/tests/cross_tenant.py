"""Objects of another tenant for each integrations URL that names one."""

from __future__ import annotations

from typing import Any

from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.testing import cross_tenant_case


@cross_tenant_case("settings_member_update", methods=("post",))
def member_of(tenant: Tenant) -> dict[str, Any]:
    return {"membership_id": MembershipFactory(tenant=tenant).pk}
