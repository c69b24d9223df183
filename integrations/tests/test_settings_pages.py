"""Settings → Salesforce and Settings → Members, end to end over the emulator: the browser
leg of the OAuth web-server flow is walked with `requests` exactly as a browser would (the
consent page, its form, the redirect back to us)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from integrations import oauth_web
from integrations.models import (
    PRODUCTION_LOGIN_URL,
    SANDBOX_LOGIN_URL,
    ApiUsageDay,
    ConnectionStatus,
    SalesforceConnection,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from integrations.services import DESCRIBE_REFRESH_TASK
from integrations.sync_now import READ_SYNC_TASK
from integrations.tasks import describe_refresh
from integrations.write.policy import writes_enable
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org
from salesmonk.tenants.factories import MembershipFactory, UserFactory
from salesmonk.tenants.models import AuditEvent, Membership, Role

pytestmark = pytest.mark.django_db

BASE_URL = "http://127.0.0.1:8000"
PAGE = reverse("settings_salesforce")


@pytest.fixture
def web(settings, sf_settings: EmulatedOrg) -> EmulatedOrg:
    settings.SALESMONK_BASE_URL = BASE_URL
    return sf_settings


def start(client: Client, environment: str = "production") -> str:
    response = client.post(reverse("settings_salesforce_connect"), {"environment": environment})
    assert response.status_code == 302, response.content
    return response["Location"]


def consent(authorize: str, username: str, action: str = "allow") -> str:
    """The browser on the authorize page: load it, submit its form, return where Salesforce
    sends it back (our callback URL with code or error, and the state)."""
    page = requests.get(authorize, timeout=10)
    assert page.status_code == 200, page.text
    assert "Allow Access?" in page.text
    fields = {
        html.unescape(k): html.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text)
    }
    fields.update(username=username, action=action)
    answer = requests.post(authorize, data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back(client: Client, location: str, *, follow: bool = True):
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
    assert parts.path == reverse("settings_salesforce_callback")
    return client.get(parts.path, parse_qs(parts.query), follow=follow)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_authorize_url_goes_to_salesforce_without_the_emulator(settings) -> None:
    settings.SALESFORCE_EMULATOR_URL = ""
    settings.SALESFORCE_CLIENT_ID = "cid"
    for login_url in (PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL):
        url = oauth_web.authorize_url(
            login_url=login_url, state="st", callback_url="https://app.example/cb/"
        )
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
            f"{login_url}/services/oauth2/authorize"
        )
        assert parse_qs(parts.query) == {
            "response_type": ["code"],
            "client_id": ["cid"],
            "redirect_uri": ["https://app.example/cb/"],
            "state": ["st"],
            "scope": ["api refresh_token id"],
        }


def test_authorize_url_goes_to_the_emulator_when_configured(settings) -> None:
    settings.SALESFORCE_EMULATOR_URL = "http://127.0.0.1:9999/"
    settings.SALESFORCE_CLIENT_ID = "cid"
    url = oauth_web.authorize_url(login_url=SANDBOX_LOGIN_URL, state="st", callback_url="x")
    assert url.startswith("http://127.0.0.1:9999/services/oauth2/authorize?")
    assert parse_qs(urlsplit(url).query)["state"] == ["st"]


def test_admin_connects_through_the_browser_flow(
    web: EmulatedOrg,
    owner: Membership,
    owner_client: Client,
    outsider: Membership,
    django_capture_on_commit_callbacks,
) -> None:
    page = owner_client.get(PAGE)
    assert page.status_code == 200
    assert b"Salesforce is not connected." in page.content
    assert b'data-testid="connect-form"' in page.content

    authorize = start(owner_client)
    assert authorize.startswith(f"{web.base_url}/services/oauth2/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [web.client_id]
    assert query["redirect_uri"] == [f"{BASE_URL}/settings/salesforce/callback/"]
    assert len(query["state"][0]) >= 40

    location = consent(authorize, web.username)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = back(owner_client, location)

    assert len(callbacks) == 2  # the read sync schedule, the describe refresh
    assert [q.func() for q in OrmQ.objects.all()] == [DESCRIBE_REFRESH_TASK]
    assert response.redirect_chain == [(PAGE, 302)]
    conn = SalesforceConnection.objects.get(tenant=owner.tenant)
    assert conn.status == ConnectionStatus.CONNECTED
    assert (conn.org_id, conn.login_url) == (web.org_id, PRODUCTION_LOGIN_URL)
    # The emulator's users have their username as email.
    assert (conn.installer_username, conn.installer_name, conn.installer_email) == (
        web.username,
        "Ada Admin",
        web.username,
    )
    assert conn.refresh_token
    assert messages_of(response) == [
        f"Connected to your Salesforce production org as {web.username}. "
        "The first sync has been scheduled."
    ]
    body = response.content.decode()
    assert "Connected by" in body
    assert web.username in body
    assert "Ada Admin" in body
    assert 'data-testid="connection-status">Connected<' in body
    assert "Reconnect" in body
    event = AuditEvent.objects.for_tenant(owner.tenant).get(action="salesforce.connected")
    assert event.actor == owner.user
    assert not SalesforceConnection.objects.filter(tenant=outsider.tenant).exists()


def test_sandbox_is_remembered_from_start_to_callback(
    web: EmulatedOrg, owner: Membership, owner_client: Client
) -> None:
    location = consent(start(owner_client, "sandbox"), web.username)
    response = back(owner_client, location)

    conn = SalesforceConnection.objects.get(tenant=owner.tenant)
    assert conn.login_url == SANDBOX_LOGIN_URL
    assert conn.is_sandbox
    assert messages_of(response)[0].startswith("Connected to your Salesforce sandbox org")
    assert "Sandbox" in response.content.decode()


def test_non_administrator_is_refused_with_the_reason(
    web: EmulatedOrg, owner: Membership, owner_client: Client
) -> None:
    response = back(owner_client, consent(start(owner_client), web.rep_username))

    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith(f"{web.rep_username} is not a Salesforce administrator")
    assert "A Salesforce administrator must connect SalesMonk" in message
    assert html.escape(message) in response.content.decode()
    assert not SalesforceConnection.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="salesforce.").exists()


def test_a_state_that_does_not_match_is_refused(web: EmulatedOrg, owner_client: Client) -> None:
    location = consent(start(owner_client), web.username)
    forged = re.sub(r"state=[^&]+", "state=forged", location)

    response = back(owner_client, forged, follow=False)

    assert response.status_code == 400
    assert b"This sign-in did not start here, or it was already used." in response.content
    assert not SalesforceConnection.objects.exists()
    # The state was single use: even the genuine answer is refused now.
    assert back(owner_client, location, follow=False).status_code == 400
    assert not SalesforceConnection.objects.exists()


def test_a_callback_nobody_started_is_refused(web: EmulatedOrg, owner_client: Client) -> None:
    response = owner_client.get(reverse("settings_salesforce_callback"), {"code": "x"})
    assert response.status_code == 400
    assert not SalesforceConnection.objects.exists()


def test_a_replayed_callback_and_a_reused_code_are_refused(
    web: EmulatedOrg, owner: Membership, owner_client: Client
) -> None:
    first = consent(start(owner_client), web.username)
    back(owner_client, first)
    connected_at = SalesforceConnection.objects.get().connected_at

    assert back(owner_client, first, follow=False).status_code == 400  # state used up

    # A fresh start, answered with the old (already exchanged) code.
    fresh = parse_qs(urlsplit(start(owner_client)).query)["state"][0]
    replay = re.sub(r"state=[^&]+", f"state={fresh}", first)
    response = back(owner_client, replay)
    assert messages_of(response) == ["Salesforce did not grant access: invalid authorization code."]
    assert SalesforceConnection.objects.get().connected_at == connected_at


def test_denied_access_stores_nothing(web: EmulatedOrg, owner_client: Client) -> None:
    response = back(owner_client, consent(start(owner_client), web.username, action="deny"))

    assert messages_of(response) == [
        "Access was not allowed in Salesforce, so SalesMonk is not connected."
    ]
    assert not SalesforceConnection.objects.exists()


def test_a_callback_without_a_code_is_refused(web: EmulatedOrg, owner_client: Client) -> None:
    state = parse_qs(urlsplit(start(owner_client)).query)["state"][0]
    response = owner_client.get(reverse("settings_salesforce_callback"), {"state": state})
    assert response.status_code == 400
    assert b"Salesforce did not send an authorization code." in response.content


def test_unknown_environment_is_a_form_error(web: EmulatedOrg, owner_client: Client) -> None:
    response = owner_client.post(reverse("settings_salesforce_connect"), {"environment": "x"})
    assert response.status_code == 400
    assert b"Select a valid choice." in response.content


@pytest.fixture
def member_client(owner: Membership) -> Client:
    member = MembershipFactory(tenant=owner.tenant, role=Role.MEMBER)
    client = Client()
    client.force_login(member.user)
    return client


def test_members_read_but_cannot_change_the_connection(
    connected: SalesforceConnection, member_client: Client
) -> None:
    page = member_client.get(PAGE)
    assert page.status_code == 200
    assert b"Only owners and admins" in page.content
    assert b'data-testid="connect-form"' not in page.content
    assert b'data-testid="sync-now"' not in page.content
    for name in (
        "settings_salesforce_connect",
        "settings_salesforce_disconnect",
        "settings_salesforce_sync",
    ):
        assert member_client.post(reverse(name), {"confirm": "on"}).status_code == 403
    assert member_client.get(reverse("settings_salesforce_callback")).status_code == 403
    connected.refresh_from_db()
    assert connected.status == ConnectionStatus.CONNECTED


def test_outsider_sees_only_its_own_connection(
    connected: SalesforceConnection, outsider_client: Client
) -> None:
    page = outsider_client.get(PAGE)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Salesforce is not connected." in body
    assert connected.org_id not in body
    assert connected.installer_username not in body


def test_connected_page_shows_usage_sync_fields_and_write_state(
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
    django_assert_num_queries,
) -> None:
    tenant = owner.tenant
    describe_refresh(str(tenant.pk))  # what connecting queues: the fields are stored
    ApiUsageDay.objects.for_tenant(tenant).filter(day=timezone.now().date()).update(
        calls=1234, org_used=5000, org_limit=15000
    )
    SyncRun.objects.create(
        tenant=tenant, kind=SyncKind.FULL, status=SyncStatus.FAILED, error="<script>boom</script>"
    )
    # session, user, membership, connection, latest sync run, usage, and write health's
    # five (policy, last write run, counts, failed logs, failed intents).
    with django_assert_num_queries(11):
        page = owner_client.get(PAGE)
    body = page.content.decode()
    assert "1234 of 10000" in body
    assert "5000 of 15000" in body
    assert "Failed" in body
    assert "boom" not in body  # an HTML body is never shown, escaped or not
    assert "The server answered with a web page instead of a message." in body
    assert "All SalesMonk custom fields are present." in body
    assert "Writing to Salesforce is off — contact support to enable it." in body

    staff = UserFactory(is_staff=True)
    writes_enable(tenant=tenant, acting_user=staff, flags=["create_leads"], note="ok")
    body = owner_client.get(PAGE).content.decode()
    assert "Writing to Salesforce is off" not in body
    assert re.search(
        r'write-kind-create_leads"><span class="badge badge-sent">On</span> Create Leads<', body
    )
    assert re.search(
        r'write-kind-create_accounts"><span class="badge">Off</span> Create Accounts<', body
    )


def test_missing_custom_fields_are_listed(
    sf_emulator, web: EmulatedOrg, connect, owner: Membership, owner_client: Client
) -> None:
    bare = create_org(
        sf_emulator.base_url,
        custom_fields=False,
        connected_apps=[
            {
                "client_id": web.client_id,
                "client_secret": web.client_secret,
                "redirect_uris": [f"{BASE_URL}/..."],
            }
        ],
    )
    bare.client_id, bare.client_secret = web.client_id, web.client_secret
    try:
        connect(owner.tenant, bare)
        describe_refresh(str(owner.tenant.pk))
        body = owner_client.get(PAGE).content.decode()
    finally:
        delete_org(sf_emulator.base_url, bare.name)
    assert "These SalesMonk custom fields are missing from your org" in body
    assert "<strong>Lead</strong>" in body


def test_needs_reconnecting_shows_the_last_error(
    connect, owner: Membership, owner_client: Client
) -> None:
    connect(
        owner.tenant,
        status=ConnectionStatus.NEEDS_REAUTH,
        last_error="SalesforceAuthError: Salesforce rejected the session <b>3</b> times",
    )
    body = owner_client.get(PAGE).content.decode()
    assert 'data-testid="connection-status">Needs reconnecting<' in body
    assert "Salesforce rejected the session 3 times" in body
    assert "SalesforceAuthError" not in body
    assert "&lt;b&gt;" not in body
    assert "Reconnect" in body


def test_disconnect_needs_confirmation(
    connected: SalesforceConnection, owner_client: Client, django_capture_on_commit_callbacks
) -> None:
    response = owner_client.post(reverse("settings_salesforce_disconnect"), follow=True)
    assert messages_of(response) == ["Tick the box to confirm disconnecting."]
    connected.refresh_from_db()
    assert connected.status == ConnectionStatus.CONNECTED

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("settings_salesforce_disconnect"), {"confirm": "on"}, follow=True
        )
    assert messages_of(response)[0].startswith("Disconnected from Salesforce")
    connected.refresh_from_db()
    assert connected.status == ConnectionStatus.DISCONNECTED
    assert connected.access_token == ""
    assert connected.refresh_token == ""
    assert b'data-testid="connection-status">Disconnected<' in response.content


def test_sync_now_queues_the_read_sync_on_commit(
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
    django_capture_on_commit_callbacks,
) -> None:
    connect_queued = list(OrmQ.objects.values_list("pk", flat=True))  # the describe refresh
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner_client.post(reverse("settings_salesforce_sync"), follow=True)
    assert len(callbacks) == 1
    assert messages_of(response) == ["Sync queued: new and changed records arrive in a minute."]
    [queued] = OrmQ.objects.exclude(pk__in=connect_queued)
    assert queued.func() == READ_SYNC_TASK
    assert queued.task["args"] == (str(owner.tenant.pk),)


def test_sync_now_without_a_connection_says_so(owner_client: Client) -> None:
    response = owner_client.post(reverse("settings_salesforce_sync"), follow=True)
    assert messages_of(response) == ["Connect Salesforce first: there is nothing to sync."]
    assert not OrmQ.objects.exists()
