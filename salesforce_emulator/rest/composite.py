"""`composite`: up to 25 subrequests in one API call, `@{ref.path}` references, allOrNone.

Subrequests may be sObject, query/queryAll and collection resources; at most 5 of them may
be queries or collections, as on a real org. References reach into bodies (`@{ref.id}`,
`@{q.records[0].Id}`, `@{coll[0].id}`). With allOrNone=true the composite's flag also
applies to its collection subrequests, overriding theirs, as Salesforce documents.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import Headers, MultiDict

from salesforce_emulator.errors import ApiError
from salesforce_emulator.rest.call import Call, Reply

MAX_SUBREQUESTS = 25
MAX_QUERIES_OR_COLLECTIONS = 5
_REF_RE = re.compile(r"@\{([^}]*)\}")
_REF_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_REF_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_HALTED = (
    "PROCESSING_HALTED",
    "The transaction was rolled back since another operation in the same transaction failed.",
)
_ALLOWED = {
    "sobject_root",
    "record",
    "upsert",
    "query",
    "query_all",
    "query_more",
    "collection",
    "collection_object",
    "collection_upsert",
    "describe",
    "describe_global",
    # getUpdated / getDeleted are sObject resources, which composite accepts.
    "updated",
    "deleted",
}
_HEAVY = {
    "query",
    "query_all",
    "query_more",
    "collection",
    "collection_object",
    "collection_upsert",
}


class _Unresolved(Exception):
    pass


def _lookup(results: dict[str, Any], expr: str) -> Any:
    """`ref.field`, `ref.records[0].Id` or, for a collection's list, `ref[0].id`."""
    m = _REF_NAME_RE.match(expr)
    ref, path = (m.group(0), expr[m.end() :]) if m else (expr, "")
    if ref not in results or results[ref] is None:
        raise _Unresolved(expr)
    value = results[ref]
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError, TypeError):
            raise _Unresolved(expr) from None
    return value


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REF_RE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1))
        return _REF_RE.sub(lambda m: str(_lookup(results, m.group(1))), value)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value


def _limit_error(message: str) -> ApiError:
    return ApiError(400, "INVALID_INPUT", message)


# Long on purpose: Salesforce's composite rules, checked in the order Salesforce applies them.
def composite(call: Call) -> Reply:  # noqa: C901
    from salesforce_emulator.rest import routes

    body = call.json()
    reqs = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(reqs, list) or not reqs:
        raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty array")
    if len(reqs) > MAX_SUBREQUESTS:
        raise _limit_error(f"Composite request may contain at most {MAX_SUBREQUESTS} subrequests")
    all_or_none = bool(body.get("allOrNone", False))
    plans = []
    seen: set[str] = set()
    heavy = 0
    for sub in reqs:
        ref = sub.get("referenceId") if isinstance(sub, dict) else None
        if not ref or not _REF_ID_RE.match(ref) or ref in seen:
            raise ApiError(400, "INVALID_INPUT", f"Invalid or duplicate referenceId: {ref}")
        seen.add(ref)
        parts = urlsplit(sub.get("url") or "")
        endpoint, _ = routes.match(_REF_RE.sub("x", parts.path), (sub.get("method") or "").upper())
        if endpoint not in _ALLOWED:
            raise ApiError(
                400, "INVALID_INPUT", f"The resource {parts.path} is not supported in composite"
            )
        heavy += endpoint in _HEAVY
        plans.append(sub)
    if heavy > MAX_QUERIES_OR_COLLECTIONS:
        raise _limit_error(
            "Composite request may contain at most 5 query or collection subrequests"
        )

    org = call.org
    results: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    with org.lock:
        mark = org.store.begin()
        failed_at = None
        for i, sub in enumerate(plans):
            ref = sub["referenceId"]
            reply = _run_sub(call, sub, results, all_or_none)
            ok = reply.status < 300 and not (all_or_none and reply.failed)
            results[ref] = reply.body if ok else None
            out.append(
                {
                    "body": reply.body,
                    "httpHeaders": reply.headers,
                    "httpStatusCode": reply.status,
                    "referenceId": ref,
                }
            )
            if not ok and all_or_none:
                failed_at = i
                break
        org.store.finish(mark, failed_at is None)
    if failed_at is not None:
        halted = [{"errorCode": _HALTED[0], "message": _HALTED[1]}]
        for i, sub in enumerate(plans):
            if i == failed_at:
                continue
            entry = {
                "body": halted,
                "httpHeaders": {},
                "httpStatusCode": 400,
                "referenceId": sub["referenceId"],
            }
            if i < failed_at:
                out[i] = entry
            else:
                out.append(entry)
    return Reply(body={"compositeResponse": out})


def _run_sub(call: Call, sub: dict[str, Any], results: dict[str, Any], all_or_none: bool) -> Reply:
    from salesforce_emulator.rest import routes

    method = (sub.get("method") or "").upper()
    try:
        url = _substitute(sub.get("url") or "", results)
        payload = _substitute(sub.get("body"), results) if "body" in sub else None
    except _Unresolved as exc:
        expr = exc.args[0]
        m = _REF_NAME_RE.match(expr)
        message = (
            f"Invalid reference specified. No value for {expr} found in "
            f"{m.group(0) if m else expr}."
        )
        return Reply(400, [{"errorCode": "PROCESSING_HALTED", "message": message}])
    parts = urlsplit(url)
    headers = Headers(call.headers)
    for k, v in (sub.get("httpHeaders") or {}).items():
        headers[k] = v
    sub_call = Call(
        emu=call.emu,
        org=call.org,
        token=call.token,
        version=call.version,
        method=method,
        args=MultiDict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        raw_body=json.dumps(payload).encode() if payload is not None else b"",
        in_composite=True,
        force_all_or_none=all_or_none,
    )
    try:
        endpoint, args = routes.match(parts.path, method)
        reply = routes.handle(sub_call, endpoint, args)
    except ApiError as exc:
        body = exc.extra["urls"] if exc.status == 300 else exc.body()
        return Reply(exc.status, body)
    return reply
