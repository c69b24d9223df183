"""The HTTP session every Salesforce call goes through.

simple-salesforce always builds `https://` URLs and logs in at `https://<domain>.salesforce.com`,
so the only switch between a real org and the Salesforce emulator is this module: when
`SALESFORCE_EMULATOR_URL` is set, an adapter routes Salesforce's hosts to the emulator, keeping
the path and query. Everything above it (login, refresh, paging, errors) runs unchanged.

The session also caps re-authentication: simple-salesforce re-logs in on every 401
`INVALID_SESSION_ID` and, for sObject calls, recurses without limit if the 401 never clears.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

SALESFORCE_HOST_SUFFIXES = (".salesforce.com", ".force.com")
MAX_CONSECUTIVE_SESSION_REJECTIONS = 3
# (connect, read) seconds for every call unless the caller sets its own: a hung socket must
# end as a retryable error, not a stuck worker.
DEFAULT_TIMEOUT = (10.0, 120.0)
_LOGIN_PATHS = ("/services/oauth2/token", "/services/Soap/u/")


class SessionRejected(Exception):
    """Salesforce kept refusing our session after re-authenticating: the grant was revoked,
    the user deactivated, or the org locked us out. Needs the customer to reconnect."""


def is_salesforce_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) for suffix in SALESFORCE_HOST_SUFFIXES)


class TimeoutAdapter(HTTPAdapter):
    """Applies `DEFAULT_TIMEOUT` to requests sent without one (simple-salesforce sets none)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = DEFAULT_TIMEOUT
        return super().send(request, **kwargs)


class EmulatorRoutingAdapter(TimeoutAdapter):
    """Sends requests for Salesforce hosts to the emulator's base URL instead."""

    def __init__(self, emulator_url: str, **kwargs: Any) -> None:
        target = urlsplit(emulator_url)
        if target.scheme not in ("http", "https") or not target.netloc:
            raise ValueError(f"SALESFORCE_EMULATOR_URL is not an http(s) URL: {emulator_url!r}")
        self._scheme, self._netloc = target.scheme, target.netloc
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        if is_salesforce_host(url.hostname or ""):
            request.headers["X-Forwarded-Host"] = url.netloc
            request.url = urlunsplit((self._scheme, self._netloc, url.path, url.query, ""))
        return super().send(request, **kwargs)


class _SessionRejectionGuard:
    """Response hook breaking simple-salesforce's re-login loop on a 401 that never clears."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.consecutive = 0

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        path = urlsplit(response.url).path
        if path.startswith(_LOGIN_PATHS):
            return  # a re-login in between does not prove the session works
        if response.status_code != 401:
            self.consecutive = 0
            return
        self.consecutive += 1
        if self.consecutive > self.limit:
            self.consecutive = 0
            raise SessionRejected(
                f"Salesforce rejected the session {self.limit + 1} times in a row "
                f"({response.request.method} {path})."
            )


def build_session(*, emulator_url: str | None = None) -> requests.Session:
    """A session for one Salesforce connection, routed to the emulator when configured."""
    session = requests.Session()
    target = emulator_url if emulator_url is not None else settings.SALESFORCE_EMULATOR_URL
    adapter = EmulatorRoutingAdapter(target) if target else TimeoutAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.hooks["response"].append(_SessionRejectionGuard(MAX_CONSECUTIVE_SESSION_REJECTIONS))
    return session
