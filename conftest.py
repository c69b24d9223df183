"""Project-wide fixtures: a tenant with a logged-in member, an outsider tenant, and the
Salesforce emulator (`sf_emulator`, `sf_org`)."""

from __future__ import annotations

import pytest
from django.test import Client

from salesmonk.tenants.factories import MembershipFactory, TenantFactory
from salesmonk.tenants.models import Membership, Role, Tenant

pytest_plugins = ["salesforce_emulator.testing"]


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """Tests create hundreds of logins; the real hasher's deliberate slowness would be half the
    suite's time and proves nothing about our code."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True)
def _ip_answers_forgotten() -> None:
    """IP → company answers are kept per process; each test starts without them."""
    from visitors.tracking.resolvers import ip_answers_forget

    ip_answers_forget()


@pytest.fixture
def tenant(db: None) -> Tenant:
    return TenantFactory(name="Acme Inc")


@pytest.fixture
def owner(tenant: Tenant) -> Membership:
    return MembershipFactory(tenant=tenant, role=Role.OWNER, user__email="owner@acme.example")


@pytest.fixture
def owner_client(owner: Membership) -> Client:
    client = Client()
    client.force_login(owner.user)
    return client


@pytest.fixture
def outsider(db: None) -> Membership:
    """The owner of another tenant: every test file checks our data never reaches them."""
    return MembershipFactory(
        tenant=TenantFactory(name="Globex Corp"),
        role=Role.OWNER,
        user__email="owner@globex.example",
    )


@pytest.fixture
def outsider_client(outsider: Membership) -> Client:
    client = Client()
    client.force_login(outsider.user)
    return client
