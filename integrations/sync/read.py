"""The read sync: mirror a tenant's Salesforce org into `crm`, cheaply and safely.

- A first (or stale, or requested) **full read** of an object pages through `queryAll`
  2,000 rows at a time, ordered by (SystemModstamp, Id), and upserts each page in bulk.
  Deleted rows in the recycle bin come along (merges too, via `MasterRecordId`); rows we hold
  that Salesforce no longer returns at all are marked deleted.
- A **poll** asks "did anything change?" for every object in one composite call
  (getUpdated + getDeleted per object, each from where the last poll stopped). Objects with
  updates are read with `SystemModstamp >= watermark` and an Id tie-break; deletions are
  marked, and merges followed. Nothing changed = one API call.
- Watermarks advance after every page, so a run stopped by the API budget, an outage or a
  crash resumes where it stopped and upserts make re-reading harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from simple_salesforce.format import format_soql

from crm import services as crm_services
from crm.models import Stage
from integrations.models import SalesforceConnection, SyncRun, SyncState
from integrations.salesforce.client import Changes, SalesforceClient
from integrations.salesforce.mapping import (
    ENGAGEMENT_TYPE_MODEL,
    SPECS,
    SPECS_BY_OBJECT,
    MappingContext,
    ObjectSpec,
    engagement_type_rows,
)

log = logging.getLogger(__name__)

# getDeleted reaches back 15 days and getUpdated 30: older checkpoints need a full read.
MAX_CHECKPOINT_AGE = dt.timedelta(days=14)
CHECKPOINT_MARGIN = dt.timedelta(minutes=10)
MIN_WINDOW = dt.timedelta(minutes=2)
ID_CHUNK = 500  # ids per `Id IN (...)` lookup: well inside the 16 KB URI limit
Progress = Callable[[str, int, int], None]  # (object, rows read, rows in the query)


@dataclass
class ObjectCounts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    merged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass
class ReadSync:
    """One run over one tenant. Build it with `read_sync_run`, which claims the tenant."""

    connection: SalesforceConnection
    client: SalesforceClient
    run: SyncRun
    full: bool = False
    objects: tuple[str, ...] = tuple(spec.sobject for spec in SPECS)
    progress: Progress | None = None
    # Called after every page: renews the run's claim, raises if it was lost.
    keepalive: Callable[[], None] | None = None
    counts: dict[str, ObjectCounts] = field(default_factory=dict)
    full_reads: list[str] = field(default_factory=list)

    @property
    def tenant(self) -> Any:
        return self.connection.tenant

    def changed_records(self) -> bool:
        """Whether this run created, updated, deleted or merged mirrored records."""
        return any(c.created or c.updated or c.deleted or c.merged for c in self.counts.values())

    # --- entry point -----------------------------------------------------------------------
    def execute(self) -> None:
        crm_services.mirror_upsert(
            tenant=self.tenant, model=ENGAGEMENT_TYPE_MODEL, rows=engagement_type_rows()
        )
        states = self._states()
        now = timezone.now()
        stale = {
            o
            for o in self.objects
            if self.full
            or states[o].changes_checked_until is None
            or states[o].full_started_at is not None
            or states[o].changes_checked_until < now - MAX_CHECKPOINT_AGE
        }
        # getUpdated/getDeleted refuse a window that does not span a whole minute: objects
        # checked moments ago wait for the next poll.
        polled = {
            o: states[o].changes_checked_until
            for o in self.objects
            if o not in stale and states[o].changes_checked_until <= now - MIN_WINDOW
        }
        changes = self.client.changed_since(polled, end=now) if polled else {}
        for name, change in changes.items():
            start = polled[name]
            if change.error or (change.deleted_since and change.deleted_since > start):
                # The window cannot be trusted (e.g. the delete log was purged): read it all.
                log.warning("Full read of %s for tenant %s: %s", name, self.tenant.pk, change.error)
                stale.add(name)
        ctx = MappingContext(pipeline_source=self.connection.pipeline_source)
        for spec in SPECS:  # dependency order: parents first
            name = spec.sobject
            if name not in self.objects:
                continue
            if name == "Opportunity":
                ctx.stage_ids = self._stage_ids()
            state = states[name]
            if name in stale:
                self._full_read(spec, state, ctx, started=now)
                self.full_reads.append(name)
            elif name in changes:
                self._apply_changes(spec, state, ctx, changes[name], since=polled[name])
        if self.full_reads:
            crm_services.mirror_analyze(
                models={SPECS_BY_OBJECT[name].model for name in self.full_reads}
            )
        if self.full_reads or any(c.read or c.deleted for c in self.counts.values()):
            crm_services.account_contact_counts_refresh(tenant=self.tenant)

    def _apply_changes(
        self,
        spec: ObjectSpec,
        state: SyncState,
        ctx: MappingContext,
        change: Changes,
        *,
        since: dt.datetime,
    ) -> None:
        if change.updated_ids:
            self._incremental_read(spec, state, ctx, since=since)
        if change.deleted_ids:
            self._deletions(spec, change.deleted_ids)
        state.changes_checked_until = change.covered_until
        state.save(update_fields=["changes_checked_until"])

    # --- reading ---------------------------------------------------------------------------
    def _states(self) -> dict[str, SyncState]:
        existing = {
            s.object_name: s
            for s in SyncState.objects.for_tenant(self.tenant).filter(object_name__in=self.objects)
        }
        for name in self.objects:
            if name not in existing:
                existing[name] = SyncState.objects.create(tenant=self.tenant, object_name=name)
        return existing

    def _select(self, spec: ObjectSpec, state: SyncState) -> str:
        fields = spec.fields(self.client.field_names(spec.sobject))
        if state.fields != fields:
            state.fields = fields
            state.save(update_fields=["fields"])
        return f"SELECT {', '.join(fields)} FROM {spec.sobject}"

    def _full_read(
        self, spec: ObjectSpec, state: SyncState, ctx: MappingContext, *, started: dt.datetime
    ) -> None:
        resumed = state.full_started_at is not None and not self.full
        if not resumed:
            state.full_started_at = started
            state.watermark, state.watermark_id = None, ""
            state.save(update_fields=["full_started_at", "watermark", "watermark_id"])
        where = self._after_watermark(state) if resumed else ""
        soql = f"{self._select(spec, state)}{where} ORDER BY SystemModstamp, Id"
        seen = self._read(spec, state, ctx, soql, include_deleted=True)
        if not resumed:
            # Rows Salesforce no longer returns at all (purged from the recycle bin).
            live = set(
                spec.model.objects.for_tenant(self.tenant)
                .filter(remote_was_deleted=False, remote_id__startswith=spec.key_prefix)
                .values_list("remote_id", flat=True)
            )
            gone = live - seen
            self._count(spec).deleted += crm_services.mirror_mark_deleted(
                tenant=self.tenant, model=spec.model, remote_ids=gone
            )
            for model, _ in spec.also:
                crm_services.mirror_mark_deleted(tenant=self.tenant, model=model, remote_ids=gone)
        # Changes made while we read are re-checked by the next poll; the margin also covers
        # a clock ahead of Salesforce's (upserts make re-reading harmless).
        state.changes_checked_until = state.full_started_at - CHECKPOINT_MARGIN
        state.full_started_at = None
        state.last_full_sync_at = timezone.now()
        state.save(update_fields=["changes_checked_until", "full_started_at", "last_full_sync_at"])

    def _incremental_read(
        self, spec: ObjectSpec, state: SyncState, ctx: MappingContext, *, since: dt.datetime
    ) -> None:
        """Rows changed since the earlier of the watermark and the checked window's start.
        A transaction that commits late carries a stamp older than rows we already read:
        getUpdated reports it in the next window, so the read must reach back that far.
        `>=`, not `>`: stamps have second precision, and re-reading is harmless."""
        start = min(state.watermark, since) if state.watermark else since
        where = format_soql(" WHERE SystemModstamp >= {}", start)
        soql = f"{self._select(spec, state)}{where} ORDER BY SystemModstamp, Id"
        self._read(spec, state, ctx, soql, include_deleted=False)

    @staticmethod
    def _after_watermark(state: SyncState) -> str:
        """Rows after (watermark, watermark_id), to resume a full read that stopped between
        two pages: rows sharing the boundary's timestamp are neither skipped nor re-read."""
        if state.watermark is None:
            return ""
        return format_soql(
            " WHERE (SystemModstamp > {wm} OR (SystemModstamp = {wm} AND Id > {wid}))",
            wm=state.watermark,
            wid=state.watermark_id or "000000000000000AAA",
        )

    def _read(
        self,
        spec: ObjectSpec,
        state: SyncState,
        ctx: MappingContext,
        soql: str,
        *,
        include_deleted: bool,
    ) -> set[str]:
        counts = self._count(spec)
        seen: set[str] = set()
        for page in self.client.query_pages(soql, include_deleted=include_deleted):
            if not page:
                break
            self._apply(spec, ctx, page, counts)
            seen.update(r["Id"] for r in page)
            last = page[-1]
            state.watermark = last["SystemModstamp"]
            state.watermark_id = last["Id"]
            state.save(update_fields=["watermark", "watermark_id"])
            counts.read += len(page)
            if self.keepalive:
                self.keepalive()
            if self.progress:
                self.progress(spec.sobject, len(seen), self.client.last_total_size)
        return seen

    def _apply(
        self,
        spec: ObjectSpec,
        ctx: MappingContext,
        records: list[dict[str, Any]],
        counts: ObjectCounts,
    ) -> None:
        rows = [spec.to_row(r, ctx) for r in records]
        result = crm_services.mirror_upsert(tenant=self.tenant, model=spec.model, rows=rows)
        counts.created += result.created
        counts.updated += result.updated
        counts.unchanged += result.unchanged
        for model, mapper in spec.also:
            mapped = [(r["Id"], mapper(r, ctx)) for r in records]
            extra = [row for _, row in mapped if row is not None]
            if extra:
                crm_services.mirror_upsert(tenant=self.tenant, model=model, rows=extra)
            # A Task that is no longer a call or an email is no longer an engagement.
            crm_services.mirror_mark_deleted(
                tenant=self.tenant, model=model, remote_ids=[i for i, row in mapped if row is None]
            )
        if spec.mergeable:
            self._merges(spec, [r for r in records if r.get("IsDeleted")], counts)

    # --- deletions and merges --------------------------------------------------------------
    def _deletions(self, spec: ObjectSpec, deleted_ids: list[str]) -> None:
        counts = self._count(spec)
        counts.deleted += crm_services.mirror_mark_deleted(
            tenant=self.tenant, model=spec.model, remote_ids=deleted_ids
        )
        for model, _ in spec.also:
            crm_services.mirror_mark_deleted(
                tenant=self.tenant, model=model, remote_ids=deleted_ids
            )
        if not spec.mergeable:
            return
        # getDeleted does not say whether a record was merged away: ask for the losers.
        for chunk in _chunks(deleted_ids, ID_CHUNK):
            soql = format_soql(
                f"SELECT Id, MasterRecordId FROM {spec.sobject} "
                "WHERE Id IN {ids} AND MasterRecordId != null",
                ids=chunk,
            )
            rows = self.client.query_all(soql, include_deleted=True)
            self._merges(spec, rows, counts)

    def _merges(self, spec: ObjectSpec, records: Iterable[dict[str, Any]], counts: ObjectCounts):
        for record in records:
            master = record.get("MasterRecordId")
            if master:
                crm_services.mirror_merge(
                    tenant=self.tenant,
                    model=spec.model,
                    loser_remote_id=record["Id"],
                    master_remote_id=master,
                )
                counts.merged += 1

    # --- helpers ---------------------------------------------------------------------------
    def _count(self, spec: ObjectSpec) -> ObjectCounts:
        return self.counts.setdefault(spec.sobject, ObjectCounts())

    def _stage_ids(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        for stage in Stage.objects.for_tenant(self.tenant).filter(remote_was_deleted=False):
            for key in (stage.name, stage.remote_data.get("ApiName")):
                if key:
                    ids[str(key).lower()] = stage.remote_id
        return ids


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def validate_objects(names: Iterable[str]) -> tuple[str, ...]:
    unknown = [n for n in names if n not in SPECS_BY_OBJECT]
    if unknown:
        raise ValueError(
            f"Unknown object(s) {', '.join(unknown)}; choose from {', '.join(SPECS_BY_OBJECT)}."
        )
    return tuple(names)
