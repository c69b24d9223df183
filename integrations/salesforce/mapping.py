"""From Salesforce records to rows of the unified CRM model (`crm`).

One `ObjectSpec` per Salesforce object read: the fields we would like (only those the org's
describe lists are queried, so missing custom fields are tolerated), the mirror model, and a
function mapping one record to unified field names. The read sync engine is generic over
these specs; adding an object is adding a spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm.models import (
    Account,
    ActivityType,
    Contact,
    CrmUser,
    Direction,
    Engagement,
    EngagementType,
    Lead,
    MirrorModel,
    Note,
    Opportunity,
    OpportunityStatus,
    Stage,
    Task,
    TaskStatus,
)

Record = dict[str, Any]
Row = dict[str, Any]

SYSTEM_FIELDS = ("Id", "CreatedDate", "SystemModstamp", "IsDeleted")
KEY_PREFIXES = {
    "User": "005",
    "OpportunityStage": "01J",
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "Task": "00T",
    "Event": "00U",
    "Note": "002",
}
PREFIX_MODEL = {"001": "account", "003": "contact", "00Q": "lead", "006": "opportunity"}
ENGAGEMENT_TYPES = {
    ActivityType.CALL: "Call",
    ActivityType.EMAIL: "Email",
    ActivityType.MEETING: "Meeting",
}


@dataclass
class MappingContext:
    """What mapping needs beyond the record: stage ids by name, the pipeline choice."""

    stage_ids: dict[str, str] = field(default_factory=dict)
    pipeline_source: str = "record_type"


@dataclass(frozen=True)
class ObjectSpec:
    sobject: str
    model: type[MirrorModel]
    wanted: tuple[str, ...]
    to_row: Callable[[Record, MappingContext], Row]
    # Salesforce objects whose merges (`MasterRecordId` on the deleted loser) we follow.
    mergeable: bool = False
    # Also mirrored into another model from the same records (Task calls/emails).
    also: tuple[tuple[type[MirrorModel], Callable[[Record, MappingContext], Row | None]], ...] = ()

    @property
    def key_prefix(self) -> str:
        """The object's Id prefix: a mirror model may hold rows of several objects
        (Engagement: Events and call/email Tasks), so whole-object checks filter by it."""
        return KEY_PREFIXES[self.sobject]

    def fields(self, available: set[str]) -> list[str]:
        """The fields to SELECT: what we want and the org has. A relationship path such as
        `RecordType.Name` is kept when its reference field (`RecordTypeId`) exists."""
        chosen = []
        for name in (*SYSTEM_FIELDS, *self.wanted):
            needed = f"{name.split('.', 1)[0]}Id" if "." in name else name
            if needed in available and name not in chosen:
                chosen.append(name)
        return chosen


def _base(record: Record) -> Row:
    return {
        "remote_id": record["Id"],
        "remote_created_at": record.get("CreatedDate"),
        "remote_updated_at": record.get("SystemModstamp"),
        "remote_was_deleted": bool(record.get("IsDeleted")),
        "remote_data": {k: v for k, v in record.items() if k != "attributes"},
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _split_street(street: Any) -> tuple[str, str]:
    lines = _text(street).splitlines()
    return (lines[0] if lines else ""), " ".join(lines[1:])


def _address(record: Record, prefix: str, kind: str) -> list[dict[str, str]]:
    parts = {
        k: record.get(f"{prefix}{k}") for k in ("Street", "City", "State", "PostalCode", "Country")
    }
    if not any(parts.values()):
        return []
    street_1, street_2 = _split_street(parts["Street"])
    return [
        {
            "street_1": street_1,
            "street_2": street_2,
            "city": _text(parts["City"]),
            "state": _text(parts["State"]),
            "postal_code": _text(parts["PostalCode"]),
            "country": _text(parts["Country"]),
            "address_type": kind,
        }
    ]


def _phones(record: Record, *pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [
        {"phone_number": record[name], "phone_number_type": kind}
        for name, kind in pairs
        if record.get(name)
    ]


def _emails(record: Record) -> list[dict[str, str]]:
    email = record.get("Email")
    return [{"email_address": email, "email_address_type": "Work"}] if email else []


def _ref(record: Record, name: str) -> str:
    return _text(record.get(name))


def _polymorphic(record: Record, name: str) -> dict[str, str]:
    """WhoId / WhatId / ParentId: the mirror relation is chosen by the id's key prefix."""
    value = _text(record.get(name))
    relation = PREFIX_MODEL.get(value[:3])
    return {f"{relation}_remote_id": value} if relation else {}


def _people(record: Record) -> Row:
    return {
        "first_name": _text(record.get("FirstName")),
        "last_name": _text(record.get("LastName")),
        "title": _text(record.get("Title")),
        "email": _text(record.get("Email")),
        "phone": _text(record.get("Phone") or record.get("MobilePhone")),
        "lead_source": _text(record.get("LeadSource")),
        "email_addresses": _emails(record),
        "phone_numbers": _phones(record, ("Phone", "Work"), ("MobilePhone", "Mobile")),
        "last_activity_at": record.get("LastActivityDate"),
        "owner_remote_id": _ref(record, "OwnerId"),
    }


def _with_salesmonk_flag(row: Row, record: Record) -> Row:
    """`created_by_salesmonk` only when the org has the field: without it, the value the
    write sync recorded stays (the upsert writes only the columns a row carries)."""
    if "SalesMonk_Created__c" in record:
        row["created_by_salesmonk"] = bool(record["SalesMonk_Created__c"])
    return row


def user_row(record: Record, ctx: MappingContext) -> Row:
    name = record.get("Name") or f"{_text(record.get('FirstName'))} {_text(record.get('LastName'))}"
    return {
        **_base(record),
        "name": name.strip(),
        "email": _text(record.get("Email")),
        "is_active": bool(record.get("IsActive", True)),
    }


def stage_row(record: Record, ctx: MappingContext) -> Row:
    return {
        **_base(record),
        "name": _text(record.get("MasterLabel") or record.get("ApiName")),
        "is_closed": bool(record.get("IsClosed")),
        "is_won": bool(record.get("IsWon")),
        "probability": record.get("DefaultProbability"),
        "sort_order": record.get("SortOrder"),
    }


def account_row(record: Record, ctx: MappingContext) -> Row:
    row = {
        **_base(record),
        "name": _text(record.get("Name")),
        "description": _text(record.get("Description")),
        "industry": _text(record.get("Industry")),
        "website": _text(record.get("Website")),
        "type": _text(record.get("Type")),
        "last_activity_at": record.get("LastActivityDate"),
        "addresses": _address(record, "Billing", "Billing")
        + _address(record, "Shipping", "Shipping"),
        "phone_numbers": _phones(record, ("Phone", "Work"), ("Fax", "Fax")),
        "owner_remote_id": _ref(record, "OwnerId"),
    }
    return _with_salesmonk_flag(row, record)


def contact_row(record: Record, ctx: MappingContext) -> Row:
    row = {
        **_base(record),
        **_people(record),
        "addresses": _address(record, "Mailing", "Mailing"),
        "account_remote_id": _ref(record, "AccountId"),
    }
    return _with_salesmonk_flag(row, record)


def lead_row(record: Record, ctx: MappingContext) -> Row:
    row = {
        **_base(record),
        **_people(record),
        "company": _text(record.get("Company")),
        "lead_status": _text(record.get("Status")),
        "addresses": _address(record, "", "Lead"),
        "converted_at": record.get("ConvertedDate") if record.get("IsConverted") else None,
        "converted_contact_remote_id": _ref(record, "ConvertedContactId"),
        "converted_account_remote_id": _ref(record, "ConvertedAccountId"),
    }
    return _with_salesmonk_flag(row, record)


def opportunity_row(record: Record, ctx: MappingContext) -> Row:
    if record.get("IsWon"):
        status = OpportunityStatus.WON
    elif record.get("IsClosed"):
        status = OpportunityStatus.LOST
    else:
        status = OpportunityStatus.OPEN
    record_type = (record.get("RecordType") or {}).get("Name")
    if ctx.pipeline_source == "record_type" and record_type:
        pipeline = record_type
    else:
        pipeline = _text(record.get("ForecastCategoryName"))
    return {
        **_base(record),
        "name": _text(record.get("Name")),
        "description": _text(record.get("Description")),
        "amount": record.get("Amount"),
        "close_date": record.get("CloseDate"),
        "pipeline": pipeline,
        "status": status,
        "last_activity_at": record.get("LastActivityDate"),
        "stage_remote_id": ctx.stage_ids.get(_text(record.get("StageName")).lower(), ""),
        "owner_remote_id": _ref(record, "OwnerId"),
        "account_remote_id": _ref(record, "AccountId"),
    }


def task_row(record: Record, ctx: MappingContext) -> Row:
    closed = bool(record.get("IsClosed"))
    row = {
        **_base(record),
        "subject": _text(record.get("Subject")),
        "content": _text(record.get("Description")),
        "status": TaskStatus.CLOSED if closed else TaskStatus.OPEN,
        "due_date": record.get("ActivityDate"),
        "completed_at": record.get("CompletedDateTime")
        or (record.get("SystemModstamp") if closed else None),
        "owner_remote_id": _ref(record, "OwnerId"),
        "account_remote_id": _ref(record, "AccountId"),
        "opportunity_remote_id": "",
        "contact_remote_id": "",
        "lead_remote_id": "",
        **_polymorphic(record, "WhoId"),
    }
    what = _polymorphic(record, "WhatId")
    row.update(
        {k: v for k, v in what.items() if k in ("account_remote_id", "opportunity_remote_id")}
    )
    return row


def _task_activity_type(record: Record) -> ActivityType | None:
    kind = _text(record.get("TaskSubtype") or record.get("Type")).lower()
    if kind == "call":
        return ActivityType.CALL
    if kind == "email":
        return ActivityType.EMAIL
    return None


def _engagement(record: Record, activity: ActivityType, start: Any, end: Any) -> Row:
    who = _text(record.get("WhoId"))
    call_type = _text(record.get("CallType")).lower()
    direction = {"inbound": Direction.INBOUND, "outbound": Direction.OUTBOUND}.get(call_type, "")
    what = _polymorphic(record, "WhatId")
    return {
        **_base(record),
        "subject": _text(record.get("Subject")),
        "content": _text(record.get("Description")),
        "direction": direction,
        "start_time": start,
        "end_time": end,
        "engagement_type_remote_id": activity.value,
        "owner_remote_id": _ref(record, "OwnerId"),
        "account_remote_id": _ref(record, "AccountId") or what.get("account_remote_id", ""),
        "lead_remote_id": who if who.startswith("00Q") else "",
        "contact_remote_ids": [who] if who.startswith("003") else [],
    }


def task_engagement_row(record: Record, ctx: MappingContext) -> Row | None:
    """Calls and emails logged as Tasks are engagements too (Merge's model)."""
    activity = _task_activity_type(record)
    if activity is None:
        return None
    when = (
        record.get("CompletedDateTime") or record.get("ActivityDate") or record.get("CreatedDate")
    )
    return _engagement(record, activity, when, when)


def event_row(record: Record, ctx: MappingContext) -> Row:
    start = (
        record.get("StartDateTime") or record.get("ActivityDateTime") or record.get("ActivityDate")
    )
    return _engagement(record, ActivityType.MEETING, start, record.get("EndDateTime") or start)


def note_row(record: Record, ctx: MappingContext) -> Row:
    return {
        **_base(record),
        "title": _text(record.get("Title")),
        "content": _text(record.get("Body")),
        "owner_remote_id": _ref(record, "OwnerId"),
        "account_remote_id": "",
        "contact_remote_id": "",
        "lead_remote_id": "",
        "opportunity_remote_id": "",
        **_polymorphic(record, "ParentId"),
    }


def engagement_type_rows() -> list[Row]:
    """Salesforce has no engagement-type object: the three kinds are fixed rows."""
    return [
        {"remote_id": kind.value, "activity_type": kind, "name": name}
        for kind, name in ENGAGEMENT_TYPES.items()
    ]


_PEOPLE = ("FirstName", "LastName", "Title", "Email", "Phone", "MobilePhone", "LeadSource")
_PEOPLE += ("OwnerId", "LastActivityDate", "MasterRecordId", "SalesMonk_Created__c")

# In dependency order: parents before children, so most links resolve in the same run.
SPECS: tuple[ObjectSpec, ...] = (
    ObjectSpec("User", CrmUser, ("Name", "FirstName", "LastName", "Email", "IsActive"), user_row),
    ObjectSpec(
        "OpportunityStage",
        Stage,
        ("ApiName", "MasterLabel", "IsClosed", "IsWon", "DefaultProbability", "SortOrder"),
        stage_row,
    ),
    ObjectSpec(
        "Account",
        Account,
        (
            "Name",
            "Description",
            "Industry",
            "Website",
            "Type",
            "Phone",
            "Fax",
            "OwnerId",
            "LastActivityDate",
            "MasterRecordId",
            "SalesMonk_Created__c",
            "BillingStreet",
            "BillingCity",
            "BillingState",
            "BillingPostalCode",
            "BillingCountry",
            "ShippingStreet",
            "ShippingCity",
            "ShippingState",
            "ShippingPostalCode",
            "ShippingCountry",
        ),
        account_row,
        mergeable=True,
    ),
    ObjectSpec(
        "Contact",
        Contact,
        (
            *_PEOPLE,
            "AccountId",
            "MailingStreet",
            "MailingCity",
            "MailingState",
            "MailingPostalCode",
            "MailingCountry",
        ),
        contact_row,
        mergeable=True,
    ),
    ObjectSpec(
        "Lead",
        Lead,
        (
            *_PEOPLE,
            "Company",
            "Status",
            "IsConverted",
            "ConvertedDate",
            "ConvertedContactId",
            "ConvertedAccountId",
            "Street",
            "City",
            "State",
            "PostalCode",
            "Country",
        ),
        lead_row,
        mergeable=True,
    ),
    ObjectSpec(
        "Opportunity",
        Opportunity,
        (
            "Name",
            "Description",
            "Amount",
            "CloseDate",
            "StageName",
            "IsClosed",
            "IsWon",
            "ForecastCategoryName",
            "RecordType.Name",
            "LastActivityDate",
            "OwnerId",
            "AccountId",
        ),
        opportunity_row,
    ),
    ObjectSpec(
        "Task",
        Task,
        (
            "Subject",
            "Description",
            "Status",
            "IsClosed",
            "ActivityDate",
            "CompletedDateTime",
            "OwnerId",
            "WhoId",
            "WhatId",
            "AccountId",
            "Type",
            "TaskSubtype",
            "CallType",
        ),
        task_row,
        also=((Engagement, task_engagement_row),),
    ),
    ObjectSpec(
        "Event",
        Engagement,
        (
            "Subject",
            "Description",
            "StartDateTime",
            "EndDateTime",
            "ActivityDateTime",
            "ActivityDate",
            "OwnerId",
            "WhoId",
            "WhatId",
            "AccountId",
            "Type",
        ),
        event_row,
    ),
    ObjectSpec("Note", Note, ("Title", "Body", "OwnerId", "ParentId"), note_row),
)
SPECS_BY_OBJECT = {spec.sobject: spec for spec in SPECS}
ENGAGEMENT_TYPE_MODEL = EngagementType
