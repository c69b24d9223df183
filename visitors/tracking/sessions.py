"""The session rule, in one place: a device's page views belong to one session until the
device has been idle for longer than `SESSION_TIMEOUT` (30 minutes); its next view starts a
new session. The ingest applies it to a whole group of events in memory (`SessionBook`) and
then writes every session it started or added to in a fixed number of statements, so the
rule is kept apart from the SQL that stores it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from visitors.models import SESSION_TIMEOUT_MINUTES

SESSION_TIMEOUT = dt.timedelta(minutes=SESSION_TIMEOUT_MINUTES)


@dataclass(slots=True)
class DeviceState:
    """Where a device stands while a group of events is applied: its visitor, its current
    session (None before its first view) and its latest view."""

    device_id: uuid.UUID
    visitor_id: uuid.UUID
    session_id: uuid.UUID | None
    last_seen: dt.datetime


def session_starts(device: DeviceState, at: dt.datetime) -> bool:
    """The rule: a view at `at` starts a new session when the device has none yet or has
    been idle longer than `SESSION_TIMEOUT` since its latest view."""
    return device.session_id is None or at - device.last_seen > SESSION_TIMEOUT


@dataclass(frozen=True, slots=True)
class NewSession:
    id: uuid.UUID
    tenant_id: uuid.UUID
    visitor_id: uuid.UUID
    device_id: uuid.UUID
    started_at: dt.datetime
    landing_url: str
    referrer: str


@dataclass(slots=True)
class SessionTally:
    """The events a session gains from the group, and the latest of them."""

    events: int
    last_event_at: dt.datetime


@dataclass
class SessionBook:
    """The sessions touched by one group of events: those it starts and, for every session,
    what it gains. Filled view by view (`page_view`), then read as the rows to write."""

    started: dict[uuid.UUID, NewSession] = field(default_factory=dict)
    tallies: dict[uuid.UUID, SessionTally] = field(default_factory=dict)

    def page_view(
        self, device: DeviceState, *, tenant_id: uuid.UUID, at: dt.datetime, url: str, referrer: str
    ) -> bool:
        """Count a view of `device` in its session, starting one first when the rule says
        so (the device then points at it); whether it started one."""
        starts = session_starts(device, at)
        if starts:
            device.session_id = uuid.uuid4()
            self.started[device.session_id] = NewSession(
                id=device.session_id,
                tenant_id=tenant_id,
                visitor_id=device.visitor_id,
                device_id=device.device_id,
                started_at=at,
                landing_url=url,
                referrer=referrer,
            )
        assert device.session_id is not None
        tally = self.tallies.get(device.session_id)
        if tally is None:
            self.tallies[device.session_id] = SessionTally(events=1, last_event_at=at)
        else:
            tally.events += 1
            tally.last_event_at = max(tally.last_event_at, at)
        device.last_seen = max(device.last_seen, at)
        return starts

    def new_rows(self) -> list[tuple]:
        """The sessions started, in order: (id, tenant, visitor, device, started, last
        event, event count, landing url, referrer)."""
        rows = []
        for s in self.started.values():
            tally = self.tallies[s.id]
            rows.append(
                (s.id, s.tenant_id, s.visitor_id, s.device_id, s.started_at,
                 tally.last_event_at, tally.events, s.landing_url, s.referrer)
            )  # fmt: skip
        return rows

    def additions(self) -> list[tuple[uuid.UUID, int, dt.datetime]]:
        """What the sessions that existed before the group gain: (session, events added,
        latest event)."""
        return [
            (pk, t.events, t.last_event_at)
            for pk, t in self.tallies.items()
            if pk not in self.started
        ]
