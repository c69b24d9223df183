"""The objects of the unified API: which model, which shape, what can be expanded, and how a
row becomes its JSON (a plain dict that ninja validates against the schema).

Serializers read only columns and relations the selector has already loaded
(`select_related` for expanded links, one prefetch for engagement contacts), so a page costs
the same number of queries whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ninja import Schema

from crm.api import schemas
from crm.models import (
    Account,
    Contact,
    Engagement,
    EngagementType,
    Lead,
    MirrorModel,
    Note,
    Opportunity,
    Stage,
    Task,
    User,
)

Json = dict[str, Any]


@dataclass(frozen=True)
class Options:
    """What the request asked for: links to expand, and whether to add the raw record."""

    expand: frozenset[str] = frozenset()
    include_remote_data: bool = False


FLAT = Options()


@dataclass(frozen=True)
class Resource:
    name: str  # URL segment, e.g. "engagement-types"
    title: str  # e.g. "Engagement Type"
    model: type[MirrorModel]
    schema: type[Schema]
    sobject: str  # the Salesforce object the raw record comes from
    expandable: tuple[str, ...]
    serialize: Callable[[Any, Options], Json]


# --- pieces shared by every object ---------------------------------------------------------


def _record(row: MirrorModel) -> Json:
    return {
        "id": row.id,
        "remote_id": row.remote_id,
        "created_at": row.created_at,
        "modified_at": row.modified_at,
    }


def _finish(row: MirrorModel, out: Json, options: Options, sobject: str) -> Json:
    """Add the raw record when asked, in Merge's `[{"path", "data"}]` form."""
    if options.include_remote_data:
        data = row.remote_data if isinstance(row.remote_data, dict) else {}
        attributes = data.get("attributes")
        attributes = attributes if isinstance(attributes, dict) else {}
        url, kind = attributes.get("url"), attributes.get("type")
        sobject = kind if isinstance(kind, str) and kind else sobject
        path = url if isinstance(url, str) and url else f"/sobjects/{sobject}/{row.remote_id}"
        out["remote_data"] = [{"path": path, "data": data}]
    return out


def _link(row: Any, field: str, options: Options, serialize: Callable[[Any, Options], Json]) -> Any:
    """A related object: its id, or (expanded) the whole object with its own links as ids."""
    if field not in options.expand:
        return getattr(row, f"{field}_id")
    target = getattr(row, field)
    return None if target is None else serialize(target, FLAT)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _day(value: dt.date | None) -> dt.datetime | None:
    """Merge sends dates as midnight UTC date-times."""
    if value is None:
        return None
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def _items(value: Any) -> list[Json]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _addresses(row: Any) -> list[Json]:
    """Stored inline on the record, so they carry the record's own timestamps."""
    keys = ("street_1", "street_2", "city", "state", "postal_code", "country", "address_type")
    return [
        {
            **{key: _text(item.get(key)) for key in keys},
            "created_at": row.created_at,
            "modified_at": row.modified_at,
        }
        for item in _items(row.addresses)
    ]


def _emails(row: Any) -> list[Json]:
    return [
        {
            "email_address": item["email_address"],
            "email_address_type": _text(item.get("email_address_type")),
        }
        for item in _items(row.email_addresses)
        if isinstance(item.get("email_address"), str)
    ]


def _phones(row: Any) -> list[Json]:
    return [
        {
            "phone_number": item["phone_number"],
            "phone_number_type": _text(item.get("phone_number_type")),
            "created_at": row.created_at,
            "modified_at": row.modified_at,
        }
        for item in _items(row.phone_numbers)
        if isinstance(item.get("phone_number"), str)
    ]


def _amount(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def _remote_fields(row: MirrorModel, sobject: str) -> list[Json]:
    """The raw record's fields in Merge's `remote_fields` form (Salesforce metadata beyond
    the field's name is not mirrored, so the class describes what the value shows)."""
    data = row.remote_data if isinstance(row.remote_data, dict) else {}
    return [
        {
            "remote_field_class": {
                "id": f"{sobject}.{key}",
                "display_name": key,
                "remote_key_name": key,
                "description": "",
                "is_custom": key.endswith("__c"),
                "is_required": False,
                "field_type": _json_type(value),
                "field_format": "",
                "field_choices": [],
                "item_schema": None,
            },
            "value": value,
        }
        for key, value in data.items()
        if key != "attributes"
    ]


# --- one serializer per object -------------------------------------------------------------


def user_json(row: User, options: Options) -> Json:
    out = _record(row)
    out |= {
        "name": _text(row.name),
        "email": _text(row.email),
        "is_active": row.is_active,
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "User")


def stage_json(row: Stage, options: Options) -> Json:
    out = _record(row)
    out |= {"name": _text(row.name), "remote_was_deleted": row.remote_was_deleted}
    return _finish(row, out, options, "OpportunityStage")


def engagement_type_json(row: EngagementType, options: Options) -> Json:
    out = _record(row)
    out |= {
        "activity_type": _text(row.activity_type),
        "name": _text(row.name),
        "remote_fields": _remote_fields(row, "EngagementType"),
    }
    return _finish(row, out, options, "EngagementType")


def account_json(row: Account, options: Options) -> Json:
    out = _record(row)
    out |= {
        "owner": _link(row, "owner", options, user_json),
        "name": _text(row.name),
        "description": _text(row.description),
        "industry": _text(row.industry),
        "website": _text(row.website),
        "addresses": _addresses(row),
        "phone_numbers": _phones(row),
        "last_activity_at": row.last_activity_at,
        "remote_updated_at": row.remote_updated_at,
        "remote_created_at": row.remote_created_at,
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "Account")


def contact_json(row: Contact, options: Options) -> Json:
    out = _record(row)
    out |= {
        "first_name": _text(row.first_name),
        "last_name": _text(row.last_name),
        "account": _link(row, "account", options, account_json),
        "owner": _link(row, "owner", options, user_json),
        "addresses": _addresses(row),
        "email_addresses": _emails(row),
        "phone_numbers": _phones(row),
        "last_activity_at": row.last_activity_at,
        "remote_created_at": row.remote_created_at,
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "Contact")


def lead_json(row: Lead, options: Options) -> Json:
    out = _record(row)
    out |= {
        "owner": _link(row, "owner", options, user_json),
        "lead_source": _text(row.lead_source),
        "title": _text(row.title),
        "company": _text(row.company),
        "first_name": _text(row.first_name),
        "last_name": _text(row.last_name),
        "addresses": _addresses(row),
        "email_addresses": _emails(row),
        "phone_numbers": _phones(row),
        "remote_updated_at": row.remote_updated_at,
        "remote_created_at": row.remote_created_at,
        "converted_date": row.converted_at,
        "converted_contact": _link(row, "converted_contact", options, contact_json),
        "converted_account": _link(row, "converted_account", options, account_json),
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "Lead")


def opportunity_json(row: Opportunity, options: Options) -> Json:
    out = _record(row)
    out |= {
        "name": _text(row.name),
        "description": _text(row.description),
        "amount": _amount(row.amount),
        "owner": _link(row, "owner", options, user_json),
        "account": _link(row, "account", options, account_json),
        "stage": _link(row, "stage", options, stage_json),
        "status": _text(row.status),
        "last_activity_at": row.last_activity_at,
        "close_date": _day(row.close_date),
        "remote_created_at": row.remote_created_at,
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "Opportunity")


def note_json(row: Note, options: Options) -> Json:
    out = _record(row)
    out |= {
        "owner": _link(row, "owner", options, user_json),
        "content": _text(row.content),
        "contact": _link(row, "contact", options, contact_json),
        "account": _link(row, "account", options, account_json),
        "opportunity": _link(row, "opportunity", options, opportunity_json),
        "remote_updated_at": row.remote_updated_at,
        "remote_created_at": row.remote_created_at,
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "Note")


def task_json(row: Task, options: Options) -> Json:
    out = _record(row)
    out |= {
        "subject": _text(row.subject),
        "content": _text(row.content),
        "owner": _link(row, "owner", options, user_json),
        "account": _link(row, "account", options, account_json),
        "opportunity": _link(row, "opportunity", options, opportunity_json),
        "completed_date": row.completed_at,
        "due_date": _day(row.due_date),
        "status": _text(row.status),
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "Task")


def engagement_json(row: Engagement, options: Options) -> Json:
    """`row.api_contacts` is set by the selector: the linked contacts in the CRM's order."""
    contacts = getattr(row, "api_contacts", [])
    out = _record(row)
    out |= {
        "owner": _link(row, "owner", options, user_json),
        "content": _text(row.content),
        "subject": _text(row.subject),
        "direction": _text(row.direction),
        "engagement_type": _link(row, "engagement_type", options, engagement_type_json),
        "start_time": row.start_time,
        "end_time": row.end_time,
        "account": _link(row, "account", options, account_json),
        "contacts": [contact_json(c, FLAT) for c in contacts]
        if "contacts" in options.expand
        else [c.id for c in contacts],
        "remote_was_deleted": row.remote_was_deleted,
    }
    return _finish(row, out, options, "Event")


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "accounts", "Account", Account, schemas.AccountOut, "Account", ("owner",), account_json
    ),
    Resource(
        "contacts",
        "Contact",
        Contact,
        schemas.ContactOut,
        "Contact",
        ("account", "owner"),
        contact_json,
    ),
    Resource(
        "engagement-types",
        "Engagement Type",
        EngagementType,
        schemas.EngagementTypeOut,
        "EngagementType",
        (),
        engagement_type_json,
    ),
    Resource(
        "engagements",
        "Engagement",
        Engagement,
        schemas.EngagementOut,
        "Event",
        ("owner", "engagement_type", "account", "contacts"),
        engagement_json,
    ),
    Resource(
        "leads",
        "Lead",
        Lead,
        schemas.LeadOut,
        "Lead",
        ("owner", "converted_contact", "converted_account"),
        lead_json,
    ),
    Resource(
        "notes",
        "Note",
        Note,
        schemas.NoteOut,
        "Note",
        ("owner", "contact", "account", "opportunity"),
        note_json,
    ),
    Resource(
        "opportunities",
        "Opportunity",
        Opportunity,
        schemas.OpportunityOut,
        "Opportunity",
        ("owner", "account", "stage"),
        opportunity_json,
    ),
    Resource("stages", "Stage", Stage, schemas.StageOut, "OpportunityStage", (), stage_json),
    Resource(
        "tasks",
        "Task",
        Task,
        schemas.TaskOut,
        "Task",
        ("owner", "account", "opportunity"),
        task_json,
    ),
    Resource("users", "User", User, schemas.UserOut, "User", (), user_json),
)
