"""The demo traffic command: real sessions through the ingest service, matched to the mirror,
created once, and only for the tenant asked for."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from crm.factories import AccountFactory, ContactFactory, LeadFactory
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import Company, Event, Session, Site, Visitor
from visitors.tracking.selectors import visitors_in_crm

pytestmark = pytest.mark.django_db


def _run(**options: object) -> str:
    out = io.StringIO()
    call_command("seed_demo_traffic", stdout=out, **options)
    return out.getvalue()


def test_traffic_is_recorded_once_and_matches_the_mirror(
    tenant: Tenant, outsider: Membership
) -> None:
    ContactFactory.create_batch(20, tenant=tenant)
    LeadFactory.create_batch(10, tenant=tenant)
    for n in range(10):
        AccountFactory(tenant=tenant, domain=f"initech{n}.com")

    first = _run(tenant=tenant.slug, visitors=60, days=10)

    assert "events from 60 visitors" in first
    site = Site.objects.for_tenant(tenant).get()
    visitors = list(Visitor.objects.for_tenant(tenant).filter(merged_into__isnull=True))
    events = Event.objects.for_tenant(tenant)
    assert 0 < len(visitors) <= 60
    assert events.count() == sum(v.total_events for v in visitors)
    assert Session.objects.for_tenant(tenant).count() == sum(v.total_sessions for v in visitors)
    identified = [v for v in visitors if v.email]
    assert identified
    matched = visitors_in_crm(tenant=tenant, visitors=identified)
    assert any(m.person is not None for m in matched.values())
    assert Company.objects.for_tenant(tenant).exists()
    assert str(events.count()) in first

    again = _run(tenant=tenant.slug, visitors=60, days=10)
    assert "already has demo traffic" in again
    assert Event.objects.for_tenant(tenant).count() == events.count()
    assert Site.objects.for_tenant(tenant).get() == site
    assert not Visitor.objects.for_tenant(outsider.tenant).exists()


def test_unknown_tenant_is_refused() -> None:
    with pytest.raises(CommandError, match="No tenant"):
        _run(tenant="nope")
