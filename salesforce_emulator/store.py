"""In-memory record store of one org; implements the SOQL engine's `RecordSource`.

Rows are never mutated in place: a write replaces the row dict, so a query cursor keeps a
consistent snapshot of the rows it matched, and a rollback simply restores old dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from salesforce_emulator.ids import to18
from salesforce_emulator.persistence import Persistence

ACTIVITY_OBJECTS = ("Task", "Event")


class OrgStore:
    def __init__(self, persistence: Persistence | None = None, number: int = 0) -> None:
        self.persistence = persistence
        self.number = number
        self.rows: dict[str, dict[str, Any]] = {}
        self.types: dict[str, str] = {}
        self.by_object: dict[str, dict[str, dict[str, Any]]] = {}
        # Bumped on every change to an object's rows, so cached query orders know they're stale.
        self.revisions: dict[str, int] = {}
        # Id of an Account/Contact/Lead/Opportunity -> Ids of Tasks/Events pointing at it.
        self.activities: dict[str, set[str]] = {}
        self._journal: list[tuple[str, str, dict[str, Any] | None]] | None = None
        self._pending: dict[str, tuple[str, dict[str, Any] | None]] = {}
        if persistence is not None:
            persistence.ensure_records(number)

    # --- RecordSource --------------------------------------------------------------------
    def scan(self, object_name: str) -> Iterable[Mapping[str, Any]]:
        rows = self.by_object.get(object_name)
        if rows is None:
            for name, r in self.by_object.items():
                if name.lower() == object_name.lower():
                    return r.values()
            return ()
        return rows.values()

    def revision(self, object_name: str) -> int:
        """Changes so far to `object_name`'s rows (lets the SOQL engine reuse sorted orders)."""
        return self.revisions.get(object_name, 0)

    def get(self, record_id: str) -> Mapping[str, Any] | None:
        rid = record_id if len(record_id) == 18 and record_id in self.rows else to18(record_id)
        return self.rows.get(rid) if rid else None

    # --- writes --------------------------------------------------------------------------
    def object_of(self, record_id: str) -> str | None:
        return self.types.get(record_id)

    def put(self, object_name: str, row: dict[str, Any]) -> None:
        """Insert or replace one row (journaled inside a transaction, persisted on commit)."""
        rid = row["Id"]
        old = self.rows.get(rid)
        if self._journal is not None:
            self._journal.append((rid, object_name, old))
        self._set(object_name, rid, row, old)
        self._pending[rid] = (object_name, row)
        if self._journal is None:
            self.flush()

    def _set(self, obj: str, rid: str, row: dict[str, Any] | None, old: dict[str, Any] | None):
        self.revisions[obj] = self.revisions.get(obj, 0) + 1
        if obj in ACTIVITY_OBJECTS:
            for key in ("WhoId", "WhatId"):
                if old and old.get(key):
                    self.activities.get(old[key], set()).discard(rid)
                if row and row.get(key):
                    self.activities.setdefault(row[key], set()).add(rid)
        if row is None:
            self.rows.pop(rid, None)
            self.types.pop(rid, None)
            self.by_object.get(obj, {}).pop(rid, None)
        else:
            self.rows[rid] = row
            self.types[rid] = obj
            self.by_object.setdefault(obj, {})[rid] = row

    def bulk_load(self, rows: Iterable[tuple[str, dict[str, Any]]], persist: bool = True) -> int:
        """Insert many (object, row) pairs without validation (generator, raw seeding, load)."""
        batch = []
        for obj, row in rows:
            self._set(obj, row["Id"], row, self.rows.get(row["Id"]))
            batch.append((row["Id"], obj, row))
        if persist and self.persistence is not None and batch:
            self.persistence.write_rows(self.number, batch)
        return len(batch)

    def purge(self, record_id: str) -> None:
        """Remove a row for good (emptying the recycle bin)."""
        obj = self.types.get(record_id)
        if obj is None:
            return
        old = self.rows.get(record_id)
        if self._journal is not None:
            self._journal.append((record_id, obj, old))
        self._set(obj, record_id, None, old)
        self._pending[record_id] = (obj, None)
        if self._journal is None:
            self.flush()

    def clear(self) -> None:
        for obj in self.revisions:
            self.revisions[obj] += 1
        self.rows.clear()
        self.types.clear()
        self.by_object.clear()
        self.activities.clear()
        self._pending.clear()
        if self.persistence is not None:
            self.persistence.clear_rows(self.number)

    # --- transactions --------------------------------------------------------------------
    def begin(self) -> int | None:
        """Open a transaction, or a savepoint inside one; pass the mark back to `finish`."""
        if self._journal is None:
            self._journal = []
            return None
        return len(self._journal)

    def finish(self, mark: int | None, ok: bool) -> None:
        """Commit (ok) or roll back to `mark`; the outermost finish also persists."""
        journal = self._journal or []
        if not ok:
            start = mark or 0
            for rid, obj, old in reversed(journal[start:]):
                self._set(obj, rid, old, self.rows.get(rid))
                self._pending[rid] = (obj, old)
            del journal[start:]
        if mark is None:
            self._journal = None
            self.flush()

    @property
    def in_transaction(self) -> bool:
        return self._journal is not None

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        if self.persistence is not None:
            self.persistence.write_rows(
                self.number, [(rid, obj, row) for rid, (obj, row) in pending.items()]
            )
