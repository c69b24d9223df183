"""API keys: stored hashed, shown once, revoked for good, audited; one tenant's key never
reads another tenant's records."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from crm.api.selectors import api_key_authenticate
from crm.api.services import IssuedKey, api_key_create, api_key_revoke
from crm.factories import ContactFactory
from crm.models import ApiKey
from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import AuditEvent, Membership, Role

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_as_its_sha256_and_audited(owner: Membership) -> None:
    issued = api_key_create(tenant=owner.tenant, acting_user=owner.user, name="  Warehouse ")

    stored = ApiKey.objects.get()
    assert issued.token.startswith("smk_")
    assert len(issued.token) == 47
    assert stored.key_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.prefix == issued.token[:12]
    assert stored.name == "Warehouse"
    event = AuditEvent.objects.get()
    assert (event.action, event.target, event.actor) == ("api_key.created", "Warehouse", owner.user)
    assert event.data == {"api_key_id": str(stored.pk), "prefix": stored.prefix}


def test_members_cannot_create_or_revoke_keys(owner: Membership, api_key: IssuedKey) -> None:
    member = MembershipFactory(tenant=owner.tenant, role=Role.MEMBER)

    with pytest.raises(PermissionDenied):
        api_key_create(tenant=owner.tenant, acting_user=member.user, name="Mine")
    with pytest.raises(PermissionDenied):
        api_key_revoke(tenant=owner.tenant, acting_user=member.user, api_key=api_key.api_key)
    assert ApiKey.objects.count() == 1


def test_revoking_twice_writes_one_audit_row(owner: Membership, api_key: IssuedKey) -> None:
    first = api_key_revoke(tenant=owner.tenant, acting_user=owner.user, api_key=api_key.api_key)
    second = api_key_revoke(tenant=owner.tenant, acting_user=owner.user, api_key=api_key.api_key)

    assert (first, second) == (True, False)
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1
    assert api_key_authenticate(token=api_key.token) is None


def test_a_revoked_key_is_refused(
    owner: Membership, api_key: IssuedKey, api_client: Client
) -> None:
    assert api_client.get("/api/crm/v1/contacts").status_code == 200

    api_key_revoke(tenant=owner.tenant, acting_user=owner.user, api_key=api_key.api_key)
    response = api_client.get("/api/crm/v1/contacts")

    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthorized",
        "detail": "Send a valid API key: `Authorization: Bearer <key>`.",
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="SalesMonk CRM API"'


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer smk_not-a-key", "Basic dXNlcjpwYXNz", "Bearer " + "smk_" + "x" * 200],
)
def test_missing_or_unknown_keys_are_refused(header: str, api_key: IssuedKey) -> None:
    client = Client(headers={"Authorization": header} if header else {})

    response = client.get("/api/crm/v1/contacts")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_a_session_login_is_not_an_api_key(owner_client: Client) -> None:
    assert owner_client.get("/api/crm/v1/contacts").status_code == 401


def test_keys_of_one_tenant_never_read_another(
    tenant: object, api_client: Client, outsider: Membership, outsider_api_client: Client
) -> None:
    ours = ContactFactory(tenant=tenant)
    theirs = ContactFactory(tenant=outsider.tenant)

    assert [r["id"] for r in api_client.get("/api/crm/v1/contacts").json()["results"]] == [
        str(ours.pk)
    ]
    assert [r["id"] for r in outsider_api_client.get("/api/crm/v1/contacts").json()["results"]] == [
        str(theirs.pk)
    ]
    assert outsider_api_client.get(f"/api/crm/v1/contacts/{ours.pk}").status_code == 404
    assert outsider_api_client.get(f"/api/crm/v1/accounts/{ours.account_id}").status_code == 404
    assert api_client.get(f"/api/crm/v1/contacts/{theirs.pk}").status_code == 404


def test_using_a_key_notes_when_it_was_last_used(api_key: IssuedKey, api_client: Client) -> None:
    assert api_key.api_key.last_used_at is None

    api_client.get("/api/crm/v1/users")

    api_key.api_key.refresh_from_db()
    assert api_key.api_key.last_used_at is not None


# --- the page ------------------------------------------------------------------------------


def test_the_page_creates_a_key_and_shows_it_once(owner_client: Client, owner: Membership) -> None:
    response = owner_client.post("/settings/api-keys/", {"name": "BI export"})

    assert response.status_code == 200
    token = response.context["issued"].token
    assert token.encode() in response.content
    assert response["Cache-Control"] == "no-store"
    stored = ApiKey.objects.for_tenant(owner.tenant).get()
    assert stored.name == "BI export"
    again = owner_client.get("/settings/api-keys/")
    assert token.encode() not in again.content
    assert stored.prefix.encode() in again.content
    assert (
        Client(headers={"Authorization": f"Bearer {token}"}).get("/api/crm/v1/users").status_code
        == 200
    )


def test_the_page_revokes_a_key(owner_client: Client, api_key: IssuedKey) -> None:
    response = owner_client.post(f"/settings/api-keys/{api_key.api_key.pk}/revoke/")

    assert response.status_code == 302
    assert response["Location"] == "/settings/api-keys/"
    api_key.api_key.refresh_from_db()
    assert api_key.api_key.revoked_at is not None


def test_members_see_keys_but_cannot_create_them(owner: Membership, api_key: IssuedKey) -> None:
    member = MembershipFactory(tenant=owner.tenant, role=Role.MEMBER)
    client = Client()
    client.force_login(member.user)

    page = client.get("/settings/api-keys/")
    created = client.post("/settings/api-keys/", {"name": "Sneaky"})

    assert page.status_code == 200
    assert b"Warehouse sync" in page.content
    assert b"Create a key" not in page.content
    assert created.status_code == 200
    assert ApiKey.objects.count() == 1
    assert client.post(f"/settings/api-keys/{api_key.api_key.pk}/revoke/").status_code == 403


def test_the_outsider_sees_none_of_our_keys(outsider_client: Client, api_key: IssuedKey) -> None:
    page = outsider_client.get("/settings/api-keys/")

    assert page.status_code == 200
    assert b"Warehouse sync" not in page.content
    assert list(page.context["api_keys"]) == []
