"""Room on each page of devices and sessions for their rows' next versions (PostgreSQL).

Every event moves its device's `last_seen_at` and its session's count and last event. On a
full page PostgreSQL writes the new row version to another page and adds an entry to every
index of the table; with a fifth of each page kept free and no indexed column changed, the
new version stays on its page and no index is touched (a HOT update). Visitors stay full:
their `last_seen_at` is indexed (the lists sort on it), so their updates touch the indexes
whatever the room. Pages written before this keep no room until the table is rewritten
(`VACUUM FULL`, or `pg_repack` without a lock)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLES = ("visitors_device", "visitors_session")
FILLFACTOR = 80


def keep_room(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def fill(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("visitors", "0008_ingest_lean_indexes")]

    operations = [migrations.RunPython(keep_room, fill, elidable=False)]
