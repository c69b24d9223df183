"""Objects of another tenant for each visitors URL that names one."""

from __future__ import annotations

from typing import Any

from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import Role, Tenant
from salesmonk.tenants.testing import cross_tenant_case
from visitors.alerts import services as alert_services
from visitors.models import AlertKind, Segment
from visitors.tests.browse_factories import CompanyFactory, VisitorFactory
from visitors.tracking.services import site_create


@cross_tenant_case("settings_site_edit")
def site_of(tenant: Tenant) -> dict[str, Any]:
    site = site_create(
        tenant=tenant, acting_user=None, name="Theirs", allowed_domains=["t.example"]
    )
    return {"site_id": site.pk}


@cross_tenant_case("settings_site_active", methods=("post",))
def site_to_deactivate(tenant: Tenant) -> dict[str, Any]:
    return site_of(tenant)


# --- Slack alerts ----------------------------------------------------------------------------


def _their_webhook(tenant: Tenant) -> Any:
    admin = MembershipFactory(tenant=tenant, role=Role.OWNER)
    return admin.user, alert_services.webhook_create(
        tenant=tenant,
        acting_user=admin.user,
        name="#their-channel",
        url="https://hooks.slack.com/services/T0THEIRS/B0THEIRS/secret",
    )


@cross_tenant_case("alert_webhook_test", methods=("post",))
@cross_tenant_case("alert_webhook_active", methods=("post",))
@cross_tenant_case("alert_webhook_delete", methods=("post",))
def alert_webhook_of(tenant: Tenant) -> dict[str, Any]:
    return {"webhook_id": _their_webhook(tenant)[1].pk}


@cross_tenant_case("alert_rule_edit", methods=("get", "post"))
@cross_tenant_case("alert_rule_delete", methods=("post",))
def alert_rule_of(tenant: Tenant) -> dict[str, Any]:
    user, webhook = _their_webhook(tenant)
    rule = alert_services.alert_rule_create(
        tenant=tenant,
        acting_user=user,
        name="Their alert",
        kind=AlertKind.OWNED_ACCOUNT,
        webhook=webhook,
    )
    return {"rule_id": rule.pk}


# --- end of Slack alerts ---------------------------------------------------------------------


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
