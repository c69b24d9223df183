"""Who a visitor is: identify, merge, company, and their chats and meetings."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import F, Value
from django.db.models.functions import Greatest, Least

from crm.normalize import normalize_domain
from salesmonk.tenants.models import Tenant
from visitors.models import (
    UTM_FIELDS,
    Chat,
    ChatMessage,
    Company,
    Device,
    Event,
    Identity,
    IntentKind,
    Meeting,
    Session,
    Visitor,
    WriteIntent,
)
from visitors.tracking.crm_match import visitor_crm_match_refresh
from visitors.tracking.freemail import company_domain_for_email
from visitors.tracking.intents import intents_record

_MOVED = (Device, Session, Event, Chat, Meeting, Identity)


def companies_for_domains(*, tenant: Tenant, names: dict[str, str]) -> dict[str, Company]:
    """The tenant's companies for normalized domains, created when missing (insert-or-ignore
    then read: concurrent first sightings of a company agree on one row)."""
    if not names:
        return {}
    Company.objects.bulk_create(
        [Company(tenant=tenant, domain=d, name=n[:255]) for d, n in names.items()],
        ignore_conflicts=True,
    )
    return {c.domain: c for c in Company.objects.for_tenant(tenant).filter(domain__in=names)}


def _company_from_traits(traits: dict[str, Any]) -> tuple[str | None, str, str]:
    """(domain, name, source): an explicit company domain (or a `company` that is a
    website) first, then the email's domain unless it is a free-mail or disposable one."""
    name = traits.get("company", "")
    if domain := normalize_domain(traits.get("company_domain", "")):
        return domain, name, Company.Source.EXPLICIT
    if domain := normalize_domain(name):
        return domain, "", Company.Source.EXPLICIT
    if domain := company_domain_for_email(traits["email"]):
        return domain, name, Company.Source.EMAIL
    return None, name, ""


def visitor_identify(
    *,
    tenant: Tenant,
    visitor_id: uuid.UUID,
    traits: dict[str, Any],
    at: dt.datetime,
    kinds: frozenset[str],
) -> Visitor:
    """Attach an email (and name, phone, company) to the visitor. When another visitor
    already has that email, this one is merged into it: the email's `Identity` row is the
    lock both racers queue on, so exactly one person results."""
    email = traits["email"]
    Identity.objects.bulk_create(
        [Identity(tenant=tenant, email=email, visitor_id=visitor_id)], ignore_conflicts=True
    )
    identity = Identity.objects.select_for_update().get(tenant=tenant, email=email)
    if identity.visitor_id != visitor_id:
        _merge(tenant=tenant, survivor_id=identity.visitor_id, loser_id=visitor_id)
    visitor = Visitor.objects.select_for_update().get(tenant=tenant, pk=identity.visitor_id)
    was_identified = visitor.identified_at is not None
    visitor.email = email
    for name in ("first_name", "last_name", "phone"):
        if traits.get(name):
            setattr(visitor, name, traits[name])
    visitor.identified_at = visitor.identified_at or at
    domain, company_name, source = _company_from_traits(traits)
    if domain and (source == Company.Source.EXPLICIT or visitor.company_source != "explicit"):
        visitor.company = companies_for_domains(tenant=tenant, names={domain: company_name})[domain]
        visitor.company_source = source
    visitor.save(
        update_fields=[
            "email",
            "first_name",
            "last_name",
            "phone",
            "identified_at",
            "company",
            "company_source",
        ]
    )
    wanted = [IntentKind.LEAD] if not was_identified else []
    if visitor.company_id:
        wanted.append(IntentKind.ACCOUNT)
    intents_record(tenant=tenant, visitor_ids=[visitor.pk], kinds=kinds, only=wanted, activity=True)
    # Email, phone or company may have changed: filters see who they are in the CRM at once.
    visitor_crm_match_refresh(tenant=tenant, visitor_ids=[visitor.pk])
    return visitor


def _merge(*, tenant: Tenant, survivor_id: uuid.UUID, loser_id: uuid.UUID) -> Visitor:
    """Make two visitors one person (on identify): devices, sessions, events, chats,
    meetings, emails and pending intents move to the survivor, counters add up, the loser
    points at it. The caller recomputes the survivor's CRM match."""
    locked = {
        v.pk: v
        for v in Visitor.objects.select_for_update()
        .filter(tenant=tenant, pk__in=[survivor_id, loser_id])
        .order_by("pk")
    }
    survivor, loser = locked[survivor_id], locked[loser_id]
    for model in _MOVED:
        model.objects.filter(tenant=tenant, visitor_id=loser.pk).update(visitor_id=survivor.pk)
    pending = WriteIntent.objects.filter(status=WriteIntent.Status.PENDING)
    taken = pending.filter(visitor_id=survivor.pk).values_list("kind", flat=True)
    pending.filter(visitor_id=loser.pk, kind__in=list(taken)).delete()
    pending.filter(visitor_id=loser.pk).update(visitor_id=survivor.pk)

    loser_newer = loser.last_seen_at > survivor.last_seen_at
    values: dict[str, Any] = {
        "total_sessions": F("total_sessions") + loser.total_sessions,
        "total_events": F("total_events") + loser.total_events,
        "last_seen_at": Greatest(F("last_seen_at"), Value(loser.last_seen_at)),
        "first_seen_at": Least(F("first_seen_at"), Value(loser.first_seen_at)),
    }
    for name in UTM_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(loser, name)
        if theirs and (loser_newer or not mine):
            values[name] = theirs
    for name in ("first_name", "last_name", "phone"):
        if not getattr(survivor, name) and getattr(loser, name):
            values[name] = getattr(loser, name)
    if survivor.company_id is None and loser.company_id is not None:
        values.update(company_id=loser.company_id, company_source=loser.company_source)
    Visitor.objects.filter(pk=survivor.pk).update(**values)
    Visitor.objects.filter(pk=loser.pk).update(
        merged_into=survivor, total_sessions=0, total_events=0
    )
    survivor.refresh_from_db()
    return survivor


def chat_message_record(
    *,
    tenant: Tenant,
    visitor_id: uuid.UUID,
    data: dict[str, Any],
    at: dt.datetime,
    kinds: frozenset[str],
) -> ChatMessage:
    """Append a message to its conversation, starting the conversation on its first one."""
    key = data["conversation_id"]
    Chat.objects.bulk_create(
        [
            Chat(
                tenant=tenant,
                visitor_id=visitor_id,
                conversation_key=key,
                started_at=at,
                last_message_at=at,
            )
        ],
        ignore_conflicts=True,
    )
    chats = Chat.objects.for_tenant(tenant).filter(conversation_key=key)
    chats.update(
        message_count=F("message_count") + 1,
        last_message_at=Greatest(F("last_message_at"), Value(at)),
    )
    chat = chats.get()
    message = ChatMessage.objects.create(
        tenant=tenant, chat=chat, sender=data["sender"], body=data["message"], sent_at=at
    )
    intents_record(
        tenant=tenant, visitor_ids=[chat.visitor_id], kinds=kinds, only=[IntentKind.CHAT]
    )
    return message


def meeting_record(
    *,
    tenant: Tenant,
    visitor_id: uuid.UUID,
    data: dict[str, Any],
    at: dt.datetime,
    kinds: frozenset[str],
) -> Meeting:
    meeting = Meeting.objects.create(
        tenant=tenant,
        visitor_id=visitor_id,
        title=data["title"],
        starts_at=dt.datetime.fromisoformat(data["starts_at"]),
        duration_minutes=data["duration"],
        booked_at=at,
    )
    intents_record(tenant=tenant, visitor_ids=[visitor_id], kinds=kinds, only=[IntentKind.MEETING])
    return meeting
