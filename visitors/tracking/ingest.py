"""Recording accepted events: the hot path.

Events go through one short transaction with a fixed number of statements whatever the
batch size: lock the devices, create the new ones, then insert sessions and events in bulk
and move every counter with one atomic `UPDATE … SET n = n + k` per table. Nothing is
recounted from history. Identify, chat and meeting events then run their own (rarer) steps
in the same transaction, so a 2xx always means everything was committed. The page-view
statements are hand-written (`ingest_sql`): building them with the ORM cost several times
the database's own time.

On PostgreSQL, requests are written by the process's group writer (`ingest_group`): the
requests queued while the previous group committed are written together, in one transaction
with the same statements, and each is answered after that COMMIT; their sites are read
again there (in the round trip that locks the devices), and a group that fails is retried
request by request, so one bad request never fails the others.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from salesmonk.tenants.models import Tenant
from visitors.models import (
    UTM_FIELDS,
    Company,
    Device,
    EventType,
    Site,
    Visitor,
)
from visitors.tracking import ingest_sql as sql
from visitors.tracking.ingest_group import GroupWriter
from visitors.tracking.intents import enabled_intent_kinds, intents_record
from visitors.tracking.payload import EventIn
from visitors.tracking.people import (
    chat_message_record,
    companies_for_domains,
    meeting_record,
    visitor_identify,
)
from visitors.tracking.resolvers import get_ip_resolver
from visitors.tracking.selectors import origin_allowed, site_query
from visitors.tracking.sessions import DeviceState, SessionBook

_RETRIES = 3

DeviceKey = tuple[uuid.UUID, str]  # (site, anonymous id)


@dataclass(frozen=True)
class Submission:
    """One request's validated events, with what a new device is created from."""

    tenant: Tenant
    site: Site
    events: Sequence[EventIn]
    ip: str | None = None
    user_agent: str = ""
    origin: str | None = None


@dataclass
class _VisitorDelta:
    sessions: int = 0
    events: int = 0
    last_seen: dt.datetime | None = None
    utm: dict[str, str] = field(default_factory=dict)


class SiteRefused(Exception):
    """The group writer's fresh read of the site refuses a request the view let through on
    a recent read: the site was deactivated (404) or the origin removed (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def events_record(
    *,
    tenant: Tenant,
    site: Site,
    events: Sequence[EventIn],
    ip: str | None = None,
    user_agent: str = "",
    origin: str | None = None,
) -> int:
    """Record validated events of one site; returns how many, once they are committed.
    Through the group writer (`group_commit_active`), the site is read again where it is
    written, and `SiteRefused` says it no longer accepts the request."""
    submission = Submission(
        tenant=tenant, site=site, events=events, ip=ip, user_agent=user_agent, origin=origin
    )
    if group_commit_active():
        return _WRITER.submit(submission)
    return submissions_record([submission])[0]


def group_commit_active() -> bool:
    """Whether this request's events go through the group writer: on PostgreSQL, outside
    any caller's transaction (the writer has its own connection, which could not see the
    caller's uncommitted rows)."""
    return (
        settings.INGEST_GROUP_COMMIT
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def submissions_record(submissions: Sequence[Submission]) -> list[int]:
    """Record the submissions in ONE transaction; how many events of each."""
    counts = _in_transaction(submissions, fresh_sites=False)
    assert all(isinstance(count, int) for count in counts)  # only fresh sites refuse
    return counts  # type: ignore[return-value]


def _group_record(submissions: Sequence[Submission]) -> list[int | Exception]:
    """The group writer's step: in one transaction, read the group's sites fresh (in the
    round trip that locks the devices), refuse the requests their site no longer accepts
    and record the rest."""
    return _in_transaction(submissions, fresh_sites=True)


def _in_transaction(
    submissions: Sequence[Submission], *, fresh_sites: bool
) -> list[int | Exception]:
    """`_record` in a transaction, retried whole on a deadlock (two devices of one person
    written at once) or a concurrent first insert, which roll the attempt back."""
    for attempt in range(_RETRIES):
        try:
            with transaction.atomic():
                return _record(submissions, fresh_sites=fresh_sites)
        except (OperationalError, IntegrityError) as exc:
            if connection.in_atomic_block or attempt == _RETRIES - 1 or not _retryable(exc):
                raise
    raise AssertionError("unreachable")


def _site_refusal(site: Site | None, origin: str | None) -> SiteRefused | None:
    if site is None:
        return SiteRefused(404, "Unknown site key.")
    if origin is not None and not origin_allowed(site, origin):
        return SiteRefused(403, "This origin is not allowed to send events for this site.")
    return None


_WRITER: GroupWriter[Submission] = GroupWriter(write_group=_group_record)


def _retryable(exc: BaseException) -> bool:
    code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
    # deadlock, serialization failure, unique violation from a concurrent first insert
    return code in ("40P01", "40001", "23505")


def _record(submissions: Sequence[Submission], *, fresh_sites: bool) -> list[int | Exception]:
    """Every write of the submissions (one site check per submission when `fresh_sites`:
    the refused ones get their `SiteRefused` and write nothing)."""
    results: list[int | Exception] = [len(sub.events) for sub in submissions]
    locked, fresh = _lock_devices(submissions, fresh_sites=fresh_sites)
    if fresh is not None:
        accepted = []
        for index, sub in enumerate(submissions):
            site = fresh.get(sub.site.key)
            refusal = _site_refusal(site, sub.origin)
            if refusal is not None:
                results[index] = refusal
            else:
                assert site is not None
                accepted.append(replace(sub, site=site, tenant=site.tenant))
        submissions = accepted
        if not submissions:
            return results
    states = _create_devices(submissions, locked)
    uid, ts = sql.preparers()
    sessions = SessionBook()
    visitor_delta: dict[uuid.UUID, _VisitorDelta] = defaultdict(_VisitorDelta)
    visitor_tenant: dict[uuid.UUID, Tenant] = {}
    empty = sql.db_json({})
    rows: list[tuple] = []
    for sub in submissions:
        site, tenant = sub.site, sub.tenant
        tenant_id, site_id = uid(tenant.pk), uid(site.pk)
        received = ts(max(ev.occurred_at for ev in sub.events))
        for ev in sub.events:
            st = states[(site.pk, ev.anonymous_id)]
            visitor_id = st.visitor_id
            visitor_tenant[visitor_id] = tenant
            delta = visitor_delta[visitor_id]
            if sessions.page_view(
                st, tenant_id=tenant.pk, at=ev.occurred_at, url=ev.url, referrer=ev.referrer
            ):
                delta.sessions += 1
            delta.events += 1
            delta.last_seen = max(delta.last_seen or ev.occurred_at, ev.occurred_at)
            delta.utm.update(ev.utm)  # in order: the last non-empty value of each field wins
            utm = ev.utm
            rows.append(
                (tenant_id, site_id, uid(visitor_id), uid(st.device_id),
                 uid(st.session_id), ev.type, ts(ev.occurred_at), received,
                 ev.url, ev.path, ev.title, ev.referrer,
                 *(utm.get(name, "") for name in UTM_FIELDS),
                 sql.db_json(ev.data) if ev.data else empty)
            )  # fmt: skip
    sql.page_views_write(
        new_sessions=sessions.new_rows(),
        session_adds=sessions.additions(),
        events=rows,
        visitor_adds=[
            (pk, d.sessions, d.events, d.last_seen, d.utm)
            for pk, d in sorted(visitor_delta.items(), key=lambda item: str(item[0]))
        ],
        device_touches=[(st.device_id, st.session_id, st.last_seen) for st in states.values()],
    )
    for sub in submissions:
        kinds = enabled_intent_kinds(sub.tenant)
        _special_events(
            tenant=sub.tenant, site=sub.site, events=sub.events, states=states, kinds=kinds
        )
    if any(enabled_intent_kinds(t) for t in visitor_tenant.values()):
        by_tenant: dict[uuid.UUID, tuple[Tenant, set[uuid.UUID]]] = {}
        for visitor_id, tenant in visitor_tenant.items():
            by_tenant.setdefault(tenant.pk, (tenant, set()))[1].add(visitor_id)
        for tenant, visitor_ids in by_tenant.values():
            kinds = enabled_intent_kinds(tenant)
            if kinds:
                intents_record(tenant=tenant, visitor_ids=visitor_ids, kinds=kinds, activity=True)
    return results


def _device_keys(submissions: Sequence[Submission]) -> list[DeviceKey]:
    return list({(sub.site.pk, ev.anonymous_id): None for sub in submissions for ev in sub.events})


def _lock_devices(
    submissions: Sequence[Submission], *, fresh_sites: bool
) -> tuple[dict[DeviceKey, sql.DeviceRow], dict[str, Site] | None]:
    """The existing devices of the submissions, locked (in id order, so concurrent writers
    queue instead of deadlocking), by key; with `fresh_sites`, also the submissions' sites,
    read fresh in the same round trip."""
    keys = _device_keys(submissions)
    if not fresh_sites:
        return {(row[0], row[1]): row for row in sql.devices_lock(keys)}, None
    query = site_query()
    site_rows, device_rows = sql.devices_lock_after(
        query.statement(list({sub.site.key for sub in submissions})), keys
    )
    return {(row[0], row[1]): row for row in device_rows}, query.sites(site_rows)


def _create_devices(
    submissions: Sequence[Submission], locked: dict[DeviceKey, sql.DeviceRow]
) -> dict[DeviceKey, DeviceState]:
    """The state of each device of the submissions, from the `locked` rows (which may hold
    more), creating the missing ones with a new visitor each."""
    first_seen: dict[DeviceKey, dt.datetime] = {}
    origin: dict[DeviceKey, Submission] = {}
    for sub in submissions:
        for ev in sub.events:
            key = (sub.site.pk, ev.anonymous_id)
            origin.setdefault(key, sub)
            first_seen[key] = min(first_seen.get(key, ev.occurred_at), ev.occurred_at)
    devices = {key: locked[key] for key in first_seen if key in locked}
    # sorted, so two writers creating the same devices wait for each other in one order
    missing = sorted((k for k in first_seen if k not in devices), key=lambda k: (str(k[0]), k[1]))
    if missing:
        now = timezone.now()
        companies: dict[tuple[uuid.UUID, str | None], Company | None] = {}
        visitor_rows, device_rows = [], []
        visitors: dict[DeviceKey, uuid.UUID] = {}
        for key in missing:
            sub = origin[key]
            tenant = sub.tenant
            if (tenant.pk, sub.ip) not in companies:
                companies[(tenant.pk, sub.ip)] = _company_for_ip(tenant=tenant, ip=sub.ip)
            company = companies[(tenant.pk, sub.ip)]
            visitors[key] = pk = uuid.uuid4()
            visitor_rows.append(
                (pk, tenant.pk, company.pk if company else None,
                 Company.Source.IP if company else "", first_seen[key], now)
            )  # fmt: skip
            device_rows.append(
                (uuid.uuid4(), tenant.pk, key[0], key[1], pk, sql.db_ip(sub.ip),
                 sub.user_agent[:400], first_seen[key])
            )  # fmt: skip
        created = {
            (row[0], row[1]): row
            for row in sql.new_devices_insert(visitor_rows, device_rows, missing)
        }
        # a concurrent request created the device first: use theirs, drop our visitor
        for sub in {origin[key].tenant.pk: origin[key] for key in missing}.values():
            orphans = [
                pk
                for key, pk in visitors.items()
                if created[key][3] != pk and origin[key].tenant.pk == sub.tenant.pk
            ]
            if orphans:
                Visitor.objects.filter(tenant=sub.tenant, pk__in=orphans).delete()
        devices.update(created)
    return {
        key: DeviceState(device_id=pk, visitor_id=vid, session_id=sid, last_seen=seen)
        for key, (_site, _anon, pk, vid, sid, seen) in devices.items()
    }


def _company_for_ip(*, tenant: Tenant, ip: str | None) -> Company | None:
    guess = get_ip_resolver().resolve(ip) if ip else None
    if guess is None:
        return None
    return companies_for_domains(tenant=tenant, names={guess.domain: guess.name}).get(guess.domain)


def _special_events(
    *,
    tenant: Tenant,
    site: Site,
    events: Sequence[EventIn],
    states: dict[DeviceKey, DeviceState],
    kinds: frozenset[str],
) -> None:
    """Identify, chat and meeting events, in order, after the counters: an identify may
    merge visitors, which moves the sessions and events just written along with the rest."""
    for ev in events:
        if ev.type == EventType.PAGE:
            continue
        device_id = states[(site.pk, ev.anonymous_id)].device_id
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
