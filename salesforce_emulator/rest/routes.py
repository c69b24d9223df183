"""URL map for `/services/data/vNN.N/...` and dispatch to handlers.

Trailing slashes are optional everywhere (simple-salesforce uses both forms), and the
version in the URL is echoed back in every URL the emulator returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, Rule

from salesforce_emulator.errors import ApiError
from salesforce_emulator.rest import collections, composite, query, sobjects
from salesforce_emulator.rest.call import Call, Reply

V = "/services/data/v<version:version>"


class VersionConverter(BaseConverter):
    """`59.0`-style API versions."""

    regex = r"\d+\.\d"


def _rules() -> list[Rule]:
    r = []

    def add(path: str, endpoint: str, methods: tuple[str, ...] = ("GET",)) -> None:
        r.append(
            Rule(
                V + path,
                endpoint=endpoint,
                methods=list(methods),
                strict_slashes=False,
                merge_slashes=False,
            )
        )

    add("", "resources")
    add("/limits", "limits")
    add("/sobjects", "describe_global")
    add("/sobjects/<obj>", "sobject_root", ("GET", "POST"))
    add("/sobjects/<obj>/describe", "describe")
    add("/sobjects/<obj>/updated", "updated")
    add("/sobjects/<obj>/deleted", "deleted")
    add("/sobjects/<obj>/<record_id>", "record", ("GET", "PATCH", "DELETE", "POST"))
    add("/sobjects/<obj>/<field>/<path:value>", "upsert", ("GET", "PATCH", "POST", "DELETE"))
    add("/query", "query")
    add("/query/<locator>", "query_more")
    add("/queryAll", "query_all")
    add("/queryAll/<locator>", "query_more")
    add("/composite", "composite", ("POST",))
    add("/composite/sobjects", "collection", ("POST", "PATCH", "DELETE"))
    add("/composite/sobjects/<obj>", "collection_object", ("GET", "POST"))
    add("/composite/sobjects/<obj>/<field>", "collection_upsert", ("PATCH",))
    return r


URL_MAP = Map(_rules(), converters={"version": VersionConverter})

HANDLERS: dict[str, Callable[..., Reply]] = {
    "resources": sobjects.resources,
    "limits": sobjects.limits,
    "describe_global": sobjects.describe_all,
    "sobject_root": sobjects.sobject_root,
    "describe": sobjects.describe,
    "updated": sobjects.updated,
    "deleted": sobjects.deleted,
    "record": sobjects.record,
    "upsert": sobjects.upsert,
    "query": lambda call: query.run(call, False),
    "query_all": lambda call: query.run(call, True),
    "query_more": query.more,
    "composite": composite.composite,
    "collection": collections.collection,
    "collection_object": collections.by_object,
    "collection_upsert": collections.upsert,
}

# Counter kinds reported by the control API (benchmarks compare them per sync).
KINDS = {
    "resources": "describe",
    "limits": "limits",
    "describe_global": "describe",
    "describe": "describe",
    "sobject_root": "sobject",
    "record": "sobject",
    "upsert": "sobject",
    "updated": "updated",
    "deleted": "deleted",
    "query": "query",
    "query_all": "query",
    "query_more": "queryMore",
    "composite": "composite",
    "collection": "collections",
    "collection_object": "collections",
    "collection_upsert": "collections",
}


def match(path: str, method: str) -> tuple[str, dict[str, Any]]:
    adapter = URL_MAP.bind("emulator", "/")
    try:
        return adapter.match(path, method=method)
    except MethodNotAllowed as exc:
        allowed = ",".join(exc.valid_methods or [])
        raise ApiError(
            405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
        ) from None
    except NotFound:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist") from None


def handle(call: Call, endpoint: str, args: dict[str, Any]) -> Reply:
    args = dict(args)
    call.version = args.pop("version")
    return HANDLERS[endpoint](call, **args)
