"""Link resolution (including parents mirrored late), deletes, merges and contact counts.
The outsider tenant holds records with the same remote ids and is never linked or changed."""

from __future__ import annotations

from typing import Any

from django.db import connection

from crm.factories import (
    AccountFactory,
    ContactFactory,
    EngagementFactory,
    LeadFactory,
    NoteFactory,
    TaskFactory,
    UserFactory,
)
from crm.models import Account, Contact, CrmUser, Engagement, EngagementContact, Lead, Task
from crm.services import (
    account_contact_counts_refresh,
    mirror_mark_deleted,
    mirror_merge,
    mirror_resolve_links,
    mirror_upsert,
)
from salesmonk.tenants.models import Membership, Tenant

ACME = "0015g00000A0001AAA"
REP = "0055g00000U0001AAA"
QUEUE = "00G5g00000Q0001AAA"


def contact_rows(count: int, *, account: str = ACME, owner: str = REP) -> list[dict[str, Any]]:
    return [
        {
            "remote_id": f"0035g00000C{n:04d}AAA",
            "last_name": f"Person {n}",
            "account_remote_id": account,
            "owner_remote_id": owner,
        }
        for n in range(count)
    ]


def links(tenant: Tenant) -> list[tuple]:
    return list(
        Contact.objects.for_tenant(tenant)
        .order_by("remote_id")
        .values_list("remote_id", "account__remote_id", "account_remote_id", "owner__remote_id")
    )


def test_links_resolve_to_parents_of_the_same_tenant_only(
    tenant: Tenant, outsider: Membership
) -> None:
    AccountFactory(tenant=outsider.tenant, remote_id=ACME)  # same remote id, other tenant
    UserFactory(tenant=outsider.tenant, remote_id=REP)
    ours = AccountFactory(tenant=tenant, remote_id=ACME, owner=None)
    UserFactory(tenant=tenant, remote_id=REP)

    mirror_upsert(tenant=tenant, model=Contact, rows=contact_rows(2))

    assert links(tenant) == [
        ("0035g00000C0000AAA", ACME, ACME, REP),
        ("0035g00000C0001AAA", ACME, ACME, REP),
    ]
    assert set(Contact.objects.values_list("account", flat=True)) == {ours.pk}
    assert set(Contact.objects.values_list("account__tenant", flat=True)) == {tenant.pk}


def test_rows_waiting_for_a_parent_are_linked_when_it_arrives(
    tenant: Tenant, outsider: Membership
) -> None:
    mirror_upsert(tenant=outsider.tenant, model=Contact, rows=contact_rows(1))
    mirror_upsert(tenant=tenant, model=Contact, rows=contact_rows(2))
    mirror_upsert(
        tenant=tenant,
        model=Task,
        rows=[{"remote_id": "00T5g00000T0001AAA", "account_remote_id": ACME}],
    )
    assert links(tenant) == [
        ("0035g00000C0000AAA", None, ACME, None),
        ("0035g00000C0001AAA", None, ACME, None),
    ]

    result = mirror_upsert(tenant=tenant, model=Account, rows=[{"remote_id": ACME, "name": "Acme"}])
    mirror_upsert(tenant=tenant, model=CrmUser, rows=[{"remote_id": REP, "name": "Rep"}])

    assert result.created == 1
    assert links(tenant) == [
        ("0035g00000C0000AAA", ACME, ACME, REP),
        ("0035g00000C0001AAA", ACME, ACME, REP),
    ]
    assert list(Task.objects.values_list("account__remote_id", flat=True)) == [ACME]
    # The outsider's contact waits for *its* Acme, not ours.
    assert links(outsider.tenant) == [("0035g00000C0000AAA", None, ACME, None)]


def test_a_changed_or_cleared_parent_id_relinks(tenant: Tenant) -> None:
    AccountFactory(tenant=tenant, remote_id=ACME)
    AccountFactory(tenant=tenant, remote_id="0015g00000A0002AAA")
    mirror_upsert(tenant=tenant, model=Contact, rows=contact_rows(2))

    mirror_upsert(
        tenant=tenant,
        model=Contact,
        rows=[
            *contact_rows(1, account="0015g00000A0002AAA"),
            {**contact_rows(2)[1], "account_remote_id": None},
        ],
    )

    assert [row[:3] for row in links(tenant)] == [
        ("0035g00000C0000AAA", "0015g00000A0002AAA", "0015g00000A0002AAA"),
        ("0035g00000C0001AAA", None, ""),
    ]


def test_a_lead_owned_by_a_queue_keeps_the_queue_id(tenant: Tenant) -> None:
    UserFactory(tenant=tenant, remote_id=REP)

    mirror_upsert(
        tenant=tenant,
        model=Lead,
        rows=[
            {"remote_id": "00Q5g00000L0001AAA", "owner_remote_id": QUEUE},
            {"remote_id": "00Q5g00000L0002AAA", "owner_remote_id": REP},
        ],
    )

    assert list(
        Lead.objects.order_by("remote_id").values_list("owner__remote_id", "owner_remote_id")
    ) == [(None, QUEUE), (REP, REP)]


def test_linking_costs_the_same_queries_for_three_rows_as_for_thirty(
    tenant: Tenant, django_assert_num_queries: Any
) -> None:
    AccountFactory(tenant=tenant, remote_id=ACME)
    UserFactory(tenant=tenant, remote_id=REP)
    small = contact_rows(3)
    large = [{**row, "remote_id": row["remote_id"].replace("C", "D")} for row in contact_rows(30)]

    # (30 rows fit one INSERT even under SQLite's 999 parameters per statement.)
    # SELECT stored, SELECT link targets per relation (2), SAVEPOINT, the upsert (SQLite:
    # INSERT … ON CONFLICT; PostgreSQL: CREATE staging table, COPY, INSERT … SELECT …
    # ON CONFLICT, TRUNCATE — COPY is not counted), UPDATE per relation pointing at
    # contacts for the rows created (5), RELEASE.
    expected = 12 if connection.vendor == "postgresql" else 10
    with django_assert_num_queries(expected):
        mirror_upsert(tenant=tenant, model=Contact, rows=small)
    with django_assert_num_queries(expected):
        mirror_upsert(tenant=tenant, model=Contact, rows=large)

    assert Contact.objects.filter(account__remote_id=ACME, owner__remote_id=REP).count() == 33


def test_engagement_contacts_follow_the_list_and_link_late(
    tenant: Tenant, outsider: Membership
) -> None:
    ContactFactory(tenant=tenant, remote_id="0035g00000C0000AAA")
    ContactFactory(tenant=outsider.tenant, remote_id="0035g00000C0001AAA")
    row = {
        "remote_id": "00U5g00000E0001AAA",
        "subject": "Demo",
        "contact_remote_ids": ["0035g00000C0000AAA", "0035g00000C0001AAA", "0035g00000C0000AAA"],
    }
    mirror_upsert(tenant=tenant, model=Engagement, rows=[row])

    def through() -> list[tuple]:
        return list(
            EngagementContact.objects.order_by("contact_remote_id").values_list(
                "tenant", "contact_remote_id", "contact__remote_id"
            )
        )

    assert through() == [
        (tenant.pk, "0035g00000C0000AAA", "0035g00000C0000AAA"),
        (tenant.pk, "0035g00000C0001AAA", None),
    ]

    mirror_upsert(tenant=tenant, model=Contact, rows=[{"remote_id": "0035g00000C0001AAA"}])
    engagement = Engagement.objects.get()
    assert sorted(engagement.contacts.values_list("remote_id", flat=True)) == [
        "0035g00000C0000AAA",
        "0035g00000C0001AAA",
    ]

    mirror_upsert(
        tenant=tenant,
        model=Engagement,
        rows=[{**row, "contact_remote_ids": ["0035g00000C0001AAA"]}],
    )
    assert through() == [(tenant.pk, "0035g00000C0001AAA", "0035g00000C0001AAA")]


def test_resolve_links_repairs_rows_written_before_their_parents(
    tenant: Tenant, outsider: Membership
) -> None:
    mirror_upsert(tenant=tenant, model=Contact, rows=contact_rows(2))
    mirror_upsert(tenant=outsider.tenant, model=Contact, rows=contact_rows(1))
    # Parents written without going through the upsert (as a concurrent run might).
    AccountFactory(tenant=tenant, remote_id=ACME)
    AccountFactory(tenant=outsider.tenant, remote_id="0015g00000A0009AAA")

    assert mirror_resolve_links(tenant=tenant) == 2
    assert mirror_resolve_links(tenant=tenant) == 0
    assert [row[1] for row in links(tenant)] == [ACME, ACME]
    assert links(outsider.tenant) == [("0035g00000C0000AAA", None, ACME, None)]


def test_mark_deleted_counts_rows_that_changed(tenant: Tenant, outsider: Membership) -> None:
    ContactFactory(tenant=tenant, remote_id="0035g00000C0000AAA")
    ContactFactory(tenant=tenant, remote_id="0035g00000C0001AAA", remote_was_deleted=True)
    ContactFactory(tenant=tenant, remote_id="0035g00000C0002AAA")
    theirs = ContactFactory(tenant=outsider.tenant, remote_id="0035g00000C0000AAA")

    marked = mirror_mark_deleted(
        tenant=tenant,
        model=Contact,
        remote_ids=["0035g00000C0000AAA", "0035g00000C0001AAA", "0035g00000C9999AAA"],
    )

    assert marked == 1
    assert list(
        Contact.objects.for_tenant(tenant)
        .order_by("remote_id")
        .values_list("remote_id", "remote_was_deleted")
    ) == [
        ("0035g00000C0000AAA", True),
        ("0035g00000C0001AAA", True),
        ("0035g00000C0002AAA", False),
    ]
    theirs.refresh_from_db()
    assert theirs.remote_was_deleted is False


def test_merge_moves_every_link_to_the_master(tenant: Tenant, outsider: Membership) -> None:
    loser = ContactFactory(tenant=tenant, remote_id="0035g00000C0001AAA")
    master = ContactFactory(tenant=tenant, remote_id="0035g00000C0002AAA")
    task = TaskFactory(tenant=tenant, contact=loser)
    note = NoteFactory(tenant=tenant, contact=loser)
    lead = LeadFactory(tenant=tenant, converted_contact=loser)
    # A task not yet linked, naming the loser by remote id only.
    waiting = TaskFactory(tenant=tenant, contact=None, contact_remote_id=loser.remote_id)
    both = EngagementFactory(tenant=tenant, contact_remote_ids=[loser.remote_id, master.remote_id])
    only_loser = EngagementFactory(tenant=tenant, contact_remote_ids=[loser.remote_id])
    EngagementContact.objects.bulk_create(
        [
            EngagementContact(
                tenant=tenant, engagement=both, contact=loser, contact_remote_id=loser.remote_id
            ),
            EngagementContact(
                tenant=tenant, engagement=both, contact=master, contact_remote_id=master.remote_id
            ),
            EngagementContact(
                tenant=tenant,
                engagement=only_loser,
                contact=loser,
                contact_remote_id=loser.remote_id,
            ),
        ]
    )
    their_loser = ContactFactory(tenant=outsider.tenant, remote_id=loser.remote_id)
    their_task = TaskFactory(tenant=outsider.tenant, contact=their_loser)

    result = mirror_merge(
        tenant=tenant,
        model=Contact,
        loser_remote_id=loser.remote_id,
        master_remote_id=master.remote_id,
    )

    assert (result.links_moved, result.loser_marked_deleted) == (5, True)
    for row in (task, note, waiting):
        row.refresh_from_db()
        assert (row.contact_id, row.contact_remote_id) == (master.pk, master.remote_id)
    lead.refresh_from_db()
    assert (lead.converted_contact_id, lead.converted_contact_remote_id) == (
        master.pk,
        master.remote_id,
    )
    assert sorted(
        EngagementContact.objects.values_list("engagement", "contact", "contact_remote_id")
    ) == sorted(
        [(both.pk, master.pk, master.remote_id), (only_loser.pk, master.pk, master.remote_id)]
    )
    loser.refresh_from_db()
    assert loser.remote_was_deleted is True
    their_task.refresh_from_db()
    their_loser.refresh_from_db()
    assert (their_task.contact_id, their_loser.remote_was_deleted) == (their_loser.pk, False)


def test_merge_into_a_master_not_mirrored_yet_links_when_it_arrives(tenant: Tenant) -> None:
    loser = AccountFactory(tenant=tenant, remote_id="0015g00000A0001AAA")
    contact = ContactFactory(tenant=tenant, account=loser)

    result = mirror_merge(
        tenant=tenant,
        model=Account,
        loser_remote_id="0015g00000A0001AAA",
        master_remote_id="0015g00000A0002AAA",
    )
    contact.refresh_from_db()
    assert (result.links_moved, contact.account_id, contact.account_remote_id) == (
        1,
        None,
        "0015g00000A0002AAA",
    )

    mirror_upsert(tenant=tenant, model=Account, rows=[{"remote_id": "0015g00000A0002AAA"}])
    contact.refresh_from_db()
    assert contact.account.remote_id == "0015g00000A0002AAA"


def test_contact_counts_come_from_live_mirrored_contacts(
    tenant: Tenant, outsider: Membership, django_assert_num_queries: Any
) -> None:
    two = AccountFactory(tenant=tenant)
    none = AccountFactory(tenant=tenant, number_of_contacts=7)
    ContactFactory.create_batch(2, tenant=tenant, account=two)
    ContactFactory(tenant=tenant, account=two, remote_was_deleted=True)
    theirs = AccountFactory(tenant=outsider.tenant, number_of_contacts=5)
    ContactFactory(tenant=outsider.tenant, account=theirs)
    others = set(Account.objects.for_tenant(tenant).exclude(pk__in=[two.pk, none.pk]))

    with django_assert_num_queries(1):
        updated = account_contact_counts_refresh(tenant=tenant)

    counts = dict(Account.objects.values_list("pk", "number_of_contacts"))
    assert counts[two.pk] == 2
    assert counts[none.pk] == 0
    assert counts[theirs.pk] == 5
    # every other account of ours (the contacts' factory-made accounts) had no count yet
    assert updated == 2 + len(others)
    with django_assert_num_queries(1):
        assert account_contact_counts_refresh(tenant=tenant) == 0
