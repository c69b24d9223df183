"""Test helpers and a pytest plugin: `sf_emulator` (one server per session) and `sf_org`
(a fresh org per test, deleted afterwards), plus the transport adapter that routes
`https://*.salesforce.com` / `*.force.com` to the emulator over plain HTTP.

Register with `pytest_plugins = ["salesforce_emulator.testing"]`.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from salesforce_emulator.server import RunningEmulator, serve_in_thread


class EmulatorAdapter(HTTPAdapter):
    """Rewrites `https://<anything>.salesforce.com|force.com/...` to the emulator's base URL,
    keeping path and query, so simple-salesforce runs unchanged over real HTTP."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        parts = urlsplit(base_url)
        self.scheme, self.netloc = parts.scheme or "http", parts.netloc
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        u = urlsplit(request.url or "")
        host = (u.hostname or "").lower()
        if host.endswith(".salesforce.com") or host.endswith(".force.com"):
            request.url = urlunsplit((self.scheme, self.netloc, u.path, u.query, u.fragment))
        return super().send(request, **kwargs)


def emulator_session(base_url: str) -> requests.Session:
    """A requests.Session whose https traffic goes to the emulator at `base_url`."""
    session = requests.Session()
    session.mount("https://", EmulatorAdapter(base_url))
    return session


class ControlClient:
    """Thin client for `/__emulator__/orgs/<name>/...`; every method returns parsed JSON."""

    def __init__(self, base_url: str, org: str) -> None:
        self.base = f"{base_url}/__emulator__/orgs/{org}"
        self.http = requests.Session()

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        r = self.http.request(method, self.base + path, json=body, params=params or None)
        if r.status_code >= 400:
            raise AssertionError(f"control {method} {path} -> {r.status_code}: {r.text}")
        return r.json() if r.content else None

    def info(self) -> dict[str, Any]:
        return self._call("GET", "")

    def update(self, **settings: Any) -> dict[str, Any]:
        return self._call("PATCH", "", settings)

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/reset")

    def seed(
        self,
        *,
        size: int | None = None,
        seed: int = 0,
        records: dict[str, list[dict[str, Any]]] | None = None,
        counts: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """Generate `size` accounts (~10 records each) or exactly `counts` per object, and/or
        insert raw `records`."""
        body: dict[str, Any] = {}
        if counts is not None:
            body["generator"] = {"counts": counts, "seed": seed}
        elif size is not None:
            body["generator"] = {"size": size, "seed": seed}
        if records is not None:
            body["records"] = records
        return self._call("POST", "/seed", body)

    def records(self, obj: str, include_deleted: bool = True) -> list[dict[str, Any]]:
        return self._call("GET", f"/records/{obj}", include_deleted=str(include_deleted).lower())

    def create(self, obj: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/records/{obj}", {"fields": fields})

    def edit(self, obj: str, rid: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", f"/records/{obj}/{rid}", {"fields": fields})

    def delete(self, obj: str, rid: str) -> None:
        self._call("DELETE", f"/records/{obj}/{rid}")

    def undelete(self, obj: str, rid: str) -> dict[str, Any]:
        return self._call("POST", f"/records/{obj}/{rid}/undelete")

    def touch(self, obj: str, rid: str) -> dict[str, Any]:
        return self._call("POST", f"/records/{obj}/{rid}/touch")

    def merge(self, obj: str, master_id: str, loser_ids: list[str]) -> dict[str, Any]:
        return self._call(
            "POST", "/merge", {"object": obj, "master_id": master_id, "loser_ids": loser_ids}
        )

    def convert_lead(self, lead_id: str, **options: Any) -> dict[str, Any]:
        return self._call("POST", f"/leads/{lead_id}/convert", options)

    def reassign(self, ids: list[str], owner_id: str) -> dict[str, Any]:
        return self._call("POST", "/reassign", {"ids": ids, "owner_id": owner_id})

    def fault(self, **spec: Any) -> dict[str, Any]:
        return self._call("POST", "/faults", spec)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/faults")

    def expire_sessions(self) -> dict[str, Any]:
        return self._call("POST", "/expire-sessions")

    def exhaust_api(self) -> dict[str, Any]:
        return self._call("POST", "/exhaust-api")

    def api_usage(self, **values: int) -> dict[str, Any]:
        return self._call("POST" if values else "GET", "/api-usage", values or None)

    def clock(self, **change: Any) -> dict[str, Any]:
        return self._call("POST" if change else "GET", "/clock", change or None)

    def counters(self) -> dict[str, Any]:
        return self._call("GET", "/counters")

    def reset_counters(self) -> dict[str, Any]:
        return self._call("POST", "/counters/reset")


@dataclass
class EmulatedOrg:
    """A live org on the emulator with an admin user, a standard user and a connected app."""

    name: str
    base_url: str
    org_id: str
    instance_url: str
    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    user_id: str
    rep_username: str
    rep_user_id: str
    redirect_uri: str = "http://127.0.0.1:8000/salesforce/callback"
    control: ControlClient = field(init=False)

    def __post_init__(self) -> None:
        self.control = ControlClient(self.base_url, self.name)

    def session(self) -> requests.Session:
        return emulator_session(self.base_url)

    def records(self, obj: str, include_deleted: bool = True) -> list[dict[str, Any]]:
        return self.control.records(obj, include_deleted)

    def counters(self) -> dict[str, Any]:
        return self.control.counters()

    def salesforce(self, flow: str = "soap", **kwargs: Any) -> Any:
        """A simple_salesforce.Salesforce logged in with SOAP (default) or OAuth password."""
        from simple_salesforce import Salesforce

        if flow == "oauth":
            return Salesforce(
                username=self.username,
                password=self.password,
                consumer_key=self.client_id,
                consumer_secret=self.client_secret,
                session=self.session(),
                **kwargs,
            )
        return Salesforce(
            username=self.username,
            password=self.password,
            security_token=self.security_token,
            session=self.session(),
            **kwargs,
        )


_counter = itertools.count(1)


def create_org(base_url: str, name: str | None = None, **options: Any) -> EmulatedOrg:
    """Create an org through the control API (custom fields on unless `custom_fields=False`)."""
    name = name or f"org{next(_counter)}-{secrets.token_hex(3)}"
    password, token = "s3cret-pass", "TOKEN" + secrets.token_hex(4).upper()
    client_id, secret = f"client-{name}", f"secret-{secrets.token_hex(8)}"
    body = {
        "name": name,
        "users": [
            {
                "username": f"admin@{name}.example",
                "password": password,
                "security_token": token,
                "first_name": "Ada",
                "last_name": "Admin",
                "admin": True,
            },
            {
                "username": f"rep@{name}.example",
                "password": password,
                "security_token": token,
                "first_name": "Riley",
                "last_name": "Rep",
                "admin": False,
            },
        ],
        "connected_apps": [
            {
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": ["http://127.0.0.1:8000/...", "http://localhost:8000/..."],
            }
        ],
    }
    body.update(options)
    r = requests.post(f"{base_url}/__emulator__/orgs", json=body, timeout=30)
    r.raise_for_status()
    info = r.json()
    users = {u["username"]: u["user_id"] for u in info["users"]}
    return EmulatedOrg(
        name=name,
        base_url=base_url,
        org_id=info["org_id"],
        instance_url=info["instance_url"],
        username=f"admin@{name}.example",
        password=password,
        security_token=token,
        client_id=client_id,
        client_secret=secret,
        user_id=users[f"admin@{name}.example"],
        rep_username=f"rep@{name}.example",
        rep_user_id=users[f"rep@{name}.example"],
    )


def delete_org(base_url: str, name: str) -> None:
    requests.delete(f"{base_url}/__emulator__/orgs/{name}", timeout=30)


@pytest.fixture(scope="session")
def sf_emulator() -> Iterator[RunningEmulator]:
    """One in-memory emulator on a free port for the whole test session."""
    running = serve_in_thread()
    yield running
    running.stop()


@pytest.fixture
def sf_org(sf_emulator: RunningEmulator) -> Iterator[EmulatedOrg]:
    """A fresh org (with SalesMonk's custom fields) for one test, deleted afterwards."""
    org = create_org(sf_emulator.base_url)
    yield org
    delete_org(sf_emulator.base_url, org.name)
