"""Fixtures for Salesforce tests: settings pointing at the emulator, and connected tenants."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.models import PRODUCTION_LOGIN_URL, SalesforceConnection
from integrations.services import connection_connect, oauth_exchange_code
from salesforce_emulator.server import RunningEmulator
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org
from salesmonk.tenants.models import Membership, Tenant

REDIRECT_URI = "http://127.0.0.1:8000/integrations/salesforce/callback"


def authorization_code(org: EmulatedOrg, username: str) -> str:
    """What a browser would do on the emulator's consent page: Allow, then follow the
    redirect back to us carrying the code."""
    response = requests.post(
        f"{org.base_url}/services/oauth2/authorize",
        data={
            "response_type": "code",
            "client_id": org.client_id,
            "redirect_uri": REDIRECT_URI,
            "state": "s",
            "username": username,
            "action": "allow",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


@pytest.fixture
def sf_settings(settings, sf_emulator: RunningEmulator, sf_org: EmulatedOrg) -> EmulatedOrg:
    settings.SALESFORCE_EMULATOR_URL = sf_emulator.base_url
    settings.SALESFORCE_CLIENT_ID = sf_org.client_id
    settings.SALESFORCE_CLIENT_SECRET = sf_org.client_secret
    settings.SALESFORCE_RETRY_BACKOFF_SECONDS = 0
    return sf_org


@pytest.fixture
def connect(
    sf_settings: EmulatedOrg, django_capture_on_commit_callbacks
) -> Callable[..., SalesforceConnection]:
    """Connect a tenant to an org through the OAuth web-server flow (refresh token included)."""

    def _connect(tenant: Tenant, org: EmulatedOrg | None = None, **changes: object):
        org = org or sf_settings
        code = authorization_code(org, org.username)
        tokens = oauth_exchange_code(
            login_url=PRODUCTION_LOGIN_URL, code=code, redirect_uri=REDIRECT_URI
        )
        with django_capture_on_commit_callbacks(execute=True):
            conn = connection_connect(
                tenant=tenant, acting_user=None, login_url=PRODUCTION_LOGIN_URL, tokens=tokens
            )
        if changes:
            SalesforceConnection.objects.filter(pk=conn.pk).update(**changes)
            conn.refresh_from_db()
        return conn

    return _connect


@pytest.fixture
def connected(connect, owner: Membership) -> SalesforceConnection:
    return connect(owner.tenant)


@pytest.fixture
def outsider_org(sf_emulator: RunningEmulator, sf_org: EmulatedOrg):
    """A second org on the same emulator, sharing the first org's connected-app credentials
    so one SalesMonk deployment can connect both."""
    org = create_org(
        sf_emulator.base_url,
        connected_apps=[
            {
                "client_id": sf_org.client_id,
                "client_secret": sf_org.client_secret,
                "redirect_uris": ["http://127.0.0.1:8000/..."],
            }
        ],
    )
    org.client_id, org.client_secret = sf_org.client_id, sf_org.client_secret
    yield org
    delete_org(sf_emulator.base_url, org.name)


@pytest.fixture
def org_for_live_server(settings, sf_emulator, live_server) -> Iterator[EmulatedOrg]:
    """An org whose connected app accepts the live server's callback."""
    name = f"browser-{secrets.token_hex(3)}"
    org = create_org(
        sf_emulator.base_url,
        name=name,
        connected_apps=[
            {
                "client_id": f"client-{name}",  # what `create_org` reports as the client id
                "client_secret": "secret-for-browser",
                "redirect_uris": [f"{live_server.url}/..."],
            }
        ],
    )
    org.client_secret = "secret-for-browser"
    settings.SALESFORCE_EMULATOR_URL = sf_emulator.base_url
    settings.SALESFORCE_CLIENT_ID = org.client_id
    settings.SALESFORCE_CLIENT_SECRET = org.client_secret
    settings.SALESMONK_BASE_URL = live_server.url
    yield org
    delete_org(sf_emulator.base_url, org.name)
