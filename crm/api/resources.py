"""The objects of the unified API: which model, which shape, what can be expanded, and how a
row becomes its JSON (a plain dict that ninja validates against the schema).

The schema is the one list of fields: each object's serializer is compiled from its schema's
fields once, at import, by the field's type (text, Merge date, amount, a link to another
object, an inline list of addresses…) and its model column of the same name; `sources`
names the few fields whose column is called otherwise. What can be expanded is every link
of the schema. It builds plain dicts rather than handing model rows to ninja with resolvers:
a resolver cannot leave a field unset, so every answer would carry `"remote_data": null`
(it is absent unless asked for), expansion depends on the request, and the compiled
getters cost what the hand-written serializers did (bench/api.py).

Serializers read only columns and relations the selector has already loaded
(`select_related` for expanded links, one prefetch for engagement contacts), so a page costs
the same number of queries whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, get_args, get_origin

from django.db import models
from ninja import Schema
from pydantic.fields import FieldInfo

from crm.api import schemas
from crm.models import (
    Account,
    Contact,
    CrmUser,
    Engagement,
    EngagementType,
    Lead,
    MirrorModel,
    Note,
    Opportunity,
    Stage,
    Task,
)

Json = dict[str, Any]
Serializer = Callable[[Any, "Options"], Json]
Getter = Callable[[Any, "Options"], Any]


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
    expandable: tuple[str, ...]  # the schema's links, in its order
    serialize: Serializer


# --- pieces shared by every object ---------------------------------------------------------


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


# --- serializers compiled from the schemas -------------------------------------------------

_SERIALIZERS: dict[type[Schema], Serializer] = {}  # by schema, for expanded links


def _linked_schema(annotation: Any) -> type[Schema] | None:
    """The object schema of a link field (`uuid.UUID | AccountOut | None` → `AccountOut`)."""
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, schemas.RecordBase):
            return arg
    return None


def _link(name: str, target: type[Schema]) -> Getter:
    """A related object: its id, or (expanded) the whole object with its own links as ids."""
    id_attribute = f"{name}_id"

    def get(row: Any, options: Options) -> Any:
        if name not in options.expand:
            return getattr(row, id_attribute)
        linked = getattr(row, name)
        return None if linked is None else _SERIALIZERS[target](linked, FLAT)

    return get


def _engagement_contacts(row: Engagement, options: Options) -> list[Any]:
    """`row.api_contacts` is set by the selector: the linked contacts in the CRM's order."""
    contacts = getattr(row, "api_contacts", [])
    if "contacts" in options.expand:
        return [_SERIALIZERS[schemas.ContactOut](c, FLAT) for c in contacts]
    return [c.id for c in contacts]


def _attribute(name: str, convert: Callable[[Any], Any] | None = None) -> Getter:
    if convert is None:
        return lambda row, options: getattr(row, name)
    return lambda row, options: convert(getattr(row, name))


def _getter(name: str, field: FieldInfo, model: type[MirrorModel], sobject: str) -> Getter:
    """How a schema field is read from its model row, by the field's type."""
    annotation = field.annotation
    if (target := _linked_schema(annotation)) is not None:
        return _link(name, target)
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        inline: dict[Any, Getter] = {
            schemas.AddressOut: lambda row, options: _addresses(row),
            schemas.EmailAddressOut: lambda row, options: _emails(row),
            schemas.PhoneNumberOut: lambda row, options: _phones(row),
            schemas.RemoteFieldOut: lambda row, options: _remote_fields(row, sobject),
        }
        return inline[item]
    if annotation == str | None:
        return _attribute(name, _text)
    if annotation == int | float | None:
        return _attribute(name, _amount)
    column = model._meta.get_field(name)
    if isinstance(column, models.DateField) and not isinstance(column, models.DateTimeField):
        return _attribute(name, _day)
    return _attribute(name)


def _compile(
    schema: type[Schema], model: type[MirrorModel], sobject: str, sources: dict[str, Any]
) -> tuple[Serializer, tuple[str, ...]]:
    """The schema's serializer, and its expandable links (in the schema's order)."""
    getters: list[tuple[str, Getter]] = []
    links: list[str] = []
    for name, field in schema.model_fields.items():
        if name == "remote_data":  # added by `_finish`, only when asked for
            continue
        source = sources.get(name)
        if isinstance(source, str):
            getter = _getter(source, field, model, sobject)
        else:
            getter = source or _getter(name, field, model, sobject)
        getters.append((name, getter))
        if _linked_schema(field.annotation) is not None or (
            get_origin(field.annotation) is list
            and _linked_schema(get_args(field.annotation)[0]) is not None
        ):
            links.append(name)

    def serialize(row: Any, options: Options) -> Json:
        out = {name: get(row, options) for name, get in getters}
        return _finish(row, out, options, sobject)

    serialize.__name__ = f"{schema.__name__.removesuffix('Out').lower()}_json"
    _SERIALIZERS[schema] = serialize
    return serialize, tuple(links)


def _resource(
    name: str,
    title: str,
    model: type[MirrorModel],
    schema: type[Schema],
    sobject: str,
    **sources: str | Getter,
) -> Resource:
    """An object of the API. `sources`: a field read from a column of another name
    (`converted_date="converted_at"`), or by a getter of its own."""
    serialize, expandable = _compile(schema, model, sobject, sources)
    return Resource(name, title, model, schema, sobject, expandable, serialize)


# Linked objects first: an expanded link is serialized by its target's serializer.
_USERS = _resource("users", "User", CrmUser, schemas.UserOut, "User")
_STAGES = _resource("stages", "Stage", Stage, schemas.StageOut, "OpportunityStage")
_ENGAGEMENT_TYPES = _resource(
    "engagement-types",
    "Engagement Type",
    EngagementType,
    schemas.EngagementTypeOut,
    "EngagementType",
)
_ACCOUNTS = _resource("accounts", "Account", Account, schemas.AccountOut, "Account")
_CONTACTS = _resource("contacts", "Contact", Contact, schemas.ContactOut, "Contact")
_OPPORTUNITIES = _resource(
    "opportunities", "Opportunity", Opportunity, schemas.OpportunityOut, "Opportunity"
)

RESOURCES: tuple[Resource, ...] = (
    _ACCOUNTS,
    _CONTACTS,
    _ENGAGEMENT_TYPES,
    _resource(
        "engagements",
        "Engagement",
        Engagement,
        schemas.EngagementOut,
        "Event",
        contacts=_engagement_contacts,
    ),
    _resource("leads", "Lead", Lead, schemas.LeadOut, "Lead", converted_date="converted_at"),
    _resource("notes", "Note", Note, schemas.NoteOut, "Note"),
    _OPPORTUNITIES,
    _STAGES,
    _resource("tasks", "Task", Task, schemas.TaskOut, "Task", completed_date="completed_at"),
    _USERS,
)
