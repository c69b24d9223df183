"""Tenant isolation of every URL that names an object, declared per app in
`<app>/tests/cross_tenant.py`."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.module_loading import autodiscover_modules

from salesmonk.tenants.models import Membership
from salesmonk.tenants.testing import CASES, check_case, object_url_names

autodiscover_modules("tests.cross_tenant")

pytestmark = pytest.mark.django_db


def test_every_object_url_declares_a_cross_tenant_case() -> None:
    missing = object_url_names() - set(CASES)
    assert not missing, f"Declare cross-tenant cases for: {sorted(missing)}"


@pytest.mark.parametrize("url_name", sorted(CASES))
def test_member_of_another_tenant_gets_404(
    url_name: str, owner_client: Client, outsider: Membership
) -> None:
    check_case(owner_client, CASES[url_name], other_tenant=outsider.tenant)


def test_the_helper_catches_a_leak(owner_client: Client, owner: Membership) -> None:
    """The check fails when the object is the client's own (so it can fail at all)."""
    with pytest.raises(AssertionError, match="Cross-tenant access not refused"):
        check_case(owner_client, CASES["member_detail"], other_tenant=owner.tenant)
