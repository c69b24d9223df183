"""Versions, resources, limits, describe, sObject CRUD and getUpdated/getDeleted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from salesforce_emulator import dml
from salesforce_emulator.clock import fmt_datetime, parse_datetime
from salesforce_emulator.errors import ApiError
from salesforce_emulator.org import Org
from salesforce_emulator.rest.call import Call, Reply
from salesforce_emulator.schema.describe import describe_global, describe_object, metadata
from salesforce_emulator.soql.types import ObjectSchema

SUPPORTED_VERSIONS = [f"{v}.0" for v in range(31, 63)]


def _release_label(version: str) -> str:
    k = int(float(version)) - 59
    season = ("Winter", "Spring", "Summer")[k % 3]
    return f"{season} '{24 + (k - k % 3) // 3:02d}"


def versions() -> list[dict[str, str]]:
    return [
        {"label": _release_label(v), "url": f"/services/data/v{v}", "version": v}
        for v in SUPPORTED_VERSIONS
    ]


def resources(call: Call) -> Reply:
    b = call.base()
    names = ("sobjects", "query", "queryAll", "limits", "composite")
    return Reply(body={n: f"{b}/{n}" for n in names})


def limits(call: Call) -> Reply:
    """Documented limit names for the call's API version; only DailyApiRequests moves."""
    alloc = call.org.settings.api_allocation
    body = {
        "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
        "DailyApiRequests": {"Max": alloc, "Remaining": max(alloc - call.org.api_used, 0)},
        "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 5, "Remaining": 5},
        "FileStorageMB": {"Max": 20, "Remaining": 20},
        "HourlyTimeBasedWorkflow": {"Max": 50, "Remaining": 50},
        "SingleEmail": {"Max": 15, "Remaining": 15},
    }
    if float(call.version) < 49.0:  # renamed DailyBulkApiBatches in 49.0
        body["DailyBulkApiRequests"] = body.pop("DailyBulkApiBatches")
    if float(call.version) < 47.0:  # Bulk API 2.0 query limits appeared in 47.0
        del body["DailyBulkV2QueryFileStorageMB"], body["DailyBulkV2QueryJobs"]
    return Reply(body=dict(sorted(body.items())))


def _obj(call: Call, name: str) -> ObjectSchema:
    return dml.object_or_404(call.org, name)


def describe_all(call: Call) -> Reply:
    return Reply(body=describe_global(list(call.org.schema.objects.values()), call.version))


def describe(call: Call, obj: str) -> Reply:
    o = _obj(call, obj)
    children = [
        (child.name, f)
        for child in call.org.schema.objects.values()
        for f in child.fields.values()
        if o.name in f.reference_to
        and f.relationship_name
        and f.name not in ("CreatedById", "LastModifiedById", "OwnerId", "MasterRecordId")
    ]
    return Reply(body=describe_object(o, call.version, children))


def sobject_root(call: Call, obj: str) -> Reply:
    """`GET sobjects/X/` is metadata; `POST sobjects/X/` creates."""
    o = _obj(call, obj)
    if call.method == "GET":
        return Reply(body=metadata(o, call.version))
    with call.org.lock:
        new_id = dml.create(call.org, o.name, call.json(), call.dml())
    return Reply(
        201,
        {"id": new_id, "success": True, "errors": []},
        {"Location": f"{call.base()}/sobjects/{o.name}/{new_id}"},
    )


def render(
    org: Org, o: ObjectSchema, row: dict[str, Any], version: str, fields: list[str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {
            "type": o.name,
            "url": f"/services/data/v{version}/sobjects/{o.name}/{row['Id']}",
        }
    }
    names = fields if fields is not None else list(o.fields)
    for name in names:
        out[name] = row.get(name)
    return out


def _field_list(o: ObjectSchema, param: str | None) -> list[str] | None:
    if not param:
        return None
    names = []
    for raw in param.split(","):
        f = o.field(raw.strip())
        if f is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{raw.strip()}' on entity '{o.name}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after "
                "the custom field name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        names.append(f.name)
    return names


def record(call: Call, obj: str, record_id: str) -> Reply:
    o = _obj(call, obj)
    org = call.org
    if call.method == "GET":
        o, row = dml.live_row(org, o, record_id)
        return Reply(
            body=render(org, o, row, call.version, _field_list(o, call.args.get("fields")))
        )
    if call.method == "PATCH":
        with org.lock:
            dml.update(org, o.name, record_id, call.json() or {}, call.dml())
        return Reply(204)
    if call.method == "DELETE":
        with org.lock:
            dml.delete(org, o.name, record_id, call.dml())
        return Reply(204)
    if call.method == "POST" and record_id.lower() == "id":
        return upsert(call, obj, "Id", "")
    raise ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{call.method}' not allowed. Allowed are GET,PATCH,DELETE",
    )


def upsert(call: Call, obj: str, field: str, value: str) -> Reply:
    o = _obj(call, obj)
    org = call.org
    if call.method == "GET":
        f = o.field(field)
        if f is None or not (f.external_id or f.name == "Id" or f.unique):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field}",
            )
        rows = dml.find_by_field(org, o, f, value)
        if not rows:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rows) > 1:
            return Reply(300, [f"{call.base()}/sobjects/{o.name}/{r['Id']}" for r in rows])
        return Reply(
            body=render(org, o, rows[0], call.version, _field_list(o, call.args.get("fields")))
        )
    if call.method == "DELETE":
        f = o.field(field)
        rows = dml.find_by_field(org, o, f, value) if f and f.external_id else []
        if not rows:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rows) > 1:
            return Reply(300, [f"{call.base()}/sobjects/{o.name}/{r['Id']}" for r in rows])
        with org.lock:
            dml.delete(org, o.name, rows[0]["Id"], call.dml())
        return Reply(204)
    if call.method not in ("PATCH", "POST"):
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{call.method}' not allowed.")
    body = call.json() or {}
    update_only = (call.args.get("updateOnly") or "").lower() == "true"
    with org.lock:
        try:
            new_id, created = dml.upsert(
                org, o.name, field, value, body, call.dml(), update_only=update_only
            )
        except ApiError as exc:
            if exc.status == 300:
                return Reply(300, exc.extra["urls"])
            raise
    payload = {"id": new_id, "success": True, "errors": []}
    if float(call.version) < 46.0:  # `created` and the 200 for updates arrived in 46.0
        return Reply(201, payload) if created else Reply(204)
    return Reply(201 if created else 200, payload | {"created": created})


def _window(call: Call) -> tuple[datetime, datetime]:
    out = []
    for key in ("start", "end"):
        raw = call.args.get(key)
        if not raw:
            raise ApiError(400, "MISSING_ARGUMENT", f"{key} was not specified")
        try:
            dt = parse_datetime(raw, assume_utc=False)
        except ValueError:
            raise ApiError(
                400,
                "INVALID_REPLICATION_DATE",
                f"Invalid {key} date: {raw}; use ISO-8601 with a time zone",
            ) from None
        out.append(dt.replace(second=0, microsecond=0))
    start, end = out
    now = call.org.clock.now().replace(second=0)
    # Salesforce ignores seconds and refuses a start that is not before the end.
    if start >= min(end, now):
        raise ApiError(400, "INVALID_REPLICATION_DATE", "start date must precede end date")
    return start, min(end, now)


MAX_REPLICATION_IDS = 600_000


def _check_id_limit(found: int) -> None:
    """getUpdated/getDeleted answer at most 600,000 ids; more asks for a narrower window."""
    if found > MAX_REPLICATION_IDS:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"{found} ids found: more than {MAX_REPLICATION_IDS}; choose start and end dates "
            "closer together",
        )


def updated(call: Call, obj: str) -> Reply:
    o = _obj(call, obj)
    start, end = _window(call)
    if start < call.org.clock.now() - timedelta(days=30):
        raise ApiError(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago")
    lo, hi = fmt_datetime(start), fmt_datetime(end)
    with call.org.lock:
        ids = [
            r["Id"]
            for r in call.org.store.scan(o.name)
            if not r["IsDeleted"] and lo <= r["SystemModstamp"] < hi
        ]
    _check_id_limit(len(ids))
    return Reply(body={"ids": ids, "latestDateCovered": hi})


def deleted(call: Call, obj: str) -> Reply:
    o = _obj(call, obj)
    start, end = _window(call)
    earliest = (call.org.clock.now() - timedelta(days=15)).replace(second=0)
    if start < earliest:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 15 days ago")
    lo, hi = fmt_datetime(start), fmt_datetime(end)
    with call.org.lock:
        recs = [
            {"id": r["Id"], "deletedDate": r["SystemModstamp"]}
            for r in call.org.store.scan(o.name)
            if r["IsDeleted"] and lo <= r["SystemModstamp"] < hi
        ]
    _check_id_limit(len(recs))
    return Reply(
        body={
            "deletedRecords": recs,
            "earliestDateAvailable": fmt_datetime(earliest),
            "latestDateCovered": hi,
        }
    )
