"""Connecting a tenant to Salesforce over the emulator: OAuth grants, the administrator
check, encrypted tokens, audit and the sync schedule."""

from __future__ import annotations

import pytest
from django_q.models import Schedule

from integrations.models import PRODUCTION_LOGIN_URL, ConnectionStatus, SalesforceConnection
from integrations.salesforce.transport import build_session
from integrations.schedules import reconcile, schedule_name
from integrations.services import (
    ConnectError,
    connection_connect,
    connection_disconnect,
    oauth_exchange_code,
    oauth_password_grant,
)
from integrations.tests.conftest import REDIRECT_URI, authorization_code
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import AuditEvent, Membership

pytestmark = pytest.mark.django_db


def test_admin_connects_with_the_web_server_flow(
    connect, sf_settings: EmulatedOrg, owner: Membership, outsider: Membership
) -> None:
    conn = connect(owner.tenant)

    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.CONNECTED
    assert conn.org_id == sf_settings.org_id
    assert conn.instance_url == sf_settings.instance_url
    assert (conn.installer_remote_id, conn.installer_username) == (
        sf_settings.user_id,
        sf_settings.username,
    )
    assert conn.installer_is_admin is True
    # Tokens are encrypted at rest and decrypt to working values.
    assert conn.access_token
    assert conn.refresh_token
    assert conn.access_token not in conn.access_token_encrypted
    assert conn.refresh_token not in conn.refresh_token_encrypted
    event = AuditEvent.objects.for_tenant(owner.tenant).get(action="salesforce.connected")
    assert event.target == sf_settings.username
    assert event.data["org_id"] == sf_settings.org_id
    schedule = Schedule.objects.get(name=schedule_name(owner.tenant))
    assert (schedule.func, schedule.minutes) == ("integrations.tasks.read_sync", 5)
    assert not SalesforceConnection.objects.filter(tenant=outsider.tenant).exists()
    assert not Schedule.objects.filter(name=schedule_name(outsider.tenant)).exists()


def test_non_administrator_is_refused(sf_settings: EmulatedOrg, owner: Membership) -> None:
    code = authorization_code(sf_settings, sf_settings.rep_username)
    tokens = oauth_exchange_code(
        login_url=PRODUCTION_LOGIN_URL, code=code, redirect_uri=REDIRECT_URI
    )
    with pytest.raises(ConnectError, match="is not a Salesforce administrator"):
        connection_connect(
            tenant=owner.tenant,
            acting_user=owner.user,
            login_url=PRODUCTION_LOGIN_URL,
            tokens=tokens,
        )
    assert not SalesforceConnection.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="salesforce.").exists()


def test_password_grant_connects_without_refresh_token(
    sf_settings: EmulatedOrg, owner: Membership
) -> None:
    tokens = oauth_password_grant(
        login_url=PRODUCTION_LOGIN_URL,
        username=sf_settings.username,
        password=sf_settings.password,
    )
    conn = connection_connect(
        tenant=owner.tenant, acting_user=owner.user, login_url=PRODUCTION_LOGIN_URL, tokens=tokens
    )
    assert conn.status == ConnectionStatus.CONNECTED
    assert conn.refresh_token == ""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda org: oauth_exchange_code(
                login_url=PRODUCTION_LOGIN_URL, code="bogus", redirect_uri=REDIRECT_URI
            ),
            "invalid authorization code",
        ),
        (
            lambda org: oauth_password_grant(
                login_url=PRODUCTION_LOGIN_URL, username=org.username, password="wrong"
            ),
            "authentication failure",
        ),
    ],
)
def test_refused_grants_say_why(sf_settings: EmulatedOrg, call, message: str) -> None:
    with pytest.raises(ConnectError, match=message):
        call(sf_settings)


def test_disconnect_forgets_tokens_and_stops_syncing(
    connected: SalesforceConnection, owner: Membership, django_capture_on_commit_callbacks
) -> None:
    old_token = connected.access_token
    with django_capture_on_commit_callbacks(execute=True):
        connection_disconnect(tenant=owner.tenant, acting_user=owner.user)

    connected.refresh_from_db()
    assert connected.status == ConnectionStatus.DISCONNECTED
    assert connected.access_token_encrypted == connected.refresh_token_encrypted == ""
    assert not Schedule.objects.filter(name=schedule_name(owner.tenant)).exists()
    assert AuditEvent.objects.filter(action="salesforce.disconnected").count() == 1
    # The token was revoked at Salesforce too.
    response = build_session().get(
        f"{connected.instance_url}/services/data/v59.0/limits",
        headers={"Authorization": f"Bearer {old_token}"},
    )
    assert response.status_code == 401


def test_schedules_reconcile_to_connected_tenants(
    connected: SalesforceConnection, owner: Membership
) -> None:
    Schedule.objects.filter(name=schedule_name(owner.tenant)).delete()
    Schedule.objects.create(name="salesforce-read-sync:stale", func="x", schedule_type="I")
    assert reconcile() == (1, 1)
    read_syncs = Schedule.objects.filter(name__startswith="salesforce-read-sync:")
    assert list(read_syncs.values_list("name", flat=True)) == [schedule_name(owner.tenant)]
    assert Schedule.objects.filter(name="salesforce-write-drain").exists()
