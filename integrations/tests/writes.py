"""Helpers for write-back tests: staff users, enabled policies, visitors with intents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from crm.models import WritePolicy
from integrations.models import ApiUsageDay, SalesforceConnection
from integrations.write.policy import WRITE_FLAGS
from salesmonk.tenants.models import Tenant, User
from visitors.models import Chat, ChatMessage, Company, IntentKind, Meeting, Visitor, WriteIntent

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def staff(email: str = "support@salesmonk.example") -> User:
    return User.objects.create_user(email=email, password="x", is_staff=True, is_superuser=True)


def enable(tenant: Tenant, *flags: str) -> WritePolicy:
    chosen = flags or WRITE_FLAGS
    policy, _ = WritePolicy.objects.update_or_create(
        tenant=tenant, defaults={f: f in chosen for f in WRITE_FLAGS}
    )
    return policy


def company(tenant: Tenant, domain: str, name: str = "") -> Company:
    return Company.objects.get_or_create(tenant=tenant, domain=domain, defaults={"name": name})[0]


def visitor(
    tenant: Tenant,
    *,
    email: str = "",
    phone: str = "",
    first: str = "",
    last: str = "",
    domain: str = "",
    company_name: str = "",
    kinds: tuple[str, ...] = (IntentKind.LEAD, IntentKind.PERSON),
    **extra: Any,
) -> Visitor:
    v = Visitor.objects.create(
        tenant=tenant,
        email=email,
        phone=phone,
        first_name=first,
        last_name=last,
        company=company(tenant, domain, company_name) if domain else None,
        first_seen_at=NOW - dt.timedelta(days=3),
        last_seen_at=NOW,
        identified_at=NOW,
        total_sessions=extra.pop("sessions", 3),
        utm_source=extra.pop("utm_source", "google"),
        **extra,
    )
    intents(tenant, v, *kinds)
    return v


def intents(tenant: Tenant, v: Visitor, *kinds: str) -> None:
    WriteIntent.objects.bulk_create(
        [WriteIntent(tenant=tenant, visitor=v, kind=k) for k in kinds], ignore_conflicts=True
    )


def meeting(tenant: Tenant, v: Visitor, title: str = "Demo") -> Meeting:
    intents(tenant, v, IntentKind.MEETING)
    return Meeting.objects.create(
        tenant=tenant,
        visitor=v,
        title=title,
        starts_at=NOW + dt.timedelta(days=2),
        duration_minutes=30,
        booked_at=NOW,
    )


def chat(tenant: Tenant, v: Visitor, *messages: str) -> Chat:
    intents(tenant, v, IntentKind.CHAT)
    c = Chat.objects.create(
        tenant=tenant,
        visitor=v,
        conversation_key=f"c-{Chat.objects.count()}",
        started_at=NOW,
        last_message_at=NOW,
        message_count=len(messages),
    )
    for i, body in enumerate(messages):
        ChatMessage.objects.create(
            tenant=tenant, chat=c, body=body, sent_at=NOW + dt.timedelta(seconds=i)
        )
    return c


def leave_budget(conn: SalesforceConnection, calls: int) -> None:
    """Set the tenant's daily API budget so exactly `calls` more calls are allowed today."""
    used = ApiUsageDay.objects.get(tenant=conn.tenant).calls
    SalesforceConnection.objects.filter(pk=conn.pk).update(api_daily_budget=used + calls)


def pending(tenant: Tenant) -> int:
    return WriteIntent.objects.for_tenant(tenant).filter(status="pending").count()


def live(org: Any, obj: str) -> list[dict[str, Any]]:
    return [r for r in org.records(obj, include_deleted=False) if not r.get("IsDeleted")]


def now() -> dt.datetime:
    return timezone.now()
