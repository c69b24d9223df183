"""Factories for segment tests: companies and visitors as ingest leaves them (lower-cased
emails, normalized company domains)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from salesmonk.tenants.factories import TenantFactory
from visitors.models import Company, Segment, Visitor


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
