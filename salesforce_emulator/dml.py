"""Create / update / delete / undelete / upsert with Salesforce's semantics.

Derived fields (Name, opportunity stage flags, Task.IsClosed, Event dates), LastActivityDate
roll-ups from Tasks/Events, the primary OpportunityContactRole, unique fields, the optional
Lead/Contact email duplicate rule and converted-lead protection all live here, so REST,
collections, composite and the control API behave the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from salesforce_emulator.clock import fmt_datetime, parse_datetime
from salesforce_emulator.errors import ApiError, DmlError
from salesforce_emulator.ids import to18
from salesforce_emulator.org import Org
from salesforce_emulator.schema.standard_objects import OPPORTUNITY_STAGES
from salesforce_emulator.soql.types import FieldSchema, ObjectSchema
from salesforce_emulator.validation import (
    check_writable,
    coerce,
    missing_required,
    required_fields,
)

_STAGES = {s[0]: s for s in OPPORTUNITY_STAGES}
ROLLUP_TARGETS = ("Account", "Contact", "Lead", "Opportunity")


@dataclass
class DmlContext:
    user_id: str
    allow_duplicates: bool = False
    version: str = "59.0"


def object_or_404(org: Org, name: str) -> ObjectSchema:
    obj = org.schema.object_schema(name)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


def live_row(
    org: Org,
    obj: ObjectSchema | None,
    record_id: str,
    *,
    allow_deleted: bool = False,
) -> tuple[ObjectSchema, dict[str, Any]]:
    """The stored row for an Id in a URL, or MALFORMED_ID / NOT_FOUND / ENTITY_IS_DELETED."""
    rid = to18(record_id)
    if rid is None or (obj is not None and rid[:3] != obj.key_prefix):
        label = obj.name if obj else "Record"
        raise ApiError(
            400, "MALFORMED_ID", f"{label} ID: id value of incorrect type: {record_id}", ["Id"]
        )
    row = org.store.rows.get(rid)
    obj_name = org.store.object_of(rid)
    if row is None or obj_name is None or (obj is not None and obj_name != obj.name):
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if row["IsDeleted"] and not allow_deleted:
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
    return org.schema.objects[obj_name], row


def _check_object(obj: ObjectSchema, op: str) -> None:
    allowed = {"create": obj.createable, "update": obj.updateable, "delete": obj.deletable}[op]
    if not allowed:
        raise DmlError("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {op}d: {obj.name}")


def _resolve_relationship(org: Org, f: FieldSchema, value: dict[str, Any]) -> str:
    """`{"Account": {"Ext__c": "x"}}`: find the parent by one external-id field."""
    keys = [k for k in value if k != "attributes"]
    target_name = (value.get("attributes") or {}).get("type") or f.reference_to[0]
    target = org.schema.object_schema(target_name)
    if target is None or len(keys) != 1:
        raise DmlError(
            "INVALID_FIELD", f"Invalid foreign key relationship name {f.relationship_name}"
        )
    ext = target.field(keys[0])
    if ext is None or not (ext.external_id or ext.name == "Id"):
        raise DmlError(
            "INVALID_FIELD",
            f"Field name provided, {keys[0]} is not an External ID or indexed field "
            f"for {target.name}",
        )
    matches = find_by_field(org, target, ext, value[keys[0]])
    if not matches:
        raise DmlError(
            "INVALID_FIELD",
            f"Foreign key external ID: {value[keys[0]]} not found for field "
            f"{ext.name} in entity {target.name}",
            [],
        )
    if len(matches) > 1:
        raise DmlError(
            "DUPLICATE_EXTERNAL_ID",
            f"Foreign key external ID: {value[keys[0]]} matched more than 1 record",
        )
    return matches[0]["Id"]


def find_by_field(org: Org, obj: ObjectSchema, f: FieldSchema, value: Any) -> list[dict[str, Any]]:
    """Live rows whose `f` equals `value` (case-insensitively for text, as external ids do)."""
    if f.name == "Id":
        rid = to18(str(value))
        row = org.store.rows.get(rid) if rid else None
        return (
            [row] if row and not row["IsDeleted"] and org.store.object_of(rid) == obj.name else []
        )
    needle = str(value).lower()
    return [
        r
        for r in org.store.scan(obj.name)
        if not r["IsDeleted"] and r.get(f.name) is not None and str(r[f.name]).lower() == needle
    ]


def _apply(
    org: Org, obj: ObjectSchema, data: dict[str, Any], row: dict[str, Any], *, creating: bool
) -> set[str]:
    if not isinstance(data, dict):
        raise DmlError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    touched: set[str] = set()
    for f, value in check_writable(obj, data, creating=creating):
        if isinstance(value, dict) and f.type == "reference":
            value = _resolve_relationship(org, f, value)
        v = coerce(obj, f, value)
        if f.type == "reference" and v is not None:
            _check_reference(org, f, v)
        row[f.name] = v
        touched.add(f.name)
    return touched


def _check_reference(org: Org, f: FieldSchema, rid: str) -> None:
    prefixes = {org.schema.objects[t].key_prefix for t in f.reference_to if t in org.schema.objects}
    if rid[:3] not in prefixes:
        raise DmlError(
            "FIELD_INTEGRITY_EXCEPTION", f"{f.label}: id value of incorrect type: {rid}", [f.name]
        )
    target = org.store.rows.get(rid)
    if target is None or target["IsDeleted"]:
        raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name])


# Long on purpose: one branch per object's derived fields (Name, stage probability, conversion).
def _derive(org: Org, obj: ObjectSchema, row: dict[str, Any], touched: set[str], creating: bool):  # noqa: C901
    name = obj.name
    if name in ("Contact", "Lead"):
        row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
    elif name == "Opportunity" and (creating or "StageName" in touched):
        stage = _STAGES.get(row.get("StageName") or "")
        if stage:
            _, prob, closed, won, forecast = stage
            row["IsClosed"], row["IsWon"] = closed, won
            if "Probability" not in touched:
                row["Probability"] = float(prob)
            if "ForecastCategoryName" not in touched:
                row["ForecastCategoryName"] = forecast
    elif name == "Task":
        row["IsClosed"] = row.get("Status") == "Completed"
    elif name == "Event":
        start = row.get("StartDateTime") or row.get("ActivityDateTime")
        if "StartDateTime" in touched and "ActivityDateTime" not in touched:
            start = row["StartDateTime"]
        if start:
            row["ActivityDateTime"] = row["StartDateTime"] = start
            begin = parse_datetime(start)
            row["ActivityDate"] = begin.date().isoformat()
            if (
                "EndDateTime" in touched
                and "DurationInMinutes" not in touched
                and row["EndDateTime"]
            ):
                mins = (parse_datetime(row["EndDateTime"]) - begin).total_seconds() // 60
                row["DurationInMinutes"] = int(mins)
            if row.get("DurationInMinutes") is not None:
                row["EndDateTime"] = fmt_datetime(
                    begin + timedelta(minutes=row["DurationInMinutes"])
                )
        elif not row.get("IsAllDayEvent"):
            raise missing_required(["ActivityDateTime"])
        if start and row.get("DurationInMinutes") is None and not row.get("IsAllDayEvent"):
            raise missing_required(["DurationInMinutes"])


def _check_unique(org: Org, obj: ObjectSchema, row: dict[str, Any], touched: set[str]) -> None:
    for f in obj.fields.values():
        if not f.unique or f.name not in touched or row.get(f.name) is None:
            continue
        for other in find_by_field(org, obj, f, row[f.name]):
            if other["Id"] != row["Id"]:
                raise DmlError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {f.name} duplicates value on record "
                    f"with id: {other['Id']}",
                    [],
                )


def _check_duplicate_rule(org: Org, obj: ObjectSchema, row: dict[str, Any], ctx: DmlContext):
    if not org.settings.duplicate_rule or obj.name not in ("Lead", "Contact"):
        return
    email = (row.get("Email") or "").lower()
    if not email or ctx.allow_duplicates:
        return
    results = []
    base = f"/services/data/v{ctx.version}/sobjects"
    for entity in ("Lead", "Contact"):
        matches = [
            r
            for r in org.store.scan(entity)
            if not r["IsDeleted"]
            and r["Id"] != row["Id"]
            and (r.get("Email") or "").lower() == email
            and not r.get("IsConverted")
        ]
        if matches:
            results.append(
                {
                    "entityType": entity,
                    "errors": [],
                    "matchEngine": "ExactMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {
                                "attributes": {
                                    "type": entity,
                                    "url": f"{base}/{entity}/{r['Id']}",
                                },
                                "Id": r["Id"],
                            },
                        }
                        for r in matches
                    ],
                    "rule": f"Emulator_{entity}_Email_Match_Rule",
                    "size": len(matches),
                    "success": True,
                }
            )
    if not results:
        return
    message = "You're creating a duplicate record. We recommend you use an existing record instead."
    raise DmlError(
        "DUPLICATES_DETECTED",
        message,
        [],
        extra={
            "duplicateResult": {
                "allowSave": True,
                "duplicateRule": f"Emulator_{obj.name}_Duplicate_Rule",
                "duplicateRuleEntityType": obj.name,
                "errorMessage": message,
                "matchResults": results,
            }
        },
    )


def _stamp(org: Org, row: dict[str, Any], ctx: DmlContext, *, user_change: bool = True) -> None:
    now = org.clock.stamp()
    row["SystemModstamp"] = now
    if user_change:
        row["LastModifiedDate"] = now
        row["LastModifiedById"] = ctx.user_id


def create(org: Org, obj_name: str, data: dict[str, Any], ctx: DmlContext) -> str:
    obj = object_or_404(org, obj_name)
    _check_object(obj, "create")
    if isinstance(data, dict) and "Id" in {k for k in data if isinstance(k, str)}:
        raise DmlError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: Id. Please check the security settings "
            "of this field and verify that it is read/write for your profile or "
            "permission set.",
            ["Id"],
        )
    row = org.base_row(obj.name, {}, rid="pending")
    for f in obj.fields.values():
        if f.defaulted_on_create and f.default_value is not None and f.type != "boolean":
            row[f.name] = f.default_value
    if "OwnerId" in obj.fields:
        row["OwnerId"] = ctx.user_id
    touched = _apply(org, obj, data, row, creating=True)
    missing = [f.name for f in required_fields(obj) if row.get(f.name) in (None, "")]
    if missing:
        raise missing_required(missing)
    _derive(org, obj, row, touched, True)
    row["Id"] = org.ids.new(obj.key_prefix)
    row["CreatedById"] = row["LastModifiedById"] = ctx.user_id
    _check_unique(org, obj, row, touched)
    _check_duplicate_rule(org, obj, row, ctx)
    _save(org, obj, row, None, ctx)
    return row["Id"]


def update(
    org: Org, obj_name: str | None, record_id: str, data: dict[str, Any], ctx: DmlContext
) -> str:
    obj = object_or_404(org, obj_name) if obj_name else None
    obj, old = live_row(org, obj, record_id)
    _check_object(obj, "update")
    if obj.name == "Lead" and old.get("IsConverted"):
        raise DmlError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
    row = dict(old)
    touched = _apply(org, obj, data, row, creating=False)
    emptied = [
        f.name
        for f in obj.fields.values()
        if f.name in touched and not f.nillable and row.get(f.name) in (None, "")
    ]
    if emptied:
        raise missing_required(emptied)
    _derive(org, obj, row, touched, False)
    _check_unique(org, obj, row, touched)
    if "Email" in touched:
        _check_duplicate_rule(org, obj, row, ctx)
    _stamp(org, row, ctx)
    _save(org, obj, row, old, ctx)
    return row["Id"]


def _save(
    org: Org, obj: ObjectSchema, row: dict[str, Any], old: dict[str, Any] | None, ctx: DmlContext
) -> None:
    org.store.put(obj.name, row)
    if obj.name in ("Task", "Event"):
        targets = {row.get("WhoId"), row.get("WhatId")}
        if old:
            targets |= {old.get("WhoId"), old.get("WhatId")}
        refresh_last_activity(org, [t for t in targets if t], ctx)
    elif obj.name == "OpportunityContactRole" and row.get("IsPrimary") and not row["IsDeleted"]:
        for other in list(org.store.scan("OpportunityContactRole")):
            if (
                other["Id"] != row["Id"]
                and other.get("IsPrimary")
                and not other["IsDeleted"]
                and other["OpportunityId"] == row["OpportunityId"]
            ):
                cleared = dict(other, IsPrimary=False)
                _stamp(org, cleared, ctx)
                org.store.put("OpportunityContactRole", cleared)


def refresh_last_activity(org: Org, target_ids: list[str], ctx: DmlContext) -> None:
    """Recompute LastActivityDate: the latest past-or-today ActivityDate of live activities."""
    today = org.clock.today()
    for tid in target_ids:
        obj_name = org.store.object_of(tid)
        if obj_name not in ROLLUP_TARGETS:
            continue
        dates = [
            a["ActivityDate"]
            for aid in org.store.activities.get(tid, ())
            if (a := org.store.rows.get(aid))
            and not a["IsDeleted"]
            and a.get("ActivityDate")
            and a["ActivityDate"] <= today
        ]
        latest = max(dates) if dates else None
        target = org.store.rows[tid]
        if target.get("LastActivityDate") != latest:
            new = dict(target, LastActivityDate=latest)
            _stamp(org, new, ctx, user_change=False)
            org.store.put(obj_name, new)


_CASCADE = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId")),
    "Opportunity": (("OpportunityContactRole", "OpportunityId"),),
}


def delete(org: Org, obj_name: str | None, record_id: str, ctx: DmlContext) -> str:
    """Soft delete into the recycle bin; Account and Opportunity children follow."""
    obj = object_or_404(org, obj_name) if obj_name else None
    obj, old = live_row(org, obj, record_id)
    _check_object(obj, "delete")
    row = dict(old, IsDeleted=True)
    _stamp(org, row, ctx)
    _save(org, obj, row, old, ctx)
    for child, field_name in _CASCADE.get(obj.name, ()):
        for r in [r for r in org.store.scan(child) if r.get(field_name) == row["Id"]]:
            if not r["IsDeleted"]:
                delete(org, child, r["Id"], ctx)
    return row["Id"]


def undelete(org: Org, record_id: str, ctx: DmlContext) -> str:
    obj, old = live_row(org, None, record_id, allow_deleted=True)
    if not old["IsDeleted"]:
        raise DmlError("UNDELETE_FAILED", "Entity is not in the recycle bin", [])
    row = dict(old, IsDeleted=False)
    _stamp(org, row, ctx)
    _save(org, obj, row, old, ctx)
    return row["Id"]


def upsert(
    org: Org,
    obj_name: str,
    field_name: str,
    value: str,
    data: dict[str, Any],
    ctx: DmlContext,
    *,
    update_only: bool = False,
) -> tuple[str, bool]:
    """Upsert by external id: (id, created). Several matches raise a 300 ApiError; with
    `update_only` (REST `?updateOnly=true`) no match is a 404 instead of a create."""
    obj = object_or_404(org, obj_name)
    f = obj.field(field_name)
    if f is None or not (f.external_id or f.name == "Id"):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {field_name}",
        )
    if f.name == "Id" and not value:
        return create(org, obj.name, data, ctx), True
    matches = find_by_field(org, obj, f, value)
    if len(matches) > 1:
        raise ApiError(
            300,
            "MULTIPLE_CHOICES",
            "more than one record found for external id",
            extra={
                "urls": [
                    f"/services/data/v{ctx.version}/sobjects/{obj.name}/{m['Id']}" for m in matches
                ]
            },
        )
    body = {k: v for k, v in data.items() if k.lower() != f.name.lower()}
    if matches:
        return update(org, obj.name, matches[0]["Id"], body, ctx), False
    if f.name == "Id" or update_only:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    body[f.name] = value
    return create(org, obj.name, body, ctx), True
