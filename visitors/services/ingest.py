"""Recording accepted events: the hot path.

One request's events go through one short transaction with a fixed number of statements
whatever the batch size: lock the devices, create the new ones, insert sessions and events
in bulk, and move every counter with one atomic `UPDATE … SET n = n + k` per table. Nothing
is recounted from history. Identify, chat and meeting events then run their own (rarer)
steps in the same transaction, so a 2xx always means everything was committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from salesmonk.tenants.models import Tenant
from visitors.models import (
    SESSION_TIMEOUT_MINUTES,
    UTM_FIELDS,
    Company,
    Device,
    Event,
    EventType,
    Session,
    Site,
    Visitor,
)
from visitors.payload import EventIn
from visitors.resolvers import get_ip_resolver
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
    device: Device
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
    new_sessions: list[Session] = []
    session_delta: dict[uuid.UUID, list] = {}
    visitor_delta: dict[uuid.UUID, _VisitorDelta] = defaultdict(_VisitorDelta)
    rows: list[Event] = []
    for ev in events:
        st = states[ev.anonymous_id]
        visitor_id = st.device.visitor_id
        delta = visitor_delta[visitor_id]
        if st.session_id is None or ev.occurred_at - st.last_seen > SESSION_TIMEOUT:
            session = Session(
                id=uuid.uuid4(),
                tenant=tenant,
                visitor_id=visitor_id,
                device=st.device,
                started_at=ev.occurred_at,
                last_event_at=ev.occurred_at,
                event_count=0,
                landing_url=ev.url,
                referrer=ev.referrer,
            )
            new_sessions.append(session)
            st.session_id = session.id
            delta.sessions += 1
        counts = session_delta.setdefault(st.session_id, [0, ev.occurred_at])
        counts[0] += 1
        counts[1] = max(counts[1], ev.occurred_at)
        st.last_seen = max(st.last_seen, ev.occurred_at)
        delta.events += 1
        delta.last_seen = max(delta.last_seen or ev.occurred_at, ev.occurred_at)
        delta.utm.update(ev.utm)  # in order: the last non-empty value of each field wins
        rows.append(
            Event(
                tenant=tenant,
                site=site,
                visitor_id=visitor_id,
                device=st.device,
                session_id=st.session_id,
                type=ev.type,
                occurred_at=ev.occurred_at,
                received_at=ev.occurred_at,
                url=ev.url,
                path=ev.path,
                title=ev.title,
                referrer=ev.referrer,
                data=ev.data,
                **ev.utm,
            )
        )
    received = max(ev.occurred_at for ev in events)
    for row in rows:
        row.received_at = received
    _write_sessions(new_sessions, session_delta)
    Event.objects.bulk_create(rows)
    _write_visitors(visitor_delta)
    _write_devices(states.values())
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
    lock = Device.objects.select_for_update().filter(site=site).order_by("pk")
    devices = {d.anonymous_id: d for d in lock.filter(anonymous_id__in=list(first_seen))}
    missing = [a for a in first_seen if a not in devices]
    if missing:
        company = _company_for_ip(tenant=tenant, ip=ip)
        visitors = {
            anon: Visitor(
                tenant=tenant,
                first_seen_at=first_seen[anon],
                last_seen_at=first_seen[anon],
                company=company,
                company_source=Company.Source.IP if company else "",
            )
            for anon in missing
        }
        Visitor.objects.bulk_create(visitors.values())
        Device.objects.bulk_create(
            [
                Device(
                    tenant=tenant,
                    site=site,
                    anonymous_id=anon,
                    visitor=visitor,
                    ip=ip,
                    user_agent=ua[:400],
                    first_seen_at=first_seen[anon],
                    last_seen_at=first_seen[anon],
                )
                for anon, visitor in visitors.items()
            ],
            ignore_conflicts=True,  # a concurrent request created it first: use theirs
        )
        created = {d.anonymous_id: d for d in lock.filter(anonymous_id__in=missing)}
        orphans = [v.pk for a, v in visitors.items() if created[a].visitor_id != v.pk]
        if orphans:
            Visitor.objects.filter(tenant=tenant, pk__in=orphans).delete()
        devices.update(created)
    return {
        anon: _DeviceState(device=d, session_id=d.session_id, last_seen=d.last_seen_at)
        for anon, d in devices.items()
    }


def _company_for_ip(*, tenant: Tenant, ip: str | None) -> Company | None:
    guess = get_ip_resolver().resolve(ip) if ip else None
    if guess is None:
        return None
    return companies_for_domains(tenant=tenant, names={guess.domain: guess.name}).get(guess.domain)


def _write_sessions(new: list[Session], delta: dict[uuid.UUID, list]) -> None:
    for session in new:
        session.event_count, session.last_event_at = delta.pop(session.id)
    Session.objects.bulk_create(new)
    if delta:
        Session.objects.bulk_update(
            [
                _with(
                    Session(pk=pk),
                    event_count=F("event_count") + count,
                    last_event_at=Greatest(F("last_event_at"), Value(last)),
                )
                for pk, (count, last) in delta.items()
            ],
            ["event_count", "last_event_at"],
        )


def _write_visitors(delta: dict[uuid.UUID, _VisitorDelta]) -> None:
    """One UPDATE for all visitors of the batch: counters added, `last_seen_at` only moves
    forward, and each UTM field changes only when the batch carried a non-empty value."""
    objs = []
    for pk, d in delta.items():
        utm = {name: Value(d.utm[name]) if name in d.utm else F(name) for name in UTM_FIELDS}
        objs.append(
            _with(
                Visitor(pk=pk),
                total_sessions=F("total_sessions") + d.sessions,
                total_events=F("total_events") + d.events,
                last_seen_at=Greatest(F("last_seen_at"), Value(d.last_seen)),
                **utm,
            )
        )
    Visitor.objects.bulk_update(
        objs, ["total_sessions", "total_events", "last_seen_at", *UTM_FIELDS]
    )


def _write_devices(states: object) -> None:
    objs = [
        _with(
            Device(pk=st.device.pk),
            session_id=st.session_id,
            last_seen_at=Greatest(F("last_seen_at"), Value(st.last_seen)),
        )
        for st in states  # type: ignore[attr-defined]
    ]
    Device.objects.bulk_update(objs, ["session_id", "last_seen_at"])


def _with(obj: object, **values: object) -> object:
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


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
        device = states[ev.anonymous_id].device
        # A merge earlier in this batch may have moved the device to another visitor.
        visitor_id = Device.objects.filter(pk=device.pk).values_list("visitor_id", flat=True)[0]
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
