"""The browser's side of the OAuth 2.0 web-server flow, started from Settings → Salesforce.

`flow_start` remembers, in the member's session, a random `state`, the login URL they chose
(production or sandbox) and their tenant, and returns the authorize URL to send the browser
to. `flow_finish` checks the state that comes back (once: it is removed whatever happens),
exchanges the code and connects through `integrations.services`, which refuses anyone who is
not a Salesforce administrator.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse

from integrations.models import PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL, SalesforceConnection
from integrations.services import ConnectError, connection_connect, oauth_exchange_code
from salesmonk.tenants.models import Tenant, User

SESSION_KEY = "salesforce_oauth"
LOGIN_URLS = {"production": PRODUCTION_LOGIN_URL, "sandbox": SANDBOX_LOGIN_URL}
AUTHORIZE_PATH = "/services/oauth2/authorize"
SCOPES = "api refresh_token id"


class FlowStateError(Exception):
    """The callback does not belong to a connect this browser started (forged, replayed,
    expired with the session, or started in another workspace)."""


def redirect_uri() -> str:
    """The callback registered on SalesMonk's connected app: the public base URL, so it is
    the same whichever host name the member used."""
    return settings.SALESMONK_BASE_URL + reverse("settings_salesforce_callback")


def authorize_url(*, login_url: str, state: str, callback_url: str) -> str:
    """Where to send the browser to log in and allow SalesMonk.

    With `SALESFORCE_EMULATOR_URL` set (development, tests) the browser cannot reach
    Salesforce's login hosts; server-side calls are routed to the emulator by
    `integrations.salesforce.transport`, but a browser redirect is not, so it goes straight
    to the emulator, which serves both login hosts at one address (it finds the org by the
    client id and the user who logs in). The chosen login URL still matters there: the token
    exchange and the stored connection use it.
    """
    base = (settings.SALESFORCE_EMULATOR_URL or login_url).rstrip("/")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "redirect_uri": callback_url,
            "state": state,
            "scope": SCOPES,
        }
    )
    return f"{base}{AUTHORIZE_PATH}?{query}"


def flow_start(*, session: MutableMapping[str, Any], tenant: Tenant, environment: str) -> str:
    """Begin connecting `tenant` to a production or sandbox org; returns the authorize URL.
    A new start replaces an unfinished one."""
    login_url = LOGIN_URLS[environment]
    state = secrets.token_urlsafe(32)
    session[SESSION_KEY] = {"state": state, "login_url": login_url, "tenant_id": str(tenant.pk)}
    return authorize_url(login_url=login_url, state=state, callback_url=redirect_uri())


def flow_state_take(*, session: MutableMapping[str, Any], tenant: Tenant, state: str) -> str:
    """Check the callback's `state` against the one this session started, removing it
    either way (single use); returns the login URL chosen at the start."""
    started = session.pop(SESSION_KEY, None)
    if not isinstance(started, dict) or not state:
        raise FlowStateError("This sign-in did not start here, or it was already used.")
    if not hmac.compare_digest(str(started.get("state", "")), state):
        raise FlowStateError("This sign-in did not start here, or it was already used.")
    if started.get("tenant_id") != str(tenant.pk):
        raise FlowStateError("This sign-in was started in another workspace.")
    return str(started["login_url"])


def flow_finish(
    *, tenant: Tenant, acting_user: User | None, login_url: str, code: str
) -> SalesforceConnection:
    """Exchange the authorization code and connect. Raises `ConnectError` with a message
    for the member (a reused or expired code, a non-administrator, an unreachable org)."""
    try:
        tokens = oauth_exchange_code(login_url=login_url, code=code, redirect_uri=redirect_uri())
    except requests.RequestException as exc:
        raise ConnectError("Could not reach Salesforce to finish connecting; try again.") from exc
    return connection_connect(
        tenant=tenant, acting_user=acting_user, login_url=login_url, tokens=tokens
    )
