"""DML input checking and coercion against the schema, producing Salesforce's errors."""

from __future__ import annotations

import math
import re
from typing import Any

from salesforce_emulator.clock import fmt_datetime, parse_date, parse_datetime
from salesforce_emulator.errors import DmlError
from salesforce_emulator.ids import to18
from salesforce_emulator.soql.types import FieldSchema, ObjectSchema

_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist"}
)


def _type_error(f: FieldSchema, value: Any, kind: str) -> DmlError:
    return DmlError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {type(value).__name__.upper()} value "
        f"{value!r} or request may be missing a required field",
    )


# Long on purpose: one branch per Salesforce field type: Salesforce's coercion table.
def coerce(obj: ObjectSchema, f: FieldSchema, value: Any) -> Any:  # noqa: C901, PLR0915
    """Turn one JSON value into its stored wire form, or raise the error Salesforce gives."""
    if value is None or (value == "" and f.type not in ("boolean",)):
        if f.type == "boolean":
            return False
        return None
    t = f.type
    if t in _TEXT_TYPES:
        if isinstance(value, (bool, dict | list)):
            raise _type_error(f, value, "string")
        text = value if isinstance(value, str) else str(value)
        if f.length and len(text) > f.length:
            raise DmlError(
                "STRING_TOO_LONG",
                f"{f.label}: data value too large: {text[:80]} (max length={f.length})",
                [f.name],
            )
        if t == "email" and not _EMAIL_RE.match(text):
            raise DmlError(
                "INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {text}", [f.name]
            )
        if t == "picklist" and f.restricted_picklist and text not in f.picklist_values:
            raise DmlError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{f.label}: bad value for restricted picklist field: {text}",
                [f.name],
            )
        return text
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _type_error(f, value, "boolean")
    if t in ("int", "double", "currency", "percent"):
        if isinstance(value, bool):
            raise _type_error(f, value, "double")
        try:
            num = float(value) if not isinstance(value, int | float) else value
        except (TypeError, ValueError):
            raise _type_error(f, value, "double") from None
        if isinstance(num, float) and (math.isnan(num) or math.isinf(num)):
            raise _type_error(f, value, "double")
        if t == "int":
            if float(num) != int(num):
                raise _type_error(f, value, "int")
            num = int(num)
            limit = 10 ** (f.precision or 9)
        else:
            num = round(float(num), f.scale)
            limit = 10 ** ((f.precision or 18) - f.scale)
        if abs(num) >= limit:
            raise DmlError(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{f.label}: value outside of valid range on numeric field: {value}",
                [f.name],
            )
        return num
    if t == "date":
        if not isinstance(value, str):
            raise _type_error(f, value, "date")
        try:
            return parse_date(value[:10]).isoformat()
        except ValueError:
            raise DmlError(
                "JSON_PARSER_ERROR", f"Cannot deserialize value like {value} as date"
            ) from None
    if t == "datetime":
        if not isinstance(value, str):
            raise _type_error(f, value, "datetime")
        try:
            return fmt_datetime(parse_datetime(value))
        except ValueError:
            raise DmlError(
                "JSON_PARSER_ERROR", f"Cannot deserialize value like {value} as dateTime"
            ) from None
    if t == "reference":
        if not isinstance(value, str):
            raise _type_error(f, value, "string")
        rid = to18(value)
        if rid is None:
            raise DmlError(
                "MALFORMED_ID", f"{f.label}: id value of incorrect type: {value}", [f.name]
            )
        return rid
    return value


def required_fields(obj: ObjectSchema) -> list[FieldSchema]:
    """Fields a create must supply: not nillable, createable, not defaulted."""
    return [
        f
        for f in obj.fields.values()
        if not f.nillable and f.createable and not f.defaulted_on_create and f.type != "boolean"
    ]


def missing_required(names: list[str]) -> DmlError:
    return DmlError(
        "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(names)}]", names
    )


def check_writable(
    obj: ObjectSchema, data: dict[str, Any], *, creating: bool
) -> list[tuple[FieldSchema, Any]]:
    """Resolve field names (case-insensitively) and refuse unknown or read-only fields.

    Relationship-by-external-id entries (`{"Account": {"Ext__c": "x"}}`) are returned with
    the relationship's reference field and the nested dict as value, resolved by the caller.
    """
    out: list[tuple[FieldSchema, Any]] = []
    bad: list[str] = []
    for key, value in data.items():
        if key == "attributes":
            continue
        f = obj.field(key)
        if f is None:
            rel = obj.relationship(key)
            if rel is not None and isinstance(value, dict):
                out.append((rel, value))
                continue
            raise DmlError(
                "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", []
            )
        allowed = f.createable if creating else f.updateable
        if not allowed:
            if not creating and f.name == "Id":
                continue
            bad.append(f.name)
            continue
        out.append((f, value))
    if bad:
        raise DmlError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(bad)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            bad,
        )
    return out
