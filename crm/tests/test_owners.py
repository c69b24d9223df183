"""The owner chain: every link, what is passed over, the mirrored-user form, and the fallback
owners read through the registered provider (scoped to the tenant)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crm import owners
from crm.factories import UserFactory
from crm.owners import (
    FallbackOwnerIds,
    FallbackOwners,
    MirrorOwner,
    OwnerDecision,
    OwnerRule,
    fallback_owners,
    mirror_owner_resolve,
    owner_resolve,
)
from salesmonk.tenants.models import Membership, Tenant

ACCOUNT, CONTACT, LEAD = "005ACCOUNT", "005CONTACT", "005LEAD"
DEFAULT, INSTALLER, QUEUE = "005DEFAULT", "005INSTALLER", "00GQUEUE"
EVERYONE = {
    "account_owner_id": ACCOUNT,
    "contact_owner_id": CONTACT,
    "lead_owner_id": LEAD,
    "default_owner_id": DEFAULT,
    "installer_id": INSTALLER,
}


@pytest.mark.parametrize(
    ("given", "inactive", "expected"),
    [
        pytest.param(EVERYONE, set(), (ACCOUNT, "account_owner"), id="account wins over contact"),
        pytest.param(
            {**EVERYONE, "account_owner_id": None},
            set(),
            (CONTACT, "contact_owner"),
            id="contact when no account owner",
        ),
        pytest.param(
            {**EVERYONE, "account_owner_id": "", "contact_owner_id": None},
            set(),
            (LEAD, "lead_owner"),
            id="lead",
        ),
        pytest.param(
            {"account_owner_id": QUEUE, "lead_owner_id": QUEUE, "installer_id": INSTALLER},
            set(),
            (INSTALLER, "installer"),
            id="queue passed over",
        ),
        pytest.param(EVERYONE, {ACCOUNT, CONTACT}, (LEAD, "lead_owner"), id="inactive passed over"),
        pytest.param(
            {"default_owner_id": DEFAULT, "installer_id": INSTALLER},
            set(),
            (DEFAULT, "default_lead_owner"),
            id="default owner",
        ),
        pytest.param(
            {"default_owner_id": "", "installer_id": INSTALLER},
            set(),
            (INSTALLER, "installer"),
            id="installer",
        ),
        pytest.param(
            {**EVERYONE, "account_owner_id": QUEUE}, set(EVERYONE.values()), None, id="nothing"
        ),
        pytest.param({}, set(), None, id="nobody given"),
    ],
)
def test_owner_resolve(
    given: dict[str, str | None], inactive: set[str], expected: tuple[str, str] | None
) -> None:
    decision = owner_resolve(**given, inactive_ids=inactive)
    assert decision == (None if expected is None else OwnerDecision(*expected))  # type: ignore[arg-type]


def test_rules_read_as_the_pages_and_alerts_say_them() -> None:
    assert [(r.value, r.label) for r in OwnerRule] == [
        ("account_owner", "account owner"),
        ("contact_owner", "contact owner"),
        ("lead_owner", "lead owner"),
        ("default_lead_owner", "default lead owner"),
        ("installer", "installer"),
    ]


@pytest.mark.django_db
def test_mirror_owner_resolve_passes_over_inactive_and_deleted_users(tenant: Tenant) -> None:
    gone = UserFactory(tenant=tenant, is_active=False)
    deleted = UserFactory(tenant=tenant, remote_was_deleted=True)
    rep = UserFactory(tenant=tenant)
    jo = UserFactory(tenant=tenant, name="Jo Closer")
    installer = UserFactory(tenant=tenant)

    assert mirror_owner_resolve(account_owner=rep, contact_owner=jo) == MirrorOwner(
        rep, OwnerRule.ACCOUNT_OWNER
    )
    assert mirror_owner_resolve(account_owner=gone, contact_owner=deleted, lead_owner=rep) == (
        MirrorOwner(rep, OwnerRule.LEAD_OWNER)
    )
    # Existing records only, unless the fallback owners are given.
    assert mirror_owner_resolve(account_owner=gone) is None
    fallback = FallbackOwners(default_lead_owner=jo, installer=installer)
    decided = mirror_owner_resolve(account_owner=gone, fallback=fallback)
    assert decided == MirrorOwner(jo, OwnerRule.DEFAULT_LEAD_OWNER)
    assert decided is not None
    assert not decided.of_record
    assert mirror_owner_resolve(
        fallback=FallbackOwners(default_lead_owner=deleted, installer=installer)
    ) == MirrorOwner(installer, OwnerRule.INSTALLER)
    assert mirror_owner_resolve(fallback=FallbackOwners(installer=gone)) is None
    assert MirrorOwner(rep, OwnerRule.CONTACT_OWNER).of_record


@pytest.fixture
def provided(tenant: Tenant, outsider: Membership) -> Iterator[dict[str, FallbackOwnerIds]]:
    """A provider answering from a table (the integration's own is tested with it)."""
    table: dict[str, FallbackOwnerIds] = {}
    registered = owners._provider
    owners.fallback_owner_ids_provide(lambda t: table.get(t.slug, FallbackOwnerIds()))
    yield table
    owners._provider = registered


@pytest.mark.django_db
def test_fallback_owners_are_the_tenants_mirrored_users(
    tenant: Tenant,
    outsider: Membership,
    provided: dict[str, FallbackOwnerIds],
    django_assert_num_queries,
) -> None:
    jo = UserFactory(tenant=tenant, remote_id="005000000000000JOA", name="Jo Closer")
    # The outsider's org has a user with our installer's id: never theirs for us.
    UserFactory(tenant=outsider.tenant, remote_id="005000000000000INS")
    provided[tenant.slug] = FallbackOwnerIds(
        default_lead_owner_id=jo.remote_id, installer_id="005000000000000INS"
    )
    with django_assert_num_queries(1):
        found = fallback_owners(tenant=tenant)
    assert found == FallbackOwners(default_lead_owner=jo, installer=None)
    with django_assert_num_queries(0):  # nothing set: nothing to read
        assert fallback_owners(tenant=outsider.tenant) == FallbackOwners()


def test_without_a_provider_there_are_no_fallback_owners(
    monkeypatch: pytest.MonkeyPatch, tenant: Tenant
) -> None:
    monkeypatch.setattr(owners, "_provider", None)
    assert fallback_owners(tenant=tenant) == FallbackOwners()
