"""API fixtures: a key and a client for our tenant and for the outsider's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from crm.api.services import IssuedKey, api_key_create
from salesmonk.tenants.models import Membership


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counters live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_key(owner: Membership) -> IssuedKey:
    return api_key_create(tenant=owner.tenant, acting_user=owner.user, name="Warehouse sync")


@pytest.fixture
def api_client(api_key: IssuedKey) -> Client:
    return Client(headers={"Authorization": f"Bearer {api_key.token}"})


@pytest.fixture
def outsider_api_client(outsider: Membership) -> Client:
    issued = api_key_create(tenant=outsider.tenant, acting_user=outsider.user, name="Globex")
    return Client(headers={"Authorization": f"Bearer {issued.token}"})
