"""A strict SOQL engine for the Salesforce emulator.

`parse` turns text into a typed, cacheable syntax tree; `execute` resolves it against the
org's schema, filters, orders and pages rows from a `RecordSource`, and returns a
`QueryResult` whose `project` shapes a row the way Salesforce's REST query does. Anything
outside the supported subset raises `SoqlError` rather than returning rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .compiler import Compiler, order_getter, sort_rows
from .errors import unsupported_object
from .nodes import Query
from .ordering import presorted
from .parser import parse
from .projection import build_projection
from .resolver import Resolver
from .types import (
    FieldSchema,
    ObjectSchema,
    QueryResult,
    RecordSource,
    SchemaLookup,
    SoqlError,
)

__all__ = [
    "FieldSchema",
    "ObjectSchema",
    "Query",
    "QueryResult",
    "RecordSource",
    "SchemaLookup",
    "SoqlError",
    "execute",
    "parse",
]


def execute(
    soql_or_query: str | Query,
    *,
    schema: SchemaLookup,
    source: RecordSource,
    include_deleted: bool,
    now: datetime,
    api_version: str = "59.0",
) -> QueryResult:
    """Run one query. `include_deleted` is queryAll; `now` anchors TODAY, LAST_N_DAYS…"""
    query = parse(soql_or_query) if isinstance(soql_or_query, str) else soql_or_query
    root = schema.object_schema(query.object_name)
    if root is None:
        raise unsupported_object(query.text, query.object_pos, query.object_name)
    resolver = Resolver(schema, source, query.text)
    selected = [resolver.resolve(root, path) for path in query.fields]
    compiler = Compiler(resolver, root, now, include_deleted)
    predicate = compiler.compile(query.where) if query.where is not None else None
    ordered_by = [compiler.resolve(item.field) for item in query.order_by]
    keys = [
        (order_getter(resolved), item.descending, item.nulls_first)
        for resolved, item in zip(ordered_by, query.order_by, strict=True)
    ]

    scanned: Iterable[Mapping[str, Any]] = source.scan(root.name)
    ordered = None
    if keys and not query.is_count and not any(resolved.hops for resolved in ordered_by):
        # Ordered by the object's own fields only: reuse the presorted rows ("index").
        spec = tuple(
            (resolved.field.name, item.descending, item.nulls_first)
            for resolved, item in zip(ordered_by, query.order_by, strict=True)
        )
        ordered = presorted(source, root.name, spec, lambda: scanned, sort_rows, keys)
        if ordered is not None:
            scanned = ordered
    if include_deleted:
        rows = list(scanned) if predicate is None else [r for r in scanned if predicate(r)]
    elif predicate is None:
        rows = [r for r in scanned if not r.get("IsDeleted")]
    else:
        rows = [r for r in scanned if not r.get("IsDeleted") and predicate(r)]

    if keys and not query.is_count and ordered is None:
        sort_rows(rows, keys)
    start = query.offset or 0
    stop = None if query.limit is None else start + query.limit
    if start or stop is not None:
        rows = rows[start:stop]

    project = build_projection(resolver, root, selected, api_version)
    if query.is_count:
        return QueryResult(root.name, len(rows), [], project, is_count=True)
    return QueryResult(root.name, len(rows), rows, project)
