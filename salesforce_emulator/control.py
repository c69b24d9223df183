"""The control API under `/__emulator__/` (not Salesforce's): orgs, seeding, rep actions,
faults, clock, counters and record dumps for assertions. JSON in, JSON out.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from salesforce_emulator import dml, rep_actions
from salesforce_emulator.clock import fmt_datetime, parse_datetime
from salesforce_emulator.dml import DmlContext
from salesforce_emulator.errors import ApiError
from salesforce_emulator.generator_counts import generate_counts
from salesforce_emulator.ids import KEY_PREFIXES, to18
from salesforce_emulator.org import Org
from salesforce_emulator.schema.standard_objects import OPPORTUNITY_STAGES
from salesforce_emulator.state import Emulator

P = "/__emulator__"
_STAGES = {s[0]: s for s in OPPORTUNITY_STAGES}
_RULES = [
    ("/health", "health", ["GET"]),
    ("/orgs", "orgs", ["GET", "POST"]),
    ("/orgs/<name>", "org", ["GET", "DELETE", "PATCH"]),
    ("/orgs/<name>/reset", "reset", ["POST"]),
    ("/orgs/<name>/seed", "seed", ["POST"]),
    ("/orgs/<name>/records/<obj>", "records", ["GET", "POST"]),
    ("/orgs/<name>/records/<obj>/<rid>", "record", ["GET", "PATCH", "DELETE"]),
    ("/orgs/<name>/records/<obj>/<rid>/undelete", "undelete", ["POST"]),
    ("/orgs/<name>/records/<obj>/<rid>/touch", "touch", ["POST"]),
    ("/orgs/<name>/merge", "merge", ["POST"]),
    ("/orgs/<name>/leads/<rid>/convert", "convert", ["POST"]),
    ("/orgs/<name>/reassign", "reassign", ["POST"]),
    ("/orgs/<name>/faults", "faults", ["GET", "POST", "DELETE"]),
    ("/orgs/<name>/expire-sessions", "expire", ["POST"]),
    ("/orgs/<name>/api-usage", "api_usage", ["GET", "POST"]),
    ("/orgs/<name>/exhaust-api", "exhaust", ["POST"]),
    ("/orgs/<name>/clock", "clock", ["GET", "POST"]),
    ("/orgs/<name>/counters", "counters", ["GET", "DELETE"]),
    ("/orgs/<name>/counters/reset", "counters_reset", ["POST"]),
    ("/orgs/<name>/recycle-bin/empty", "empty_bin", ["POST"]),
]
URL_MAP = Map([Rule(P + p, endpoint=e, methods=m, strict_slashes=False) for p, e, m in _RULES])


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ControlApi:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = URL_MAP.bind("emulator", "/").match(request.path, request.method)
        except HTTPException as exc:
            return _json({"error": exc.name}, exc.code or 404)
        try:
            body = request.get_json(silent=True) if request.data else {}
            if body is None:
                raise ControlError(400, "body must be JSON")
            name = args.pop("name", None)
            org = self._org(name) if name is not None and endpoint != "org" else None
            handler = getattr(self, "do_" + endpoint)
            if name is not None and endpoint == "org":
                return handler(request, body, name)
            return handler(request, body, org, **args) if org else handler(request, body, **args)
        except ControlError as exc:
            return _json({"error": str(exc)}, exc.status)
        except ApiError as exc:
            return _json(exc.body(), exc.status)

    def _org(self, name: str) -> Org:
        org = self.emu.get_org(name)
        if org is None:
            raise ControlError(404, f"no org named {name!r}")
        return org

    def _ctx(self, org: Org, body: dict[str, Any]) -> DmlContext:
        user = body.get("as_user")
        if user:
            creds = org.users.get(user.lower())
            if creds is None:
                raise ControlError(400, f"no user {user!r} in org {org.name}")
            return DmlContext(creds.user_id, allow_duplicates=True)
        return DmlContext(org.default_user_id(), allow_duplicates=True)

    # --- orgs ----------------------------------------------------------------------------
    def describe_org(self, org: Org) -> dict[str, Any]:
        s = org.settings
        return {
            "name": s.name,
            "org_id": s.org_id,
            "instance_url": s.instance_url,
            "custom_fields": s.custom_fields,
            "api_allocation": s.api_allocation,
            "api_used": org.api_used,
            "duplicate_rule": s.duplicate_rule,
            "session_timeout_seconds": s.session_timeout_seconds,
            "users": [
                {"username": c.username, "user_id": c.user_id, "admin": c.is_admin}
                for c in org.users.values()
            ],
            "connected_apps": [
                {"client_id": a.client_id, "redirect_uris": a.redirect_uris}
                for a in s.connected_apps
            ],
            "queue_id": org.queue_id,
            "record_counts": {o: sum(1 for _ in rows) for o, rows in org.store.by_object.items()},
        }

    def do_health(self, request: Request, body: dict[str, Any]) -> Response:
        return _json({"ok": True, "orgs": len(self.emu.orgs)})

    def do_orgs(self, request: Request, body: dict[str, Any]) -> Response:
        if request.method == "GET":
            return _json([self.describe_org(o) for o in self.emu.orgs.values()])
        name = body.get("name")
        if not name:
            raise ControlError(400, "name is required")
        try:
            org = self.emu.create_org(
                name,
                custom_fields=bool(body.get("custom_fields", True)),
                api_allocation=int(body.get("api_allocation", 15000)),
                duplicate_rule=bool(body.get("duplicate_rule", False)),
                users=body.get("users") or [],
                connected_apps=body.get("connected_apps") or [],
            )
        except KeyError:
            raise ControlError(409, f"org {name!r} exists") from None
        if body.get("session_timeout_seconds"):
            org.settings.session_timeout_seconds = int(body["session_timeout_seconds"])
            org.save_settings()
        return _json(self.describe_org(org), 201)

    def do_org(self, request: Request, body: dict[str, Any], name: str) -> Response:
        if request.method == "DELETE":
            if not self.emu.delete_org(name):
                raise ControlError(404, f"no org named {name!r}")
            return Response(status=204)
        org = self._org(name)
        if request.method == "PATCH":
            s = org.settings
            for key in ("api_allocation", "session_timeout_seconds"):
                if key in body:
                    setattr(s, key, None if body[key] is None else int(body[key]))
            if "duplicate_rule" in body:
                s.duplicate_rule = bool(body["duplicate_rule"])
            org.save_settings()
        return _json(self.describe_org(org))

    def do_reset(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        self.emu.reset_org(org)
        return _json(self.describe_org(org))

    # --- data ----------------------------------------------------------------------------
    def do_seed(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        from salesforce_emulator import generator

        out: dict[str, Any] = {}
        if "generator" in body:
            spec = body["generator"] or {}
            seed = int(spec.get("seed", 0))
            try:
                with org.lock:
                    if spec.get("counts") is not None:
                        out["generated"] = generate_counts(org, dict(spec["counts"]), seed)
                    else:
                        out["generated"] = generator.generate(org, int(spec.get("size", 100)), seed)
            except (TypeError, ValueError) as exc:
                raise ControlError(400, str(exc)) from None
        if "records" in body:
            out["ids"] = seed_raw(org, body["records"])
        return _json(out, 201)

    def do_records(self, request: Request, body: dict[str, Any], org: Org, obj: str) -> Response:
        o = dml.object_or_404(org, obj)
        if request.method == "POST":
            fields = body.get("fields", body)
            fields = {k: v for k, v in fields.items() if k != "as_user"}
            with org.lock:
                rid = dml.create(org, o.name, fields, self._ctx(org, body))
            return _json(dict(org.store.rows[rid]), 201)
        deleted = request.args.get("include_deleted", "true").lower() != "false"
        with org.lock:
            rows = [dict(r) for r in org.store.scan(o.name) if deleted or not r["IsDeleted"]]
        return _json(rows)

    def do_record(
        self, request: Request, body: dict[str, Any], org: Org, obj: str, rid: str
    ) -> Response:
        o = dml.object_or_404(org, obj)
        ctx = self._ctx(org, body)
        with org.lock:
            if request.method == "PATCH":
                fields = {k: v for k, v in body.get("fields", body).items() if k != "as_user"}
                dml.update(org, o.name, rid, fields, ctx)
            elif request.method == "DELETE":
                dml.delete(org, o.name, rid, ctx)
                return Response(status=204)
            _, row = dml.live_row(org, o, rid, allow_deleted=True)
            return _json(dict(org.store.rows[row["Id"]]))

    def do_undelete(
        self, request: Request, body: dict[str, Any], org: Org, obj: str, rid: str
    ) -> Response:
        with org.lock:
            new_id = dml.undelete(org, rid, self._ctx(org, body))
            return _json(dict(org.store.rows[new_id]))

    def do_touch(
        self, request: Request, body: dict[str, Any], org: Org, obj: str, rid: str
    ) -> Response:
        """Bump SystemModstamp only, as an automated process would."""
        with org.lock:
            _, row = dml.live_row(org, dml.object_or_404(org, obj), rid, allow_deleted=True)
            new = dict(row, SystemModstamp=org.clock.stamp())
            org.store.put(org.store.object_of(row["Id"]), new)
            return _json(new)

    def do_merge(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        result = rep_actions.merge(
            org,
            body.get("object", ""),
            body.get("master_id", ""),
            list(body.get("loser_ids") or []),
            self._ctx(org, body),
        )
        return _json(result)

    def do_convert(self, request: Request, body: dict[str, Any], org: Org, rid: str) -> Response:
        return _json(rep_actions.convert_lead(org, rid, self._ctx(org, body), body))

    def do_reassign(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        ids = rep_actions.reassign(
            org, list(body.get("ids") or []), body.get("owner_id", ""), self._ctx(org, body)
        )
        return _json({"ids": ids})

    def do_empty_bin(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        with org.lock:
            ids = [rid for rid, r in org.store.rows.items() if r["IsDeleted"]]
            for rid in ids:
                org.store.purge(rid)
        return _json({"purged": len(ids)})

    # --- faults, limits, clock, counters -------------------------------------------------
    def do_faults(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        if request.method == "DELETE":
            org.faults.configure({"clear": True})
        elif request.method == "POST":
            org.faults.configure(body)
        return _json(org.faults.describe())

    def do_expire(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        return _json({"expired": self.emu.expire_sessions(org)})

    def do_api_usage(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        if request.method == "POST":
            with org.lock:
                if "used" in body:
                    org.api_used = int(body["used"])
                if "allocation" in body:
                    org.settings.api_allocation = int(body["allocation"])
                    org.save_settings()
        return _json({"used": org.api_used, "allocation": org.settings.api_allocation})

    def do_exhaust(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        with org.lock:
            org.api_used = org.settings.api_allocation
        return _json({"used": org.api_used, "allocation": org.settings.api_allocation})

    def do_clock(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        if request.method == "POST":
            if "set" in body:
                org.clock.set(parse_datetime(body["set"]))
            if "advance_seconds" in body:
                org.clock.advance(float(body["advance_seconds"]))
            if "freeze" in body:
                org.clock.freeze(bool(body["freeze"]))
            org.save_settings()
        return _json(
            {
                "now": fmt_datetime(org.clock.now()),
                "frozen": org.clock.frozen_at is not None,
                "offset_seconds": org.clock.offset_seconds,
            }
        )

    def do_counters(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        if request.method == "DELETE":
            org.counters.clear()
        return _json(org.counters_snapshot())

    def do_counters_reset(self, request: Request, body: dict[str, Any], org: Org) -> Response:
        org.counters.clear()
        return _json(org.counters_snapshot())


# Long on purpose: each kind of system field (Id, audit, defaults, times) as Salesforce fills it.
def seed_raw(org: Org, records: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:  # noqa: C901
    """Insert rows exactly as given (no validation), filling Id, audit fields and defaults.

    Timestamps may be given explicitly (any ISO form) to build histories for sync tests.
    """
    out: dict[str, list[str]] = {}
    batch = []
    with org.lock:
        for obj_name, rows in records.items():
            o = dml.object_or_404(org, obj_name)
            for given in rows:
                values = {}
                for key, value in given.items():
                    f = o.field(key)
                    if f is None:
                        raise ApiError(400, "INVALID_FIELD", f"No such column '{key}' on {o.name}")
                    if f.type == "datetime" and isinstance(value, str):
                        value = fmt_datetime(parse_datetime(value))
                    elif f.type in ("reference", "id") and isinstance(value, str):
                        value = to18(value) or value
                    values[f.name] = value
                rid = values.pop("Id", None) or org.ids.new(KEY_PREFIXES[o.name])
                org.ids.observe(rid)
                row = org.base_row(o.name, {}, rid=rid)
                if "OwnerId" in row:
                    row["OwnerId"] = org.default_user_id()
                for f in o.fields.values():
                    if f.type == "picklist" and f.default_value and row.get(f.name) is None:
                        row[f.name] = f.default_value
                row.update(values)
                if "CreatedDate" in values:
                    for k in ("LastModifiedDate", "SystemModstamp"):
                        row[k] = values.get(k, row["CreatedDate"])
                if o.name == "Opportunity" and row.get("StageName") in _STAGES:
                    _, prob, closed, won, forecast = _STAGES[row["StageName"]]
                    defaults = {
                        "IsClosed": closed,
                        "IsWon": won,
                        "Probability": float(prob),
                        "ForecastCategoryName": forecast,
                    }
                    row.update({k: v for k, v in defaults.items() if k not in values})
                if o.name in ("Contact", "Lead") and "Name" not in values:
                    row["Name"] = " ".join(
                        p for p in (row.get("FirstName"), row.get("LastName")) if p
                    )
                batch.append((o.name, row))
                out.setdefault(o.name, []).append(rid)
        org.store.bulk_load(batch)
    return out
