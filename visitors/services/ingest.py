"""Recording accepted events: the hot path.

One request's events go through one short transaction with a fixed number of statements
whatever the batch size: lock the devices, create the new ones, insert sessions and events
in bulk, and move every counter with one atomic `UPDATE … SET n = n + k` per table. Nothing
is recounted from history. Identify, chat and meeting events then run their own (rarer)
steps in the same transaction, so a 2xx always means everything was committed. The
page-view statements are hand-written (`ingest_sql`): building them with the ORM cost
several times the database's own time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from salesmonk.tenants.models import Tenant
from visitors.models import (
    SESSION_TIMEOUT_MINUTES,
    UTM_FIELDS,
    Company,
    Device,
    EventType,
    Site,
    Visitor,
)
from visitors.payload import EventIn
from visitors.resolvers import get_ip_resolver
from visitors.services import ingest_sql as sql
from visitors.services.intents import enabled_intent_kinds, intents_record
from visitors.services.people import (
    chat_message_record,
    companies_for_domains,
    meeting_record,
    visitor_identify,
)

SESSION_TIMEOUT = dt.timedelta(minutes=SESSION_TIMEOUT_MINUTES)
_RETRIES = 3


@dataclass
class _DeviceState:
    device_id: uuid.UUID
    visitor_id: uuid.UUID
    session_id: uuid.UUID | None
    last_seen: dt.datetime


@dataclass
class _VisitorDelta:
    sessions: int = 0
    events: int = 0
    last_seen: dt.datetime | None = None
    utm: dict[str, str] = field(default_factory=dict)


def events_record(
    *,
    tenant: Tenant,
    site: Site,
    events: Sequence[EventIn],
    ip: str | None = None,
    user_agent: str = "",
) -> int:
    """Record validated events of one site; returns how many. Retried on a deadlock (two
    devices of one person written at once), which rolls the whole attempt back."""
    for attempt in range(_RETRIES):
        try:
            with transaction.atomic():
                return _record(tenant=tenant, site=site, events=events, ip=ip, ua=user_agent)
        except (OperationalError, IntegrityError) as exc:
            if connection.in_atomic_block or attempt == _RETRIES - 1 or not _retryable(exc):
                raise
    raise AssertionError("unreachable")


def _retryable(exc: BaseException) -> bool:
    code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
    # deadlock, serialization failure, unique violation from a concurrent first insert
    return code in ("40P01", "40001", "23505")


def _record(
    *, tenant: Tenant, site: Site, events: Sequence[EventIn], ip: str | None, ua: str
) -> int:
    states = _lock_devices(tenant=tenant, site=site, events=events, ip=ip, ua=ua)
    tenant_id, site_id = sql.db_uuid(tenant.pk), sql.db_uuid(site.pk)
    new_sessions: list[list] = []
    session_delta: dict[uuid.UUID, list] = {}
    visitor_delta: dict[uuid.UUID, _VisitorDelta] = defaultdict(_VisitorDelta)
    received = sql.db_time(max(ev.occurred_at for ev in events))
    empty = sql.db_json({})
    rows: list[tuple] = []
    for ev in events:
        st = states[ev.anonymous_id]
        visitor_id = st.visitor_id
        delta = visitor_delta[visitor_id]
        if st.session_id is None or ev.occurred_at - st.last_seen > SESSION_TIMEOUT:
            st.session_id = uuid.uuid4()
            new_sessions.append(
                [st.session_id, tenant.pk, visitor_id, st.device_id, ev.occurred_at,
                 ev.occurred_at, 0, ev.url, ev.referrer]
            )  # fmt: skip
            delta.sessions += 1
        counts = session_delta.setdefault(st.session_id, [0, ev.occurred_at])
        counts[0] += 1
        counts[1] = max(counts[1], ev.occurred_at)
        st.last_seen = max(st.last_seen, ev.occurred_at)
        delta.events += 1
        delta.last_seen = max(delta.last_seen or ev.occurred_at, ev.occurred_at)
        delta.utm.update(ev.utm)  # in order: the last non-empty value of each field wins
        utm = ev.utm
        rows.append(
            (tenant_id, site_id, sql.db_uuid(visitor_id), sql.db_uuid(st.device_id),
             sql.db_uuid(st.session_id), ev.type, sql.db_time(ev.occurred_at), received,
             ev.url, ev.path, ev.title, ev.referrer,
             *(utm.get(name, "") for name in UTM_FIELDS),
             sql.db_json(ev.data) if ev.data else empty)
        )  # fmt: skip
    for session in new_sessions:
        session[6], session[5] = session_delta.pop(session[0])
    sql.sessions_insert(new_sessions)
    sql.sessions_add([(pk, n, last) for pk, (n, last) in session_delta.items()])
    sql.events_insert(rows)
    sql.visitors_add(
        [
            (pk, d.sessions, d.events, d.last_seen, d.utm)
            for pk, d in sorted(visitor_delta.items(), key=lambda item: str(item[0]))
        ]
    )
    sql.devices_touch([(st.device_id, st.session_id, st.last_seen) for st in states.values()])
    kinds = enabled_intent_kinds(tenant)
    _special_events(tenant=tenant, events=events, states=states, kinds=kinds)
    if kinds:
        intents_record(tenant=tenant, visitor_ids=set(visitor_delta), kinds=kinds, activity=True)
    return len(rows)


def _lock_devices(
    *, tenant: Tenant, site: Site, events: Sequence[EventIn], ip: str | None, ua: str
) -> dict[str, _DeviceState]:
    """Each device of the batch, locked (in id order, so concurrent batches queue instead
    of deadlocking), creating the missing ones with a new visitor each."""
    first_seen: dict[str, dt.datetime] = {}
    for ev in events:
        first_seen[ev.anonymous_id] = min(
            first_seen.get(ev.anonymous_id, ev.occurred_at), ev.occurred_at
        )
    devices = {row[0]: row for row in sql.devices_lock(site.pk, list(first_seen))}
    missing = [a for a in first_seen if a not in devices]
    if missing:
        company = _company_for_ip(tenant=tenant, ip=ip)
        source = Company.Source.IP if company else ""
        now = timezone.now()
        visitors = {anon: uuid.uuid4() for anon in missing}
        sql.visitors_insert(
            [
                (pk, tenant.pk, company.pk if company else None, source, first_seen[anon], now)
                for anon, pk in visitors.items()
            ]
        )
        db_ip = sql.db_ip(ip)
        sql.devices_insert(
            [
                (uuid.uuid4(), tenant.pk, site.pk, anon, pk, db_ip, ua[:400], first_seen[anon])
                for anon, pk in visitors.items()
            ]
        )
        created = {row[0]: row for row in sql.devices_lock(site.pk, missing)}
        # a concurrent request created the device first: use theirs, drop our visitor
        orphans = [pk for anon, pk in visitors.items() if created[anon][2] != pk]
        if orphans:
            Visitor.objects.filter(tenant=tenant, pk__in=orphans).delete()
        devices.update(created)
    return {
        anon: _DeviceState(device_id=pk, visitor_id=vid, session_id=sid, last_seen=seen)
        for anon, pk, vid, sid, seen in devices.values()
    }


def _company_for_ip(*, tenant: Tenant, ip: str | None) -> Company | None:
    guess = get_ip_resolver().resolve(ip) if ip else None
    if guess is None:
        return None
    return companies_for_domains(tenant=tenant, names={guess.domain: guess.name}).get(guess.domain)


def _special_events(
    *,
    tenant: Tenant,
    events: Sequence[EventIn],
    states: dict[str, _DeviceState],
    kinds: frozenset[str],
) -> None:
    """Identify, chat and meeting events, in order, after the counters: an identify may
    merge visitors, which moves the sessions and events just written along with the rest."""
    for ev in events:
        if ev.type == EventType.PAGE:
            continue
        device_id = states[ev.anonymous_id].device_id
        # A merge earlier in this batch may have moved the device to another visitor.
        visitor_id = Device.objects.filter(pk=device_id).values_list("visitor_id", flat=True)[0]
        if ev.type == EventType.IDENTIFY:
            visitor_identify(
                tenant=tenant, visitor_id=visitor_id, traits=ev.data, at=ev.occurred_at, kinds=kinds
            )
        elif ev.type == EventType.CHAT:
            chat_message_record(
                tenant=tenant, visitor_id=visitor_id, data=ev.data, at=ev.occurred_at, kinds=kinds
            )
        elif ev.type == EventType.MEETING:
            meeting_record(
                tenant=tenant, visitor_id=visitor_id, data=ev.data, at=ev.occurred_at, kinds=kinds
            )
