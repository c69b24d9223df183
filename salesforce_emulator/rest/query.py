"""`query` / `queryAll` with server-side cursors and `nextRecordsUrl` paging."""

from __future__ import annotations

import re
from typing import Any

from salesforce_emulator.errors import ApiError
from salesforce_emulator.rest.call import Call, Reply
from salesforce_emulator.soql import SoqlError, execute

DEFAULT_BATCH = 2000
MIN_BATCH = 200
_BATCH_RE = re.compile(r"batchSize\s*=\s*(-?\d+)", re.I)


def batch_size(call: Call) -> int:
    """`Sforce-Query-Options: batchSize=N`, clamped to Salesforce's 200..2000 (the header is a
    preference, never an error); a value that is not a number leaves the default 2,000."""
    m = _BATCH_RE.search(call.headers.get("Sforce-Query-Options", ""))
    if not m:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(m.group(1))))


def run(call: Call, include_deleted: bool) -> Reply:
    q = call.args.get("q")
    if q is None or not q.strip():
        raise ApiError(400, "MALFORMED_QUERY", "A query string must be provided.")
    return Reply(body=query_body(call, q, include_deleted))


def query_body(call: Call, q: str, include_deleted: bool) -> dict[str, Any]:
    org = call.org
    size = batch_size(call)
    with org.lock:
        try:
            result = execute(
                q,
                schema=org.schema,
                source=org.store,
                include_deleted=include_deleted,
                now=org.clock.now(),
                api_version=call.version,
            )
        except SoqlError as exc:
            raise ApiError(400, exc.error_code, exc.message) from None
        if result.is_count:
            return {"totalSize": result.total_size, "done": True, "records": []}
        rows = result.rows
        project = result.project
        page = [project(r) for r in rows[:size]]
    body: dict[str, Any] = {"totalSize": result.total_size, "done": len(rows) <= size}
    if len(rows) > size:
        cursor = org.cursors.open(result, size, include_deleted)
        kind = "queryAll" if include_deleted else "query"
        body["nextRecordsUrl"] = f"{call.base()}/{kind}/{cursor.locator}-{size}"
    body["records"] = page
    return body


def more(call: Call, locator: str) -> Reply:
    """`query/01g...-2000`: the page starting at the offset after the dash."""
    cursor_id, _, offset_text = locator.partition("-")
    cursor = call.org.cursors.get(cursor_id)
    if cursor is None or not offset_text.isdigit():
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    offset = int(offset_text)
    rows = cursor.result.rows
    if offset >= len(rows):
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    stop = offset + cursor.batch_size
    project = cursor.result.project
    with call.org.lock:
        page = [project(r) for r in rows[offset:stop]]
    body: dict[str, Any] = {"totalSize": cursor.result.total_size, "done": stop >= len(rows)}
    if stop < len(rows):
        kind = "queryAll" if cursor.include_deleted else "query"
        body["nextRecordsUrl"] = f"{call.base()}/{kind}/{cursor.locator}-{stop}"
    body["records"] = page
    return Reply(body=body)
