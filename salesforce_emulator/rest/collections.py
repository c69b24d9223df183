"""sObject Collections: create/update/upsert/delete up to 200 records, retrieve by ids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from salesforce_emulator import dml
from salesforce_emulator.errors import ApiError
from salesforce_emulator.ids import to18
from salesforce_emulator.rest.call import Call, Reply
from salesforce_emulator.rest.sobjects import render

MAX_RECORDS = 200
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


def _too_many() -> ApiError:
    return ApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )


def _records(call: Call) -> tuple[list[Any], bool]:
    body = call.json()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must contain 'records'")
    if len(body["records"]) > MAX_RECORDS:
        raise _too_many()
    return body["records"], bool(body.get("allOrNone", False)) or call.force_all_or_none


def _result_error(exc: ApiError) -> dict[str, Any]:
    item = exc.result_item()
    if exc.error_code == "NOT_FOUND":
        item.update(statusCode="INVALID_CROSS_REFERENCE_KEY", message="invalid cross reference id")
    if exc.error_code == "ENTITY_IS_DELETED":
        item["message"] = "entity is deleted"
    return item


def run_each(
    call: Call,
    items: list[Any],
    op: Callable[[Any], dict[str, Any]],
    all_or_none: bool,
    ids: list[str | None],
) -> list[dict[str, Any]]:
    """Apply `op` to every item inside one transaction; roll all back if allOrNone fails."""
    org = call.org
    results: list[dict[str, Any]] = []
    failed = False
    with org.lock:
        mark = org.store.begin()
        for item, rid in zip(items, ids, strict=True):
            try:
                results.append(op(item))
            except ApiError as exc:
                failed = True
                res: dict[str, Any] = {"id": rid} if rid else {}
                res.update(success=False, errors=[_result_error(exc)])
                results.append(res)
        rollback = all_or_none and failed
        org.store.finish(mark, not rollback)
    if rollback:
        for i, (res, rid) in enumerate(zip(results, ids, strict=True)):
            if res["success"]:
                results[i] = ({"id": rid} if rid else {}) | {
                    "success": False,
                    "errors": [dict(_ROLLED_BACK)],
                }
    return results


def _reply(results: list[dict[str, Any]]) -> Reply:
    return Reply(body=results, failed=not all(r["success"] for r in results))


def _type_of(record: Any) -> str:
    if not isinstance(record, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
    t = (record.get("attributes") or {}).get("type")
    if not t:
        raise ApiError(400, "INVALID_TYPE", "No SObject Type defined in the attributes map")
    return t


def collection(call: Call) -> Reply:
    """`composite/sobjects`: POST creates, PATCH updates, DELETE deletes `?ids=`."""
    ctx = call.dml()
    org = call.org
    if call.method == "DELETE":
        ids = [i for i in (call.args.get("ids") or "").split(",") if i]
        if len(ids) > MAX_RECORDS:
            raise _too_many()
        all_or_none = (call.args.get("allOrNone") or "false").lower() == "true"
        all_or_none = all_or_none or call.force_all_or_none

        def do_delete(rid: str) -> dict[str, Any]:
            return {"id": dml.delete(org, None, rid, ctx), "success": True, "errors": []}

        return _reply(run_each(call, ids, do_delete, all_or_none, [to18(i) or i for i in ids]))
    records, all_or_none = _records(call)
    if call.method == "POST":
        for r in records:
            _type_of(r)
            if "id" in r or "Id" in r:
                raise ApiError(400, "INVALID_FIELD", "Can't specify an Id for a create operation")

        def do_create(r: dict[str, Any]) -> dict[str, Any]:
            new_id = dml.create(org, _type_of(r), r, ctx)
            return {"id": new_id, "success": True, "errors": []}

        return _reply(run_each(call, records, do_create, all_or_none, [None] * len(records)))
    if call.method == "PATCH":
        rids = [(r.get("id") or r.get("Id")) if isinstance(r, dict) else None for r in records]
        # Like Salesforce, a collection naming one record twice fails those records.
        named = Counter(to18(i) or i for i in rids if i)

        def do_update(r: dict[str, Any]) -> dict[str, Any]:
            rid = r.get("id") or r.get("Id")
            if not rid:
                raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
            if named[to18(rid) or rid] > 1:
                raise ApiError(400, "INVALID_FIELD", f"Duplicate id in list: {rid}", [])
            body = {k: v for k, v in r.items() if k not in ("id", "Id")}
            done = dml.update(org, _type_of(r), rid, body, ctx)
            return {"id": done, "success": True, "errors": []}

        return _reply(
            run_each(
                call, records, do_update, all_or_none, [to18(i) or i if i else None for i in rids]
            )
        )
    raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{call.method}' not allowed.")


def by_object(call: Call, obj: str) -> Reply:
    """`composite/sobjects/<Object>`: retrieve by ids (GET with params, POST with a body)."""
    o = dml.object_or_404(call.org, obj)
    if call.method == "GET":
        ids = [i for i in (call.args.get("ids") or "").split(",") if i]
        fields = [f for f in (call.args.get("fields") or "").split(",") if f]
    elif call.method == "POST":
        body = call.json() or {}
        ids, fields = list(body.get("ids") or []), list(body.get("fields") or [])
    else:
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{call.method}' not allowed.")
    if not fields:
        raise ApiError(400, "MISSING_ARGUMENT", "fields parameter must be specified")
    if len(ids) > (2000 if call.method == "POST" else MAX_RECORDS):
        raise _too_many()
    names = []
    for name in fields:
        f = o.field(name.strip())
        if f is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{o.name}'.")
        names.append(f.name)
    out: list[dict[str, Any] | None] = []
    for raw in ids:
        rid = to18(raw)
        row = call.org.store.rows.get(rid) if rid else None
        if row is None or row["IsDeleted"] or call.org.store.object_of(rid) != o.name:
            out.append(None)
        else:
            out.append(render(call.org, o, row, call.version, names))
    return Reply(body=out)


def upsert(call: Call, obj: str, field: str) -> Reply:
    """`PATCH composite/sobjects/<Object>/<ExternalIdField>`."""
    if call.method != "PATCH":
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{call.method}' not allowed.")
    o = dml.object_or_404(call.org, obj)
    f = o.field(field)
    if f is None or not (f.external_id or f.name == "Id"):
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"Field name provided, {field} is not an External ID or indexed field for {o.name}",
        )
    records, all_or_none = _records(call)
    ctx = call.dml()

    def do_upsert(r: dict[str, Any]) -> dict[str, Any]:
        if _type_of(r).lower() != o.name.lower():
            raise ApiError(400, "INVALID_TYPE", f"Record type must be {o.name}")
        value = next((v for k, v in r.items() if k.lower() == f.name.lower()), None)
        if value in (None, ""):
            raise ApiError(400, "MISSING_ARGUMENT", f"{f.name} not specified", [])
        try:
            rid, created = dml.upsert(call.org, o.name, f.name, str(value), r, ctx)
        except ApiError as exc:
            if exc.status == 300:
                raise ApiError(
                    400,
                    "DUPLICATE_EXTERNAL_ID",
                    f"{f.name}: more than one record found for external id field: "
                    f"{[u.rsplit('/', 1)[-1] for u in exc.extra['urls']]}",
                    [f.name],
                ) from None
            raise
        return {"id": rid, "success": True, "errors": [], "created": created}

    return _reply(run_each(call, records, do_upsert, all_or_none, [None] * len(records)))
