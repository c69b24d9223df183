"""The API against its own OpenAPI document, with schemathesis: generated requests (valid
and invalid) never get a 5xx, and every answer matches the documented status codes, content
types, headers and schemas."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from crm.api.resources import RESOURCES
from crm.api.services import IssuedKey
from crm.factories import (
    ContactFactory,
    EngagementFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    TaskFactory,
)
from crm.models import EngagementContact
from salesmonk.paging import Cursor, cursor_encode
from salesmonk.tenants.models import Membership, Tenant

schema = schemathesis.openapi.from_wsgi("/api/crm/v1/openapi.json", get_wsgi_application())

pytestmark = pytest.mark.django_db


@pytest.fixture
def _test_connection_stays_open() -> Iterator[None]:
    """schemathesis calls the WSGI app directly, whose request signals would close the
    connection holding the test's transaction; Django's test client unhooks them the same way."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def record_ids(tenant: Tenant, outsider: Membership) -> dict[str, str]:
    """One record of each object (with its linked records) for us, and some for the outsider,
    so detail requests hit real rows and list requests real pages."""
    ContactFactory(tenant=outsider.tenant)
    contact = ContactFactory(tenant=tenant, remote_data={"Id": "x", "Custom__c": [1, "a"]})
    engagement = EngagementFactory(tenant=tenant, account=contact.account)
    EngagementContact.objects.create(
        tenant=tenant, engagement=engagement, contact=contact, contact_remote_id=contact.remote_id
    )
    lead = LeadFactory(tenant=tenant, converted_contact=contact, converted_account=contact.account)
    opportunity = OpportunityFactory(tenant=tenant, account=contact.account)
    note = NoteFactory(tenant=tenant, contact=contact, opportunity=opportunity)
    task = TaskFactory(tenant=tenant, opportunity=opportunity, account=contact.account)
    return {
        "accounts": str(contact.account_id),
        "contacts": str(contact.pk),
        "engagement-types": str(engagement.engagement_type_id),
        "engagements": str(engagement.pk),
        "leads": str(lead.pk),
        "notes": str(note.pk),
        "opportunities": str(opportunity.pk),
        "stages": str(opportunity.stage_id),
        "tasks": str(task.pk),
        "users": str(contact.owner_id),
    }


@pytest.fixture
def cursors(record_ids: dict[str, str]) -> dict[str, str]:
    """A real cursor per object: generated strings are (rightly) refused as forged."""
    found = {}
    for resource in RESOURCES:
        row = resource.model.objects.get(pk=record_ids[resource.name])
        found[resource.name] = cursor_encode(Cursor(row.created_at, row.pk), scope=resource.name)
    return found


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _headers_are_negated(case: schemathesis.Case) -> bool:
    """A negative case with invalid headers: the test replaces the Authorization header with
    a real key, which can undo the invalid part, so whether it must be refused is unknown."""
    if not (case.meta and case.meta.generation.mode.is_negative):
        return False
    negated = {loc for loc, info in case.meta.components.items() if info.mode.is_negative}
    return ParameterLocation.HEADER in negated


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@override_settings(CRM_API_RATE_LIMIT=100_000)
@pytest.mark.usefixtures("_test_connection_stays_open")
def test_the_api_keeps_its_openapi_contract(
    case: schemathesis.Case,
    api_key: IssuedKey,
    record_ids: dict[str, str],
    cursors: dict[str, str],
) -> None:
    if _headers_are_negated(case):
        return  # the valid key sent below may undo the invalid part: nothing to judge
    name = case.operation.path.split("/")[4]  # /api/crm/v1/<name>[/{id}]
    path_parameters = case.path_parameters or {}
    if "id" in path_parameters and _is_uuid(path_parameters["id"]):
        # Random UUIDs are all 404s; ask for a real record so its answer is checked too.
        path_parameters["id"] = record_ids[name]
    if (
        case.query
        and "cursor" in case.query
        and case.meta
        and case.meta.generation.mode.is_positive
    ):
        case.query["cursor"] = cursors[name]
    case.call_and_validate(headers={"Authorization": f"Bearer {api_key.token}"})


def test_the_openapi_document_lists_every_object(client: Any) -> None:
    document = client.get("/api/crm/v1/openapi.json").json()

    assert document["openapi"] == "3.1.0"
    assert sorted(document["paths"]) == sorted(
        path
        for resource in RESOURCES
        for path in (f"/api/crm/v1/{resource.name}", f"/api/crm/v1/{resource.name}/{{id}}")
    )
    assert document["components"]["securitySchemes"] == {
        "ApiKeyAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A SalesMonk API key, created under Settings → API keys.",
        }
    }


def test_the_docs_page_serves_its_assets_itself(client: Any) -> None:
    page = client.get("/api/crm/v1/docs")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.content.decode())

    assert page.status_code == 200
    assert assets == [
        "/static/ninja/swagger-ui.css",
        "/static/ninja/favicon.svg",
        "/static/ninja/favicon.png",
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui-init.js",
    ]
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")) is not None, asset
