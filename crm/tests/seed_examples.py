"""Merge's common CRM model examples, as the product seed (004) documents them.

Copied field for field; only ids that are not valid UUIDs in the documentation
("025fjlc6-…", "a7c55bc6-…-bbfacbfdf4fg") are replaced by valid ones, marked below.
"""

from __future__ import annotations

from typing import Any

ADDRESS = {
    "street_1": "50 Bowling Green Dr",
    "street_2": "Golden Gate Park",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94122",
    "country": "US",
    "address_type": "Shipping",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
}
EMAIL = {"email_address": "hello@klink.cloud", "email_address_type": "Work"}
FIXED_ACCOUNT_ID = "025fa1c6-6000-430a-848e-aafacbadf4fe"  # documented as "025fjlc6-…"
FIXED_CONTACT_ID = "a7c55bc6-2940-c80a-848e-bbfacbfdf4f0"  # documented as "…-bbfacbfdf4fg"

CONTACT: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "first_name": "Gil",
    "last_name": "Feig",
    "account": "0958cbc6-6040-430a-848e-aafacbadf4ae",
    "owner": "b8fbfc30-0982-420e-8c20-dab07b70b9d6",
    "addresses": [ADDRESS],
    "email_addresses": [EMAIL],
    "phone_numbers": [
        {
            "phone_number": "+13785579223",
            "phone_number_type": "Mobile",
            "created_at": "2021-09-15T00:00:00Z",
            "modified_at": "2021-10-16T00:00:00Z",
        }
    ],
    "last_activity_at": "2022-02-10T00:00:00Z",
    "remote_created_at": "2021-11-10T00:00:00Z",
    "remote_was_deleted": True,
}

ENGAGEMENT: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "owner": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "content": "Call for negotiation",
    "subject": "Call from customer",
    "direction": "INBOUND",
    "engagement_type": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "start_time": "2022-02-10T00:00:00Z",
    "end_time": "2022-02-10T00:05:00Z",
    "account": FIXED_ACCOUNT_ID,
    "contacts": [FIXED_CONTACT_ID],
    "remote_was_deleted": True,
}

ENGAGEMENT_TYPE: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "activity_type": "CALL",
    "name": "First Call",
    "remote_fields": [
        {
            "remote_field_class": {
                "id": "string",
                "display_name": "string",
                "remote_key_name": "string",
                "description": "string",
                "is_custom": True,
                "is_required": True,
                "field_type": "string",
                "field_format": "string",
                "field_choices": ["string"],
                "item_schema": {
                    "item_type": "string",
                    "item_format": "string",
                    "item_choices": ["string"],
                },
            },
            "value": "string",
        }
    ],
}

LEAD: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "owner": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "lead_source": "API Blogger",
    "title": "Co-Founder",
    "company": "K-LINK",
    "first_name": "Gil",
    "last_name": "Feig",
    "addresses": [ADDRESS],
    "email_addresses": [EMAIL],
    "phone_numbers": [
        {
            "phone_number": "+16789932455",
            "phone_number_type": "Mobile",
            "created_at": "2021-09-15T00:00:00Z",
            "modified_at": "2021-10-16T00:00:00Z",
        }
    ],
    "remote_updated_at": "2022-02-10T00:00:00Z",
    "remote_created_at": "2021-11-10T00:00:00Z",
    "converted_date": "2022-03-10T00:00:00Z",
    "converted_contact": FIXED_CONTACT_ID,  # documented as "025fjlc6-…"
    "converted_account": "9c9de072-29cf-48e3-9578-1ca5b145b40e",
    "remote_was_deleted": True,
}

NOTE: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "owner": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "content": "K-LINK is hiring!",
    "contact": FIXED_CONTACT_ID,  # documented as "025fjlc6-…"
    "account": "fba1fbc6-67c0-4cb2-a176-7896acd2ffd5",
    "opportunity": "754a244e-dd67-4731-a8d3-9bff9dc10465",
    "remote_updated_at": "2022-02-10T00:00:00Z",
    "remote_created_at": "2021-11-10T00:00:00Z",
    "remote_was_deleted": True,
}

OPPORTUNITY: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "name": "Needs Integrations",
    "description": "Needs a Unified API for Integrations!",
    "amount": 100000,
    "owner": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "account": "0958cbc6-6040-430a-848e-aafacbadf4ae",
    "stage": "1968cbc6-6040-430a-848e-aafacbadf4ad",
    "status": "WON",
    "last_activity_at": "2022-02-10T00:00:00Z",
    "close_date": "2022-02-10T00:00:00Z",
    "remote_created_at": "2021-11-10T00:00:00Z",
    "remote_was_deleted": True,
}

STAGE: dict[str, Any] = {
    "id": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "name": "Proposal",
    "remote_was_deleted": True,
}

TASK: dict[str, Any] = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "subject": "Contact about Integration Strategy",
    "content": "Follow up to see whether they need integrations",
    "owner": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "account": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "opportunity": "550e8400-e29b-41d4-a716-446655440000",
    "completed_date": "2022-02-11T00:00:00Z",
    "due_date": "2022-02-10T00:00:00Z",
    "status": "OPEN",
    "remote_was_deleted": True,
}

USER: dict[str, Any] = {
    "id": "0358cbc6-2040-430a-848e-aafacbadf3aa",
    "remote_id": "19202938",
    "created_at": "2021-09-15T00:00:00Z",
    "modified_at": "2021-10-16T00:00:00Z",
    "name": "Gil Feig",
    "email": "hello@klink.cloud",
    "is_active": True,
    "remote_was_deleted": True,
}
