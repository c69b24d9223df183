"""Every object of the unified API answers in the seed's shape, field for field and value
for value, built from mirror rows holding the documented data."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from crm.factories import (
    AccountFactory,
    ContactFactory,
    EngagementFactory,
    EngagementTypeFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    StageFactory,
    TaskFactory,
    UserFactory,
)
from crm.models import EngagementContact, MirrorModel
from crm.tests import seed_examples as seed
from salesmonk.tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _as_documented(row: MirrorModel, example: dict[str, Any]) -> None:
    """Our own timestamps are set when a row is written; give them the documented values."""
    type(row).objects.filter(pk=row.pk).update(
        created_at=_at(example["created_at"]), modified_at=_at(example["modified_at"])
    )


def _id(text: str) -> uuid.UUID:
    return uuid.UUID(text)


def _points(phone: str) -> dict[str, Any]:
    address = {k: v for k, v in seed.ADDRESS.items() if k not in ("created_at", "modified_at")}
    return {
        "addresses": [address],
        "email_addresses": [seed.EMAIL],
        "phone_numbers": [{"phone_number": phone, "phone_number_type": "Mobile"}],
    }


def _get(client: Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def _user(tenant: Tenant, user_id: str) -> Any:
    return UserFactory(tenant=tenant, id=_id(user_id))


def test_contact(tenant: Tenant, api_client: Client) -> None:
    ex = seed.CONTACT
    contact = ContactFactory(
        tenant=tenant,
        id=_id(ex["id"]),
        remote_id="19202938",
        first_name="Gil",
        last_name="Feig",
        account=AccountFactory(tenant=tenant, id=_id(ex["account"])),
        owner=_user(tenant, ex["owner"]),
        last_activity_at=_at("2022-02-10T00:00:00Z"),
        remote_created_at=_at("2021-11-10T00:00:00Z"),
        remote_was_deleted=True,
        **_points("+13785579223"),
    )
    _as_documented(contact, ex)

    assert _get(api_client, f"/api/crm/v1/contacts/{ex['id']}") == ex
    listed = _get(api_client, "/api/crm/v1/contacts?include_deleted_data=true")
    assert listed == {"next": None, "previous": None, "results": [ex]}


def test_engagement(tenant: Tenant, api_client: Client) -> None:
    ex = seed.ENGAGEMENT
    contact = ContactFactory(tenant=tenant, id=_id(seed.FIXED_CONTACT_ID))
    engagement = EngagementFactory(
        tenant=tenant,
        id=_id(ex["id"]),
        remote_id="19202938",
        owner=_user(tenant, ex["owner"]),
        content="Call for negotiation",
        subject="Call from customer",
        direction="INBOUND",
        engagement_type=EngagementTypeFactory(tenant=tenant, id=_id(ex["engagement_type"])),
        start_time=_at("2022-02-10T00:00:00Z"),
        end_time=_at("2022-02-10T00:05:00Z"),
        account=AccountFactory(tenant=tenant, id=_id(ex["account"])),
        contact_remote_ids=[contact.remote_id, "003UNMIRRORED0000A"],
        remote_was_deleted=True,
    )
    for remote_id, linked in ((contact.remote_id, contact), ("003UNMIRRORED0000A", None)):
        EngagementContact.objects.create(
            tenant=tenant, engagement=engagement, contact=linked, contact_remote_id=remote_id
        )
    _as_documented(engagement, ex)

    assert _get(api_client, f"/api/crm/v1/engagements/{ex['id']}") == ex


def test_engagement_type_with_remote_fields(tenant: Tenant, api_client: Client) -> None:
    ex = seed.ENGAGEMENT_TYPE
    kind = EngagementTypeFactory(
        tenant=tenant,
        id=_id(ex["id"]),
        remote_id="19202938",
        activity_type="CALL",
        name="First Call",
        remote_data={"attributes": {"type": "Task"}, "CallType__c": "Inbound"},
    )
    _as_documented(kind, ex)

    body = _get(api_client, f"/api/crm/v1/engagement-types/{ex['id']}")

    assert {k: v for k, v in body.items() if k != "remote_fields"} == {
        k: v for k, v in ex.items() if k != "remote_fields"
    }
    assert body["remote_fields"] == [
        {
            "remote_field_class": {
                "id": "EngagementType.CallType__c",
                "display_name": "CallType__c",
                "remote_key_name": "CallType__c",
                "description": "",
                "is_custom": True,
                "is_required": False,
                "field_type": "string",
                "field_format": "",
                "field_choices": [],
                "item_schema": None,
            },
            "value": "Inbound",
        }
    ]
    documented = ex["remote_fields"][0]
    assert body["remote_fields"][0].keys() == documented.keys()
    assert (
        body["remote_fields"][0]["remote_field_class"].keys()
        == documented["remote_field_class"].keys()
    )


def test_lead(tenant: Tenant, api_client: Client) -> None:
    ex = seed.LEAD
    lead = LeadFactory(
        tenant=tenant,
        id=_id(ex["id"]),
        remote_id="19202938",
        owner=_user(tenant, ex["owner"]),
        lead_source="API Blogger",
        title="Co-Founder",
        company="K-LINK",
        first_name="Gil",
        last_name="Feig",
        remote_updated_at=_at("2022-02-10T00:00:00Z"),
        remote_created_at=_at("2021-11-10T00:00:00Z"),
        converted_at=_at("2022-03-10T00:00:00Z"),
        converted_contact=ContactFactory(tenant=tenant, id=_id(ex["converted_contact"])),
        converted_account=AccountFactory(tenant=tenant, id=_id(ex["converted_account"])),
        remote_was_deleted=True,
        **_points("+16789932455"),
    )
    _as_documented(lead, ex)

    assert _get(api_client, f"/api/crm/v1/leads/{ex['id']}") == ex


def test_note(tenant: Tenant, api_client: Client) -> None:
    ex = seed.NOTE
    note = NoteFactory(
        tenant=tenant,
        id=_id(ex["id"]),
        remote_id="19202938",
        owner=_user(tenant, ex["owner"]),
        content="K-LINK is hiring!",
        contact=ContactFactory(tenant=tenant, id=_id(ex["contact"])),
        account=AccountFactory(tenant=tenant, id=_id(ex["account"])),
        opportunity=OpportunityFactory(tenant=tenant, id=_id(ex["opportunity"])),
        remote_updated_at=_at("2022-02-10T00:00:00Z"),
        remote_created_at=_at("2021-11-10T00:00:00Z"),
        remote_was_deleted=True,
    )
    _as_documented(note, ex)

    assert _get(api_client, f"/api/crm/v1/notes/{ex['id']}") == ex


def test_opportunity(tenant: Tenant, api_client: Client) -> None:
    ex = seed.OPPORTUNITY
    opportunity = OpportunityFactory(
        tenant=tenant,
        id=_id(ex["id"]),
        remote_id="19202938",
        name="Needs Integrations",
        description="Needs a Unified API for Integrations!",
        amount=Decimal("100000.00"),
        owner=_user(tenant, ex["owner"]),
        account=AccountFactory(tenant=tenant, id=_id(ex["account"])),
        stage=StageFactory(tenant=tenant, id=_id(ex["stage"])),
        status="WON",
        last_activity_at=_at("2022-02-10T00:00:00Z"),
        close_date=dt.date(2022, 2, 10),
        remote_created_at=_at("2021-11-10T00:00:00Z"),
        remote_was_deleted=True,
    )
    _as_documented(opportunity, ex)

    body = _get(api_client, f"/api/crm/v1/opportunities/{ex['id']}")

    assert body == ex
    assert type(body["amount"]) is int


def test_stage_task_and_user(tenant: Tenant, api_client: Client) -> None:
    stage = StageFactory(
        tenant=tenant,
        id=_id(seed.STAGE["id"]),
        remote_id="19202938",
        name="Proposal",
        remote_was_deleted=True,
    )
    _as_documented(stage, seed.STAGE)
    user = UserFactory(
        tenant=tenant,
        id=_id(seed.USER["id"]),
        remote_id="19202938",
        name="Gil Feig",
        email="hello@klink.cloud",
        remote_was_deleted=True,
    )
    _as_documented(user, seed.USER)
    ex = seed.TASK
    task = TaskFactory(
        tenant=tenant,
        id=_id(ex["id"]),
        remote_id="19202938",
        subject="Contact about Integration Strategy",
        content="Follow up to see whether they need integrations",
        owner=user,
        account=AccountFactory(tenant=tenant, id=_id(ex["account"])),
        opportunity=OpportunityFactory(tenant=tenant, id=_id(ex["opportunity"])),
        completed_at=_at("2022-02-11T00:00:00Z"),
        due_date=dt.date(2022, 2, 10),
        status="OPEN",
        remote_was_deleted=True,
    )
    _as_documented(task, ex)

    assert _get(api_client, f"/api/crm/v1/stages/{seed.STAGE['id']}") == seed.STAGE
    assert _get(api_client, f"/api/crm/v1/users/{seed.USER['id']}") == seed.USER
    assert _get(api_client, f"/api/crm/v1/tasks/{ex['id']}") == ex


def test_account_in_merge_shape_with_expanded_owner(tenant: Tenant, api_client: Client) -> None:
    owner = UserFactory(tenant=tenant, name="Ada Rep", email="ada@acme.example")
    account = AccountFactory(
        tenant=tenant,
        name="Initech",
        description="",
        website="https://initech.example",
        owner=owner,
        addresses=[{"street_1": "1 Main St", "city": "Austin", "address_type": "Billing"}],
        phone_numbers=[{"phone_number": "+15125550100", "phone_number_type": "Work"}],
    )

    body = _get(api_client, f"/api/crm/v1/accounts/{account.pk}?expand=owner")

    assert body == {
        "id": str(account.pk),
        "remote_id": account.remote_id,
        "created_at": _iso(account.created_at),
        "modified_at": _iso(account.modified_at),
        "owner": {
            "id": str(owner.pk),
            "remote_id": owner.remote_id,
            "created_at": _iso(owner.created_at),
            "modified_at": _iso(owner.modified_at),
            "name": "Ada Rep",
            "email": "ada@acme.example",
            "is_active": True,
            "remote_was_deleted": False,
        },
        "name": "Initech",
        "description": None,
        "industry": "Technology",
        "website": "https://initech.example",
        "addresses": [
            {
                "street_1": "1 Main St",
                "street_2": None,
                "city": "Austin",
                "state": None,
                "postal_code": None,
                "country": None,
                "address_type": "Billing",
                "created_at": _iso(account.created_at),
                "modified_at": _iso(account.modified_at),
            }
        ],
        "phone_numbers": [
            {
                "phone_number": "+15125550100",
                "phone_number_type": "Work",
                "created_at": _iso(account.created_at),
                "modified_at": _iso(account.modified_at),
            }
        ],
        "last_activity_at": None,
        "remote_updated_at": "2026-01-15T09:30:00Z",
        "remote_created_at": "2025-12-16T09:30:00Z",
        "remote_was_deleted": False,
    }


def test_include_remote_data_adds_the_raw_record(tenant: Tenant, api_client: Client) -> None:
    raw = {
        "attributes": {"type": "Contact", "url": "/services/data/v59.0/sobjects/Contact/003A"},
        "Id": "003A",
        "Email": "gil@klink.cloud",
    }
    contact = ContactFactory(tenant=tenant, remote_id="003A", remote_data=raw)

    with_raw = _get(api_client, f"/api/crm/v1/contacts/{contact.pk}?include_remote_data=true")
    without = _get(api_client, f"/api/crm/v1/contacts/{contact.pk}")

    assert with_raw["remote_data"] == [
        {"path": "/services/data/v59.0/sobjects/Contact/003A", "data": raw}
    ]
    assert "remote_data" not in without
    assert {k: v for k, v in with_raw.items() if k != "remote_data"} == without


def test_the_outsider_gets_404_for_every_documented_object(
    tenant: Tenant, outsider: Membership, outsider_api_client: Client
) -> None:
    paths = {
        "contacts": ContactFactory(tenant=tenant).pk,
        "engagements": EngagementFactory(tenant=tenant).pk,
        "leads": LeadFactory(tenant=tenant).pk,
        "notes": NoteFactory(tenant=tenant).pk,
        "opportunities": OpportunityFactory(tenant=tenant).pk,
        "tasks": TaskFactory(tenant=tenant).pk,
        "stages": StageFactory(tenant=tenant).pk,
        "users": UserFactory(tenant=tenant).pk,
        "engagement-types": EngagementTypeFactory(tenant=tenant).pk,
        "accounts": AccountFactory(tenant=tenant).pk,
    }

    for name, pk in paths.items():
        response = outsider_api_client.get(f"/api/crm/v1/{name}/{pk}")
        assert response.status_code == 404, name
        assert response.json() == {"code": "not_found", "detail": "No such record."}
        assert outsider_api_client.get(f"/api/crm/v1/{name}").json()["results"] == [], name


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
