"""Write-back edge cases found in review, through the emulator over HTTP: a drain whose
claim was taken over, duplicate rules, matches without update permission, failed parents,
creates recovered after a crash, two visitors matching one record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from integrations.models import SalesforceConnection
from integrations.tests.writes import enable, leave_budget, live, meeting, pending, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteLog, WriteSettings
from integrations.write.source import intents_retry
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership
from visitors.models import IntentKind, Visitor, WriteIntent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


def seed(org: EmulatedOrg, obj: str, **fields: object) -> str:
    return org.control.seed(records={obj: [fields]})["ids"][obj][0]


def by_id(org: EmulatedOrg, obj: str, rid: str) -> dict:
    return next(r for r in org.records(obj) if r["Id"] == rid)


def test_drain_taken_over_between_lookup_and_write_writes_nothing(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership, monkeypatch
) -> None:
    from integrations.write import engine

    tenant = owner.tenant
    enable(tenant)
    visitor(tenant, email="slow@t.example", last="Slow")
    original = engine.run_queries

    def lookup_then_stall_past_the_ttl(client, queries):
        found = original(client, queries)
        # Meanwhile another drain found the claim stale and took it.
        WriteSettings.objects.update(claimed_at=timezone.now() + dt.timedelta(seconds=1))
        return found

    monkeypatch.setattr(engine, "run_queries", lookup_then_stall_past_the_ttl)

    stalled = write_sync_run(tenant=tenant)

    assert stalled.status == "failed"
    assert "took over" in stalled.error
    assert live(sf_settings, "Lead") == []
    assert WriteLog.objects.count() == 0
    assert pending(tenant) == 2
    assert WriteSettings.objects.get().claimed_at is not None  # the other drain's, kept
    monkeypatch.undo()
    WriteSettings.objects.update(claimed_at=None)  # the other drain finishes

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    assert [r["Email"] for r in live(sf_settings, "Lead")] == ["slow@t.example"]
    assert pending(tenant) == 0


def test_account_duplicate_becomes_an_account_update_and_updates_never_convert() -> None:
    from integrations.write.engine import duplicates_to_updates
    from integrations.write.plan import Op

    account = Op(
        "Account",
        "upsert",
        "create_accounts",
        "domain:acme.example",
        {
            "Name": "Acme",
            "Website": "acme.example",
            "OwnerId": "005000000000001AAA",
            "SalesMonk_Created__c": True,
            "SalesMonk_Company__c": "http://x/accounts/1",
            "SalesMonk_Domain__c": "acme.example",
        },
        {7},
        dup_ids=["001000000000009AAA"],
    )
    lead = Op(
        "Lead",
        "create",
        "create_leads",
        "email:a@b.example",
        {"LastName": "A", "OwnerId": "005000000000001AAA", "Email": "a@b.example"},
        {8},
        dup_ids=["00Q000000000002AAA", "003000000000003AAA"],
    )
    refused_update = Op(
        "Contact",
        "update",
        "update_people",
        "email:c@b.example",
        {"Email": "c@b.example"},
        {9},
        remote_id="003000000000004AAA",
        dup_ids=["00Q000000000005AAA"],
    )

    made = duplicates_to_updates([account, lead, refused_update])

    assert [(u.object_name, u.operation, u.remote_id, u.flag) for u in made] == [
        ("Account", "update", "001000000000009AAA", "create_accounts"),
        ("Contact", "update", "003000000000003AAA", "update_people"),
    ]
    assert made[0].fields == {
        "SalesMonk_Company__c": "http://x/accounts/1",
        "SalesMonk_Domain__c": "acme.example",
    }
    assert made[0].intent_ids == {7}
    assert account.alias is made[0]
    assert made[1].fields == {"LastName": "A", "Email": "a@b.example"}
    assert refused_update.alias is None
    assert refused_update.intent_ids == {9}
    # An update made from a duplicate, refused again, is never converted again.
    made[1].dup_ids = ["00Q000000000002AAA"]
    assert duplicates_to_updates(made) == []


def test_update_refused_by_a_duplicate_rule_is_not_redirected(
    sf_emulator, owner: Membership, connect, monkeypatch
) -> None:
    from django.conf import settings

    from integrations.write import engine
    from salesforce_emulator.testing import create_org, delete_org

    org = create_org(sf_emulator.base_url, duplicate_rule=True)
    try:
        settings.SALESFORCE_CLIENT_ID = org.client_id
        settings.SALESFORCE_CLIENT_SECRET = org.client_secret
        connect(owner.tenant, org)
        tenant = owner.tenant
        enable(tenant)
        contact = seed(org, "Contact", LastName="Old", Email="old@d.example", Phone="5550100")
        visitor(tenant, email="new@d.example", phone="5550100", last="Racer")
        original = engine.run_queries
        raced: list[str] = []

        def lookup_then_someone_creates_a_lead(client, queries):
            found = original(client, queries)
            raced.append(seed(org, "Lead", LastName="Typed", Company="X", Email="new@d.example"))
            return found

        monkeypatch.setattr(engine, "run_queries", lookup_then_someone_creates_a_lead)

        run = write_sync_run(tenant=tenant)

        assert run.status == "succeeded", run.error
        assert by_id(org, "Lead", raced[0])["LastName"] == "Typed"  # not written over
        assert by_id(org, "Contact", contact)["Email"] == "old@d.example"
        (entry,) = WriteLog.objects.all()
        assert (entry.object_name, entry.operation, entry.result) == (
            "Contact",
            "update",
            "failed",
        )
        assert "DUPLICATES_DETECTED" in entry.error
        intent = WriteIntent.objects.get(kind=IntentKind.LEAD)
        assert intent.attempts == 1
        assert "DUPLICATES_DETECTED" in intent.last_error
    finally:
        delete_org(sf_emulator.base_url, org.name)


def test_lead_for_an_existing_person_without_updates_settles_with_a_note(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from integrations.write.selectors import tenants_with_pending_writes

    tenant = owner.tenant
    enable(tenant, "create_leads")
    contact = seed(sf_settings, "Contact", LastName="Keep", Email="known@k.example")
    visitor(tenant, email="known@k.example", last="Changed", kinds=(IntentKind.LEAD,))

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    assert by_id(sf_settings, "Contact", contact)["LastName"] == "Keep"
    assert live(sf_settings, "Lead") == []
    assert WriteIntent.objects.get().status == "done"
    (entry,) = WriteLog.objects.all()
    assert (entry.object_name, entry.remote_id, entry.result) == ("Contact", contact, "skipped")
    assert entry.error == "Nothing to do: exists; updates not enabled."
    assert tenant.pk not in tenants_with_pending_writes()  # not re-dispatched every minute


def test_meeting_of_a_failed_lead_fails_with_it_and_is_never_dropped(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    v = visitor(tenant, email="long@f.example", last="X" * 100)  # LastName max 80
    meeting(tenant, v)

    first = write_sync_run(tenant=tenant)

    assert first.status == "succeeded", first.error
    assert live(sf_settings, "Lead") == []
    assert live(sf_settings, "Event") == []
    # A name too long fails the same way every time: both are parked for support at once.
    event_intent = WriteIntent.objects.get(kind=IntentKind.MEETING)
    assert event_intent.status == "failed"
    assert event_intent.attempts == 1
    assert "Parent not written: STRING_TOO_LONG" in event_intent.last_error
    assert WriteIntent.objects.get(kind=IntentKind.LEAD).status == "failed"
    event_log = WriteLog.objects.get(object_name="Event")
    assert event_log.result == "failed"
    assert event_log.error.startswith("Parent not written")
    # Support retries only the meeting while its Lead stays parked: not marked done.
    assert intents_retry(tenant=tenant, intent_ids=[event_intent.pk]) == 1

    second = write_sync_run(tenant=tenant)

    assert second.status == "succeeded", second.error
    assert live(sf_settings, "Event") == []
    event_intent.refresh_from_db()
    assert event_intent.status == "failed"
    assert "Lead was not written: STRING_TOO_LONG" in event_intent.last_error


def test_creates_recovered_after_a_crash_are_settled_as_ours(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership, monkeypatch
) -> None:
    from crm.models import Account, Lead
    from integrations.write import engine
    from integrations.write.models import CreatedRecord

    tenant = owner.tenant
    enable(tenant)
    for i in range(2):
        visitor(
            tenant,
            email=f"r{i}@rec-co.com",
            last=f"R{i}",
            domain="rec-co.com",
            kinds=("lead", "person", "account"),
        )

    def crash(self, ops):  # Salesforce accepted the batch; the worker dies before settling
        raise SystemExit("killed")

    monkeypatch.setattr(engine.Drain, "_record", crash)
    with pytest.raises(SystemExit):
        write_sync_run(tenant=tenant)
    monkeypatch.undo()
    WriteSettings.objects.update(claimed_at=None)  # the dead worker's claim

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    leads = {r["Email"]: r["Id"] for r in live(sf_settings, "Lead")}
    (account,) = live(sf_settings, "Account")
    assert len(leads) == 2
    assert not WriteLog.objects.filter(result="sent").exists()
    assert set(WriteLog.objects.filter(run=run).values_list("result", flat=True)) == {"success"}
    created = {
        (e.object_name, e.remote_id)
        for e in CreatedRecord.objects.filter(
            result="reconciled", operation__in=["create", "upsert"]
        )
    }
    assert created >= {("Lead", rid) for rid in leads.values()} | {("Account", account["Id"])}
    for rid in leads.values():
        assert Lead.objects.for_tenant(tenant).get(remote_id=rid).created_by_salesmonk is True
    mirrored = Account.objects.for_tenant(tenant).get(remote_id=account["Id"])
    assert mirrored.created_by_salesmonk is True
    assert pending(tenant) == 0


def test_two_visitors_matching_one_record_make_one_update(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    contact = seed(
        sf_settings, "Contact", LastName="Old", Email="shared@m.example", Phone="5550199"
    )
    earlier = visitor(tenant, email="shared@m.example", first="Early", last="Bird")
    later = visitor(tenant, phone="5550199", first="Late", last="Comer", sessions=9)
    Visitor.objects.filter(pk=earlier.pk).update(
        last_seen_at=later.last_seen_at - dt.timedelta(hours=1)
    )

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    record = by_id(sf_settings, "Contact", contact)
    assert (record["FirstName"], record["LastName"]) == ("Late", "Comer")
    assert record["SalesMonk_Total_Sessions__c"] == 9
    assert record["SalesMonk_Contact__c"].endswith(str(later.pk))
    (entry,) = WriteLog.objects.all()
    assert (entry.remote_id, entry.result) == (contact, "success")
    assert live(sf_settings, "Lead") == []
    assert pending(tenant) == 0


def test_org_limit_pauses_dispatch_for_a_while(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from integrations.write.selectors import tenants_with_pending_writes

    tenant = owner.tenant
    enable(tenant)
    visitor(tenant, email="later@b.example", last="Later")
    sf_settings.control.exhaust_api()
    assert tenant.pk in tenants_with_pending_writes()

    paused = write_sync_run(tenant=tenant)

    assert paused.status == "paused"
    until = WriteSettings.objects.get().paused_until
    assert until is not None
    assert dt.timedelta(minutes=14) < until - timezone.now() <= dt.timedelta(minutes=15)
    assert tenant.pk not in tenants_with_pending_writes()
    WriteSettings.objects.update(paused_until=timezone.now() - dt.timedelta(seconds=1))
    assert tenant.pk in tenants_with_pending_writes()
    sf_settings.control.api_usage(used=0)

    resumed = write_sync_run(tenant=tenant)

    assert resumed.status == "succeeded", resumed.error
    assert WriteSettings.objects.get().paused_until is None


def test_our_budget_pauses_dispatch_until_utc_midnight(
    sf_settings: EmulatedOrg, connect, owner: Membership
) -> None:
    from integrations.write.selectors import tenants_with_pending_writes

    tenant = owner.tenant
    leave_budget(connect(tenant), 2)
    enable(tenant)
    visitor(tenant, email="cheap@b.example", last="Cheap")

    run = write_sync_run(tenant=tenant)

    assert run.status == "paused"
    tomorrow = timezone.now().date() + dt.timedelta(days=1)
    expected = dt.datetime.combine(tomorrow, dt.time(), tzinfo=dt.UTC)
    assert WriteSettings.objects.get().paused_until == expected
    assert tenant.pk not in tenants_with_pending_writes()


@pytest.mark.parametrize(
    ("default_id", "inactive", "expected"),
    [
        ("005D", set(), ("005INSTALLER", "installer")),
        ("005D", {"005INSTALLER"}, ("005D", "default_lead_owner")),
        ("005D", {"005INSTALLER", "005D"}, (None, "connected_user")),
        ("", {"005INSTALLER"}, (None, "connected_user")),
    ],
)
def test_a_created_account_goes_to_the_installer_then_the_default_lead_owner(
    default_id: str, inactive: set[str], expected: tuple[str | None, str]
) -> None:
    """Accounts follow the owner chain from the installer (the product rule), then the
    default lead owner; with no one usable, OwnerId is left to Salesforce."""
    from integrations.write.plan import Context, _account_op

    ctx = Context(
        installer_id="005INSTALLER",
        default_owner_id=default_id,
        lead_source="SalesMonk",
        fields={"Account": set(), "Contact": set(), "Lead": set()},
        mappings={},
        inactive_users=inactive,
    )
    op = _account_op(ctx, "initech.com", {"company_name": "Initech", "company_url": ""}, None)
    assert op is not None
    assert (op.fields.get("OwnerId"), op.owner_rule) == expected


def test_accounts_and_leads_never_go_to_an_inactive_installer(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from crm.models import CrmUser

    tenant = owner.tenant
    enable(tenant)
    rep = sf_settings.rep_user_id
    CrmUser.objects.create(
        tenant=tenant, remote_id=connected.installer_remote_id, name="Left", is_active=False
    )
    WriteSettings.objects.update_or_create(
        tenant=tenant, defaults={"default_lead_owner_remote_id": rep}
    )
    visitor(
        tenant,
        email="o@own-co.example",
        last="O",
        domain="own-co.example",
        kinds=("lead", "account"),
    )

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    (account,) = live(sf_settings, "Account")
    (lead,) = live(sf_settings, "Lead")
    assert account["OwnerId"] == rep
    assert lead["OwnerId"] == rep
    rules = dict(WriteLog.objects.values_list("object_name", "owner_rule"))
    assert rules == {"Account": "default_lead_owner", "Lead": "default_lead_owner"}


def test_field_map_admin_calls_salesforce_outside_its_transaction(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    monkeypatch,
) -> None:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from integrations.salesforce.client import SalesforceClient
    from integrations.tests.writes import staff
    from integrations.write.models import FieldMapping

    baseline = len(connection.savepoint_ids)
    depths: list[int] = []
    reserve = SalesforceClient._reserve

    def reserve_noting_the_transaction(self, calls=1):  # before every HTTP call
        depths.append(len(connection.savepoint_ids))
        return reserve(self, calls)

    monkeypatch.setattr(SalesforceClient, "_reserve", reserve_noting_the_transaction)
    body = {
        "tenant": owner.tenant.pk,
        "object_name": "Lead",
        "attribute": "utm_source",
        "sf_field": "Description",
        "rule": "always",
    }

    staff_client = Client()
    staff_client.force_login(staff())
    staff_client.post(reverse("admin:integrations_fieldmapping_add"), body)

    assert FieldMapping.objects.get().sf_field == "Description"
    assert depths == [baseline]  # one describe, made before the admin's transaction
