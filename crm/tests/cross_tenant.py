"""Objects of another tenant for each crm URL that names one."""

from __future__ import annotations

from typing import Any

from crm.api.services import api_key_create
from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import Role, Tenant
from salesmonk.tenants.testing import cross_tenant_case


@cross_tenant_case("api_key_revoke", methods=("post",))
def api_key_of(tenant: Tenant) -> dict[str, Any]:
    admin = MembershipFactory(tenant=tenant, role=Role.OWNER)
    issued = api_key_create(tenant=tenant, acting_user=admin.user, name="Their key")
    return {"key_id": issued.api_key.pk}
