"""Objects of another tenant for each visitors URL that names one."""

from __future__ import annotations

from typing import Any

from salesmonk.tenants.models import Tenant
from salesmonk.tenants.testing import cross_tenant_case
from visitors.models import Segment


@cross_tenant_case("segment_edit")
def segment_of(tenant: Tenant) -> dict[str, Any]:
    segment = Segment.objects.create(tenant=tenant, name="Their segment", filters={"q": "x"})
    return {"segment_id": segment.pk}


@cross_tenant_case("segment_delete", methods=("post",))
def deletable_segment_of(tenant: Tenant) -> dict[str, Any]:
    segment = Segment.objects.create(tenant=tenant, name="Their other segment")
    return {"segment_id": segment.pk}
