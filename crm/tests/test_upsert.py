"""mirror_upsert: counts, id stability, unchanged rows, coercion; the outsider is untouched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crm.factories import ContactFactory
from crm.models import Account, Contact, Opportunity
from crm.services import mirror_mark_deleted, mirror_upsert
from salesmonk.tenants.models import Membership, Tenant

MODSTAMP = "2026-01-02T03:04:05.000+0000"
MODSTAMP_DT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def contact_row(n: int, **extra: Any) -> dict[str, Any]:
    remote_id = f"0035g00000C{n:04d}AAA"
    return {
        "remote_id": remote_id,
        "first_name": "Ada",
        "last_name": f"Lovelace {n}",
        "email": f"Ada{n}@Example.COM",
        "phone": "(415) 555-0142",
        "remote_created_at": "2025-12-01T00:00:00.000+0000",
        "remote_updated_at": MODSTAMP,
        "remote_data": {"Id": remote_id, "Email": f"Ada{n}@Example.COM", "Amount": 1.5},
        "email_addresses": [{"email_address": f"Ada{n}@Example.COM", "email_address_type": "Work"}],
        "account_remote_id": "",
        "owner_remote_id": "0055g00000U0001AAA",
        **extra,
    }


def state(tenant: Tenant) -> dict[str, tuple]:
    return {
        c.remote_id: (c.pk, c.created_at, c.modified_at, c.last_name, c.title)
        for c in Contact.objects.for_tenant(tenant)
    }


def test_creates_then_a_full_resync_of_unchanged_rows_writes_nothing(
    tenant: Tenant, outsider: Membership, django_assert_num_queries: Any
) -> None:
    rows = [contact_row(n) for n in range(5)]

    first = mirror_upsert(tenant=tenant, model=Contact, rows=rows)
    before = state(tenant)
    with django_assert_num_queries(3):  # one SELECT per batch of 2, no writes
        again = mirror_upsert(tenant=tenant, model=Contact, rows=rows, batch_size=2)

    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert state(tenant) == before
    contact = Contact.objects.get(tenant=tenant, remote_id="0035g00000C0003AAA")
    assert contact.email == "ada3@example.com"
    assert contact.phone == "+14155550142"
    assert contact.remote_updated_at == MODSTAMP_DT
    assert contact.remote_data == {
        "Id": "0035g00000C0003AAA",
        "Email": "Ada3@Example.COM",
        "Amount": 1.5,
    }
    assert not Contact.objects.for_tenant(outsider.tenant).exists()


def test_updates_only_changed_rows_and_keeps_our_ids(tenant: Tenant) -> None:
    mirror_upsert(tenant=tenant, model=Contact, rows=[contact_row(n) for n in range(3)])
    before = state(tenant)

    result = mirror_upsert(
        tenant=tenant,
        model=Contact,
        rows=[
            contact_row(0),
            contact_row(1, title="CTO", remote_updated_at="2026-01-03T00:00:00Z"),
            # Same SystemModstamp, different content (e.g. a field newly mapped): written.
            contact_row(2, last_name="Byron"),
            contact_row(3),
        ],
    )

    after = state(tenant)
    assert (result.created, result.updated, result.unchanged) == (1, 2, 1)
    assert set(after) == {f"0035g00000C{n:04d}AAA" for n in range(4)}
    for remote_id in before:
        assert after[remote_id][:2] == before[remote_id][:2]  # same id, same created_at
    assert after["0035g00000C0000AAA"] == before["0035g00000C0000AAA"]
    assert after["0035g00000C0001AAA"][4] == "CTO"
    assert after["0035g00000C0001AAA"][2] > before["0035g00000C0001AAA"][2]
    assert after["0035g00000C0002AAA"][3] == "Byron"
    assert Contact.objects.count() == 4


def test_the_upserted_row_keeps_the_id_the_factory_gave_it(tenant: Tenant) -> None:
    existing = ContactFactory(tenant=tenant, remote_id="0035g00000C0000AAA", account=None)

    result = mirror_upsert(tenant=tenant, model=Contact, rows=[contact_row(0)])

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert list(Contact.objects.values_list("pk", "last_name")) == [(existing.pk, "Lovelace 0")]


def test_columns_a_row_does_not_carry_are_kept(tenant: Tenant) -> None:
    ContactFactory(
        tenant=tenant, remote_id="0035g00000C0000AAA", created_by_salesmonk=True, title="CEO"
    )

    mirror_upsert(tenant=tenant, model=Contact, rows=[contact_row(0)])

    contact = Contact.objects.get()
    assert (contact.created_by_salesmonk, contact.title, contact.last_name) == (
        True,
        "CEO",
        "Lovelace 0",
    )


def test_a_record_read_again_after_delete_is_live_again(tenant: Tenant) -> None:
    mirror_upsert(tenant=tenant, model=Contact, rows=[contact_row(0)])
    mirror_mark_deleted(tenant=tenant, model=Contact, remote_ids=["0035g00000C0000AAA"])

    result = mirror_upsert(tenant=tenant, model=Contact, rows=[contact_row(0)])

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert list(Contact.objects.values_list("remote_was_deleted", flat=True)) == [False]


def test_email_and_phone_come_from_the_lists_when_not_given(tenant: Tenant) -> None:
    row = contact_row(0)
    del row["email"], row["phone"]
    row["email_addresses"] = [{"email_address": "bad"}, {"email_address": " Ada@Example.com"}]
    row["phone_numbers"] = [{"phone_number": "+44 20 7946 0958", "phone_number_type": "Mobile"}]

    mirror_upsert(tenant=tenant, model=Contact, rows=[row])

    assert list(Contact.objects.values_list("email", "phone")) == [
        ("ada@example.com", "+442079460958")
    ]


def test_a_record_read_twice_in_one_call_keeps_the_newest(tenant: Tenant) -> None:
    result = mirror_upsert(
        tenant=tenant,
        model=Contact,
        rows=[
            contact_row(0, title="new", remote_updated_at="2026-01-05T00:00:00Z"),
            contact_row(0, title="old", remote_updated_at="2026-01-04T00:00:00Z"),
        ],
    )

    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    assert list(Contact.objects.values_list("title", flat=True)) == ["new"]


def test_values_are_coerced_so_an_unchanged_record_compares_equal(tenant: Tenant) -> None:
    row = {
        "remote_id": "0065g00000O0001AAA",
        "name": "Big deal",
        "amount": 100000.5,
        "close_date": "2026-03-31",
        "remote_updated_at": "2026-01-02T03:04:05Z",
        "last_activity_at": dt.date(2026, 1, 2),
        "stage_remote_id": None,
        "remote_data": {"Amount": 100000.5},
    }
    same_in_other_forms = {
        **row,
        "amount": "100000.50",
        "close_date": dt.date(2026, 3, 31),
        "remote_updated_at": dt.datetime(
            2026, 1, 2, 4, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))
        ),
        "last_activity_at": "2026-01-02",
        "stage_remote_id": "",
    }

    first = mirror_upsert(tenant=tenant, model=Opportunity, rows=[row])
    again = mirror_upsert(tenant=tenant, model=Opportunity, rows=[same_in_other_forms])

    assert (first.created, again.unchanged) == (1, 1)
    deal = Opportunity.objects.get()
    assert deal.amount == Decimal("100000.50")
    assert deal.close_date == dt.date(2026, 3, 31)
    assert deal.last_activity_at == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert deal.stage_remote_id == ""


def test_long_text_is_cut_but_a_long_remote_id_is_refused(tenant: Tenant) -> None:
    mirror_upsert(
        tenant=tenant, model=Account, rows=[{"remote_id": "0015g00000A0001AAA", "name": "x" * 300}]
    )

    assert list(Account.objects.values_list("name", flat=True)) == ["x" * 255]
    with pytest.raises(ValueError, match="owner_remote_id longer than 18"):
        mirror_upsert(
            tenant=tenant,
            model=Account,
            rows=[{"remote_id": "0015g00000A0002AAA", "owner_remote_id": "0" * 19}],
        )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"remote_id": "0015g00000A0001AAA", "owner_id": 1},
            r"no mirrored field\(s\) \['owner_id'\]",
        ),
        ({"remote_id": "0015g00000A0001AAA", "tenant": 1}, r"no mirrored field\(s\) \['tenant'\]"),
        ({"name": "Initech"}, "row without remote_id"),
    ],
)
def test_rows_are_checked_before_anything_is_written(
    tenant: Tenant, row: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        mirror_upsert(tenant=tenant, model=Account, rows=[{"remote_id": "0015g00000A0009AAA"}, row])

    assert not Account.objects.exists()


def test_an_outsider_with_identical_remote_ids_is_never_overwritten(
    tenant: Tenant, outsider: Membership
) -> None:
    theirs = ContactFactory(
        tenant=outsider.tenant,
        remote_id="0035g00000C0000AAA",
        email="ada0@example.com",
        last_name="Theirs",
        account=None,
    )
    before = Contact.objects.filter(pk=theirs.pk).values().get()

    result = mirror_upsert(tenant=tenant, model=Contact, rows=[contact_row(0)])

    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    assert Contact.objects.filter(pk=theirs.pk).values().get() == before
    ours = Contact.objects.for_tenant(tenant).get()
    assert (ours.remote_id, ours.last_name) == ("0035g00000C0000AAA", "Lovelace 0")
    assert ours.pk != theirs.pk
