"""Trigram indexes for the lists' free-text search ("contains", case-insensitive) on
PostgreSQL: visitors by first name, last name and email, companies by name and domain. The
segment engine searches each table on its own (a union of ids) so these can be used.
Created concurrently (no write lock on the visitor table during ingest); other databases
search by scanning, which is fine at their size."""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEXES = [
    ("visitors_visitor_first_trgm", "visitors_visitor", "first_name"),
    ("visitors_visitor_last_trgm", "visitors_visitor", "last_name"),
    ("visitors_visitor_email_trgm", "visitors_visitor", "email"),
    ("visitors_company_name_trgm", "visitors_company", "name"),
    ("visitors_company_domain_trgm", "visitors_company", "domain"),
]


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        # UPPER(...) is the expression Django's icontains compares on PostgreSQL.
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
            f"ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("visitors", "0002_segments_alerts")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
