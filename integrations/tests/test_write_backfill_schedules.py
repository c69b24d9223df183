"""No manual step between support's switch and Salesforce: schedules exist after migrate
and when a job cluster starts, enabling a kind backfills the visitors already seen, and
recording intents queues a drain at once (debounced)."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ, Schedule
from django_q.signals import post_spawn

from integrations.schedules import WRITE_SCHEDULE
from integrations.tests.writes import chat, company, meeting, staff
from integrations.write.policy import writes_disable, writes_enable, writes_enable_preview
from salesmonk.tenants.models import Membership, Tenant
from visitors.alerts.schedules import ALERTS_SCHEDULE
from visitors.models import Visitor, WriteIntent
from visitors.tracking.intents import intents_record

pytestmark = pytest.mark.django_db


def seen(tenant: Tenant, n: int, *, domain: str = "", identified: bool = True) -> list[Visitor]:
    """Visitors recorded while writes were off: no intents."""
    from integrations.tests.writes import NOW

    return [
        Visitor.objects.create(
            tenant=tenant,
            email=f"p{i}@{domain or 'gmail.com'}" if identified else "",
            last_name=f"P{i}",
            company=company(tenant, domain) if domain else None,
            first_seen_at=NOW,
            last_seen_at=NOW,
            identified_at=NOW if identified else None,
        )
        for i in range(n)
    ]


def queued_drains() -> list[str]:
    return [q.task["args"][0] for q in OrmQ.objects.all() if "write_sync" in q.task["func"]]


def test_schedules_exist_after_migrate_and_come_back_when_a_cluster_starts(db: None) -> None:
    # The test database was built by `migrate`: the schedules are already there.
    assert Schedule.objects.filter(name=WRITE_SCHEDULE).exists()
    assert Schedule.objects.filter(name=ALERTS_SCHEDULE).exists()
    Schedule.objects.all().delete()

    post_spawn.send(sender="django_q", proc_name="Worker-1")

    assert set(Schedule.objects.values_list("name", flat=True)) == {WRITE_SCHEDULE, ALERTS_SCHEDULE}
    post_spawn.send(sender="django_q", proc_name="Worker-2")  # idempotent
    assert Schedule.objects.count() == 2


def test_enabling_backfills_one_intent_per_eligible_visitor_and_kind(
    owner: Membership, outsider: Membership, django_capture_on_commit_callbacks
) -> None:
    tenant = owner.tenant
    people = seen(tenant, 3, domain="acme-buyer.example")
    freemail = seen(tenant, 2)
    seen(tenant, 4, identified=False)  # anonymous: nothing to write
    meeting(tenant, freemail[0])
    chat(tenant, people[0], "Hello")
    WriteIntent.objects.all().delete()  # the helpers record intents; writes were off
    seen(outsider.tenant, 2, domain="globex-buyer.example")
    flags = ["create_leads", "create_accounts", "log_meetings", "log_chats"]

    preview = writes_enable_preview(tenant=tenant, flags=flags)
    assert preview == {"people": 5, "companies": 1, "meetings": 1, "chats": 1}

    support = staff()
    with django_capture_on_commit_callbacks(execute=True):
        writes_enable(tenant=tenant, acting_user=support, flags=flags, note="Call 5/12")

    kinds = WriteIntent.objects.for_tenant(tenant).values_list("kind", flat=True)
    assert sorted(kinds) == sorted(["lead"] * 5 + ["account"] * 3 + ["meeting", "chat"])
    assert not WriteIntent.objects.for_tenant(outsider.tenant).exists()
    assert Schedule.objects.filter(name=WRITE_SCHEDULE).exists()
    assert queued_drains() == [str(tenant.pk)]
    # Enabling again adds nothing: every eligible visitor already has its pending intent.
    writes_enable(tenant=tenant, acting_user=support, flags=flags, note="again")
    assert WriteIntent.objects.for_tenant(tenant).count() == 10
    assert writes_enable_preview(tenant=tenant, flags=flags) == {}

    writes_disable(tenant=tenant, acting_user=support)
    from integrations.write.selectors import tenants_with_pending_writes

    assert tenant.pk not in tenants_with_pending_writes()  # disabling stops it at once


def test_the_confirmation_page_shows_what_will_be_written_before_enabling(
    owner: Membership,
) -> None:
    seen(owner.tenant, 185, domain="big-buyer.example")
    client = Client()
    client.force_login(staff())
    url = reverse("admin:integrations_tenantwrites_changelist")
    body = {"action": "enable_writes", ACTION_CHECKBOX_NAME: [str(owner.tenant.pk)]}

    page = client.post(url, body).content.decode()

    assert "185 people and 1 companies" in page
    assert "run a dry run" in page
    assert not WriteIntent.objects.exists()

    done = client.post(
        url, {**body, "confirm": "yes", "flags": ["create_leads"], "note": "ok"}, follow=True
    )

    assert "Writes enabled for Acme Inc: 185 people queued for Salesforce" in done.content.decode()
    assert WriteIntent.objects.filter(kind="lead").count() == 185


@pytest.mark.django_db(transaction=True)  # the window's end queues from its own thread
def test_recording_intents_queues_a_drain_on_commit_debounced_per_tenant(
    owner: Membership, settings, django_capture_on_commit_callbacks
) -> None:
    from integrations import tasks

    settings.WRITE_DRAIN_DEBOUNCE_SECONDS = 0.5
    tasks._queued_at.clear()
    tenant = owner.tenant
    a, b = seen(tenant, 2)

    with django_capture_on_commit_callbacks(execute=True):
        intents_record(tenant=tenant, visitor_ids=[a.pk], kinds=frozenset({"lead"}), only=["lead"])
    with django_capture_on_commit_callbacks(execute=True):
        intents_record(tenant=tenant, visitor_ids=[b.pk], kinds=frozenset({"lead"}), only=["lead"])

    assert queued_drains() == [str(tenant.pk)]  # the second came within the debounce...
    tasks._trailing[str(tenant.pk)].join(timeout=5)
    assert queued_drains() == [str(tenant.pk)] * 2  # ...and is drained when it ends
    settings.WRITE_DRAIN_DEBOUNCE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        intents_record(
            tenant=tenant, visitor_ids=[b.pk], kinds=frozenset({"person"}), activity=True
        )
    assert queued_drains() == [str(tenant.pk)] * 3
    with django_capture_on_commit_callbacks(execute=True):
        intents_record(tenant=tenant, visitor_ids=[a.pk], kinds=frozenset(), activity=True)
    assert len(queued_drains()) == 3  # writes off: nothing recorded, nothing queued


def test_a_backfill_drained_in_small_batches_writes_each_person_once_with_their_chat(
    sf_settings, connected, owner: Membership, outsider: Membership
) -> None:
    """After a backfill each kind's intents sit together in the queue (one INSERT per kind):
    a batch takes every pending intent of its visitors, so a new person's chat is logged on
    the Lead created for them, and the Lead is not updated again in a later batch."""
    from django.core.cache import cache

    from integrations.tests.writes import live
    from integrations.write.engine import write_sync_run
    from integrations.write.models import WriteLog

    cache.clear()
    tenant = owner.tenant
    people = seen(tenant, 3, domain="initech-buyer.example")
    for person in people:
        chat(tenant, person, "Hello")
    WriteIntent.objects.all().delete()  # the helpers record intents; writes were off
    flags = ["create_leads", "update_people", "create_accounts", "log_chats"]
    writes_enable(tenant=tenant, acting_user=staff(), flags=flags, note="Call 5/12")

    run = write_sync_run(tenant=tenant, batch_size=2)

    assert run.status == "succeeded", run.error
    leads = live(sf_settings, "Lead")
    assert sorted(r["Email"] for r in leads) == [
        "p0@initech-buyer.example",
        "p1@initech-buyer.example",
        "p2@initech-buyer.example",
    ]
    notes = live(sf_settings, "Note")
    assert sorted(n["ParentId"] for n in notes) == sorted(r["Id"] for r in leads)
    ops = WriteLog.objects.for_tenant(tenant).values_list("object_name", "operation")
    assert (
        sorted(ops) == [("Account", "upsert")] + [("Lead", "create")] * 3 + [("Note", "create")] * 3
    )
    assert not WriteIntent.objects.for_tenant(tenant).exclude(status="done").exists()
    assert not WriteLog.objects.for_tenant(outsider.tenant).exists()
