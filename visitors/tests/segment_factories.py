"""Factories for segment tests: companies and visitors as ingest leaves them (lower-cased
emails, normalized company domains)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from salesmonk.tenants.factories import TenantFactory
from salesmonk.tenants.models import Tenant
from visitors.models import Company, Segment, Visitor
from visitors.tracking.crm_match import visitor_crm_match_refresh


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    tenant = factory.SubFactory(TenantFactory)
    domain = factory.Sequence(lambda n: f"firm{n}.example")
    name = factory.Sequence(lambda n: f"Firm {n}")


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor

    tenant = factory.SubFactory(TenantFactory)
    email = ""
    first_seen_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    last_seen_at = factory.LazyFunction(timezone.now)
    total_sessions = 1
    total_events = 3
    identified_at = factory.LazyAttribute(lambda o: o.last_seen_at if o.email else None)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    filters = factory.LazyFunction(dict)


def crm_match(*tenants: Tenant) -> None:
    """Store every visitor's CRM match, as the sync and identification do in production:
    call it after creating visitors and CRM rows directly with factories."""
    for tenant in tenants:
        visitor_crm_match_refresh(tenant=tenant)
