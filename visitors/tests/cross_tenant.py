"""Objects of another tenant for each visitors URL that names one."""

from __future__ import annotations

from typing import Any

from salesmonk.tenants.models import Tenant
from salesmonk.tenants.testing import cross_tenant_case
from visitors.models import Segment
from visitors.tests.browse_factories import CompanyFactory, VisitorFactory


@cross_tenant_case("segment_edit")
def segment_of(tenant: Tenant) -> dict[str, Any]:
    segment = Segment.objects.create(tenant=tenant, name="Their segment", filters={"q": "x"})
    return {"segment_id": segment.pk}


@cross_tenant_case("segment_delete", methods=("post",))
def deletable_segment_of(tenant: Tenant) -> dict[str, Any]:
    segment = Segment.objects.create(tenant=tenant, name="Their other segment")
    return {"segment_id": segment.pk}


# --- Visitors and Companies pages ----------------------------------------------------------


@cross_tenant_case("visitor_detail", methods=("get",))
def visitor_of(tenant: Tenant) -> dict[str, Any]:
    return {"visitor_id": VisitorFactory(tenant=tenant).pk}


@cross_tenant_case("company_detail", methods=("get",))
def company_of(tenant: Tenant) -> dict[str, Any]:
    company = CompanyFactory(tenant=tenant)
    VisitorFactory(tenant=tenant, company=company)
    return {"company_id": company.pk}


# --- end of Visitors and Companies pages ---------------------------------------------------
