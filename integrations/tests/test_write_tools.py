"""Support tools for the write-back: dry run (command and admin, before writes are enabled),
the django-q2 dispatch and schedule, and the staff audit admin (created records with links
to Salesforce, write log, failed intents with a retry action)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from integrations.models import SalesforceConnection
from integrations.schedules import WRITE_SCHEDULE, schedule_write_drain
from integrations.services import DESCRIBE_REFRESH_TASK
from integrations.tasks import WRITE_SYNC_TASK, write_dispatch, write_sync
from integrations.tests.writes import enable, live, pending, staff, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteRun
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership
from visitors.models import WriteIntent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(staff())
    return client


def test_dry_run_command_before_writes_are_enabled_writes_nothing(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    existing = sf_settings.control.seed(
        records={"Contact": [{"LastName": "Known", "Email": "known@d.example"}]}
    )["ids"]["Contact"][0]
    visitor(tenant, email="known@d.example", last="Known2", kinds=())
    visitor(tenant, email="new@d.example", last="New", kinds=())
    sf_settings.control.reset_counters()
    out = StringIO()

    call_command("salesforce_writes", tenant=tenant.slug, dry_run=True, stdout=out)

    lines = out.getvalue().splitlines()
    plan = [json.loads(line) for line in lines if line.startswith("{")]
    assert {(p["object"], p["operation"], p["id"]) for p in plan} == {
        ("Lead", "create", ""),
        ("Contact", "update", existing),
    }
    assert lines[-1].startswith("Dry run succeeded")
    by_kind = sf_settings.counters()["by_kind"]
    assert set(by_kind) <= {"composite", "query", "describe"}
    assert live(sf_settings, "Lead") == []
    assert WriteRun.objects.get().dry_run is True


def test_dry_run_admin_action_shows_the_plan(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    staff_client: Client,
) -> None:
    visitor(owner.tenant, email="preview@d.example", last="Preview", kinds=())

    response = staff_client.post(
        reverse("admin:integrations_tenantwrites_changelist"),
        {"action": "dry_run", ACTION_CHECKBOX_NAME: [str(owner.tenant.pk)]},
    )

    run = WriteRun.objects.get()
    assert response["Location"] == reverse("admin:integrations_writerun_change", args=[run.pk])
    assert run.plan[0]["after"]["Email"] == "preview@d.example"
    assert staff_client.get(response["Location"]).status_code == 200


def test_dispatch_queues_only_tenants_with_enabled_pending_intents(
    sf_settings: EmulatedOrg, connect, owner: Membership, outsider: Membership
) -> None:
    connect(owner.tenant)
    enable(owner.tenant, "create_leads")
    visitor(owner.tenant, email="q@d.example", last="Q")
    visitor(outsider.tenant, email="o@d.example", last="O")  # not connected, not enabled

    assert write_dispatch() == {"queued": 1}
    queued = sorted(q.func() for q in OrmQ.objects.all())
    assert queued == [DESCRIBE_REFRESH_TASK, WRITE_SYNC_TASK]  # connecting queued the first
    result = write_sync(str(owner.tenant.pk))
    assert result["status"] == "succeeded"
    assert pending(owner.tenant) == 1  # the person intent: update_people is off
    assert write_dispatch() == {"queued": 0}


def test_write_schedule_is_declared_once(db: None) -> None:
    schedule_write_drain()
    schedule_write_drain()
    schedule = Schedule.objects.get(name=WRITE_SCHEDULE)
    assert (schedule.func, schedule.minutes) == ("integrations.tasks.write_dispatch", 1)


def test_audit_admin_lists_created_records_with_links_and_history(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    staff_client: Client,
) -> None:
    enable(owner.tenant)
    visitor(owner.tenant, email="made@d.example", last="Made")
    write_sync_run(tenant=owner.tenant)
    (lead,) = live(sf_settings, "Lead")

    page = staff_client.get(reverse("admin:integrations_createdrecord_changelist"))

    assert f'href="{connected.instance_url}/{lead["Id"]}"'.encode() in page.content
    history = staff_client.get(reverse("admin:integrations_writelog_changelist"), {"q": lead["Id"]})
    assert history.status_code == 200
    assert lead["Id"].encode() in history.content


def test_failed_intents_can_be_retried_from_the_admin(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    staff_client: Client,
) -> None:
    enable(owner.tenant, "create_leads")
    visitor(owner.tenant, email="bad@d.example", last="X" * 100, kinds=("lead",))
    WriteIntent.objects.update(attempts=4)
    write_sync_run(tenant=owner.tenant)
    failed = WriteIntent.objects.get()
    assert failed.status == "failed"
    assert "STRING_TOO_LONG" in failed.last_error
    listing = staff_client.get(reverse("admin:integrations_failedintent_changelist"))
    assert b"STRING_TOO_LONG" in listing.content

    staff_client.post(
        reverse("admin:integrations_failedintent_changelist"),
        {"action": "retry", ACTION_CHECKBOX_NAME: [str(failed.pk)]},
    )

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)


def test_connection_admin_names_missing_salesmonk_fields(
    sf_emulator, owner: Membership, connect, settings, staff_client: Client
) -> None:
    from salesforce_emulator.testing import create_org, delete_org

    org = create_org(sf_emulator.base_url, custom_fields=False)
    try:
        settings.SALESFORCE_CLIENT_ID, settings.SALESFORCE_CLIENT_SECRET = (
            org.client_id,
            org.client_secret,
        )
        conn = connect(owner.tenant, org)
        from integrations.services import connection_describe_refresh

        assert connection_describe_refresh(tenant=owner.tenant)  # as the queued task does
        page = staff_client.get(
            reverse("admin:integrations_salesforceconnection_change", args=[conn.pk])
        )
        assert b"Account: SalesMonk_Created__c, SalesMonk_Company__c, SalesMonk_Domain__c" in (
            page.content
        )
    finally:
        delete_org(sf_emulator.base_url, org.name)


def test_a_second_drain_waits_for_the_first(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from django.utils import timezone

    from integrations.write.engine import WriteSkipped
    from integrations.write.models import WriteSettings

    enable(owner.tenant)
    WriteSettings.objects.create(tenant=owner.tenant, claimed_at=timezone.now())
    with pytest.raises(WriteSkipped, match="running"):
        write_sync_run(tenant=owner.tenant)
