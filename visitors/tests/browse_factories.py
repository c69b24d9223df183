"""factory-boy factories for tracking data (sites, companies, visitors, devices, sessions,
events, chats, meetings), for page tests that need history without going through ingest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory

from salesmonk.tenants.factories import TenantFactory
from visitors.models import (
    Chat,
    ChatMessage,
    Company,
    Device,
    Event,
    EventType,
    Meeting,
    Session,
    Site,
    Visitor,
)

SEEN = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _same_tenant(factory_class: type[factory.Factory], **kwargs: Any) -> Any:
    return factory.SubFactory(factory_class, tenant=factory.SelfAttribute("..tenant"), **kwargs)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    tenant = factory.SubFactory(TenantFactory)
    name = "Website"
    allowed_domains = factory.LazyFunction(lambda: ["acme.example"])


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    tenant = factory.SubFactory(TenantFactory)
    domain = factory.Sequence(lambda n: f"initech{n}.com")
    name = factory.Sequence(lambda n: f"Initech {n}")


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"person{n}@initech.example")
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Visitor {n}")
    company = None
    first_seen_at = factory.LazyAttribute(lambda o: o.last_seen_at - dt.timedelta(days=10))
    last_seen_at = factory.Sequence(lambda n: SEEN - dt.timedelta(minutes=n))
    total_sessions = 3
    total_events = 12


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    tenant = factory.SubFactory(TenantFactory)
    site = _same_tenant(SiteFactory)
    visitor = _same_tenant(VisitorFactory)
    anonymous_id = factory.Sequence(lambda n: f"anon-{n}")
    user_agent = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    )
    first_seen_at = SEEN - dt.timedelta(days=10)
    last_seen_at = SEEN


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    tenant = factory.SubFactory(TenantFactory)
    visitor = _same_tenant(VisitorFactory)
    device = factory.SubFactory(
        DeviceFactory,
        tenant=factory.SelfAttribute("..tenant"),
        visitor=factory.SelfAttribute("..visitor"),
    )
    started_at = SEEN - dt.timedelta(hours=1)
    last_event_at = factory.LazyAttribute(lambda o: o.started_at + dt.timedelta(minutes=5))
    event_count = 2
    landing_url = "https://www.acme.example/pricing?utm_source=google"
    referrer = "https://www.google.com/"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    tenant = factory.SubFactory(TenantFactory)
    session = _same_tenant(SessionFactory)
    visitor = factory.SelfAttribute("session.visitor")
    device = factory.SelfAttribute("session.device")
    site = factory.SelfAttribute("session.device.site")
    type = EventType.PAGE
    occurred_at = factory.LazyAttribute(lambda o: o.session.started_at)
    received_at = factory.LazyAttribute(lambda o: o.occurred_at)
    url = "https://www.acme.example/pricing"
    path = "/pricing"
    title = "Pricing"


class ChatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chat

    tenant = factory.SubFactory(TenantFactory)
    visitor = _same_tenant(VisitorFactory)
    conversation_key = factory.Sequence(lambda n: f"conv-{n}")
    started_at = SEEN - dt.timedelta(hours=2)
    last_message_at = SEEN - dt.timedelta(hours=1)
    message_count = 0


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMessage

    tenant = factory.SubFactory(TenantFactory)
    chat = _same_tenant(ChatFactory)
    sender = ChatMessage.Sender.VISITOR
    body = "Hello, do you offer annual plans?"
    sent_at = SEEN - dt.timedelta(hours=2)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    tenant = factory.SubFactory(TenantFactory)
    visitor = _same_tenant(VisitorFactory)
    title = "Demo call"
    starts_at = SEEN + dt.timedelta(days=2)
    duration_minutes = 30
    booked_at = SEEN - dt.timedelta(hours=1)
