"""The unified API's JSON shapes, field for field as Merge's common CRM model documents them.

These pydantic schemas are the contract: ninja validates every response against them and
generates the OpenAPI document from them, so the document and the answers cannot drift.
They are also the one list of fields: `crm/api/resources.py` compiles each object's
serializer from its schema (a field whose model column has the same name is added here and
nowhere else). A related object is its id, or the whole object when the request `expand`s it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninja import Schema
from pydantic import Field


class ErrorOut(Schema):
    """Every error answer: a stable machine-readable `code` and a sentence for people."""

    code: str = Field(examples=["invalid_parameter"])
    detail: str = Field(examples=["page_size: Input should be less than or equal to 100"])


class AddressOut(Schema):
    street_1: str | None
    street_2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None
    address_type: str | None
    created_at: dt.datetime
    modified_at: dt.datetime


class EmailAddressOut(Schema):
    email_address: str
    email_address_type: str | None


class PhoneNumberOut(Schema):
    phone_number: str
    phone_number_type: str | None
    created_at: dt.datetime
    modified_at: dt.datetime


class RemoteDataOut(Schema):
    """The raw Salesforce record, as read (`include_remote_data=true`)."""

    path: str
    data: dict[str, Any]


class ItemSchemaOut(Schema):
    item_type: str | None
    item_format: str | None
    item_choices: list[str]


class RemoteFieldClassOut(Schema):
    id: str
    display_name: str
    remote_key_name: str
    description: str
    is_custom: bool
    is_required: bool
    field_type: str
    field_format: str
    field_choices: list[str]
    item_schema: ItemSchemaOut | None


class RemoteFieldOut(Schema):
    remote_field_class: RemoteFieldClassOut
    value: Any


# What every mirrored object has (a comment: a docstring would describe no schema of its own).
class RecordBase(Schema):
    id: uuid.UUID
    remote_id: str
    created_at: dt.datetime
    modified_at: dt.datetime


def _raw() -> Any:
    """`remote_data` is left out of the answer unless the request asks for it."""
    return Field(default=None, description="Only with `include_remote_data=true`.")


class UserOut(RecordBase):
    name: str | None
    email: str | None
    is_active: bool
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class StageOut(RecordBase):
    name: str | None
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class EngagementTypeOut(RecordBase):
    activity_type: str | None
    name: str | None
    remote_fields: list[RemoteFieldOut]
    remote_data: list[RemoteDataOut] | None = _raw()


class AccountOut(RecordBase):
    owner: uuid.UUID | UserOut | None
    name: str | None
    description: str | None
    industry: str | None
    website: str | None
    addresses: list[AddressOut]
    phone_numbers: list[PhoneNumberOut]
    last_activity_at: dt.datetime | None
    remote_updated_at: dt.datetime | None
    remote_created_at: dt.datetime | None
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class ContactOut(RecordBase):
    first_name: str | None
    last_name: str | None
    account: uuid.UUID | AccountOut | None
    owner: uuid.UUID | UserOut | None
    addresses: list[AddressOut]
    email_addresses: list[EmailAddressOut]
    phone_numbers: list[PhoneNumberOut]
    last_activity_at: dt.datetime | None
    remote_created_at: dt.datetime | None
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class LeadOut(RecordBase):
    owner: uuid.UUID | UserOut | None
    lead_source: str | None
    title: str | None
    company: str | None
    first_name: str | None
    last_name: str | None
    addresses: list[AddressOut]
    email_addresses: list[EmailAddressOut]
    phone_numbers: list[PhoneNumberOut]
    remote_updated_at: dt.datetime | None
    remote_created_at: dt.datetime | None
    converted_date: dt.datetime | None
    converted_contact: uuid.UUID | ContactOut | None
    converted_account: uuid.UUID | AccountOut | None
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class OpportunityOut(RecordBase):
    name: str | None
    description: str | None
    amount: int | float | None
    owner: uuid.UUID | UserOut | None
    account: uuid.UUID | AccountOut | None
    stage: uuid.UUID | StageOut | None
    status: str | None = Field(json_schema_extra={"enum": ["OPEN", "WON", "LOST", None]})
    last_activity_at: dt.datetime | None
    close_date: dt.datetime | None
    remote_created_at: dt.datetime | None
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class NoteOut(RecordBase):
    owner: uuid.UUID | UserOut | None
    content: str | None
    contact: uuid.UUID | ContactOut | None
    account: uuid.UUID | AccountOut | None
    opportunity: uuid.UUID | OpportunityOut | None
    remote_updated_at: dt.datetime | None
    remote_created_at: dt.datetime | None
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class TaskOut(RecordBase):
    subject: str | None
    content: str | None
    owner: uuid.UUID | UserOut | None
    account: uuid.UUID | AccountOut | None
    opportunity: uuid.UUID | OpportunityOut | None
    completed_date: dt.datetime | None
    due_date: dt.datetime | None
    status: str | None = Field(json_schema_extra={"enum": ["OPEN", "CLOSED", None]})
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()


class EngagementOut(RecordBase):
    owner: uuid.UUID | UserOut | None
    content: str | None
    subject: str | None
    direction: str | None = Field(json_schema_extra={"enum": ["INBOUND", "OUTBOUND", None]})
    engagement_type: uuid.UUID | EngagementTypeOut | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    account: uuid.UUID | AccountOut | None
    contacts: list[uuid.UUID | ContactOut]
    remote_was_deleted: bool
    remote_data: list[RemoteDataOut] | None = _raw()
