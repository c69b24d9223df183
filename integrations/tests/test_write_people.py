"""Write-back of people through the emulator over HTTP: dedupe (Contact first, then Lead,
by email then phone), Lead creation with owner and SalesMonk fields, updates, write log,
mirror, exactly-once across crashes, partial failures, duplicate rules, SOQL escaping."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from crm.models import Lead
from integrations.models import SalesforceConnection
from integrations.tests.writes import enable, leave_budget, live, pending, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteLog
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership

pytestmark = pytest.mark.django_db
ALL_KINDS = ("lead", "person", "account")


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


def test_new_visitor_becomes_a_lead_with_salesmonk_fields(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    v = visitor(
        tenant,
        email="ada@newco.example",
        first="Ada",
        last="Lovelace",
        domain="newco.example",
        company_name="NewCo",
    )

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    leads = live(sf_settings, "Lead")
    assert len(leads) == 1
    lead = leads[0]
    assert lead["Email"] == "ada@newco.example"
    assert lead["FirstName"] == "Ada"
    assert lead["Company"] == "NewCo"
    assert lead["LeadSource"] == "SalesMonk"
    assert lead["OwnerId"] == connected.installer_remote_id
    assert lead["SalesMonk_Created__c"] is True
    assert lead["SalesMonk_Contact__c"] == f"http://127.0.0.1:8000/contact/details/{v.pk}"
    assert lead["SalesMonk_Total_Sessions__c"] == 3
    assert lead["SalesMonk_UTM_Source__c"] == "google"
    assert pending(tenant) == 0
    mirrored = Lead.objects.for_tenant(tenant).get(remote_id=lead["Id"])
    assert mirrored.created_by_salesmonk is True
    entry = WriteLog.objects.get(object_name="Lead")
    assert entry.operation == "create"
    assert entry.result == "success"
    assert entry.owner_rule == "installer"
    assert entry.remote_id == lead["Id"]


def seed(org: EmulatedOrg, obj: str, **fields: object) -> str:
    return org.control.seed(records={obj: [fields]})["ids"][obj][0]


def by_id(org: EmulatedOrg, obj: str, rid: str) -> dict:
    return next(r for r in org.records(obj) if r["Id"] == rid)


def test_contact_is_matched_before_a_lead_and_overwritten(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    contact = seed(sf_settings, "Contact", LastName="Old", FirstName="O", Email="Bob@Corp.example")
    lead = seed(sf_settings, "Lead", LastName="L", Company="Corp", Email="bob@corp.example")
    visitor(tenant, email="bob@corp.example", first="Bob", last="Builder", phone="+14155550100")

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    updated = by_id(sf_settings, "Contact", contact)
    assert (updated["FirstName"], updated["LastName"]) == ("Bob", "Builder")
    assert updated["Phone"] == "+14155550100"
    assert updated["SalesMonk_Total_Sessions__c"] == 3
    assert updated["SalesMonk_Created__c"] is False
    assert by_id(sf_settings, "Lead", lead)["SalesMonk_Total_Sessions__c"] is None
    assert len(live(sf_settings, "Lead")) == 1
    entry = WriteLog.objects.get()
    assert entry.operation == "update"
    assert entry.fields_before["FirstName"] == "O"
    assert entry.fields_after["FirstName"] == "Bob"
    assert entry.api_call > 0


def test_lead_matched_by_email_then_person_by_phone(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    lead = seed(sf_settings, "Lead", LastName="L", Company="C", Email="lee@c.example")
    contact = seed(sf_settings, "Contact", LastName="P", Phone="+14155550199")
    visitor(tenant, email="lee@c.example", last="Lee")
    visitor(tenant, email="new@phone.example", phone="+14155550199", last="Phoned")

    write_sync_run(tenant=tenant)

    assert by_id(sf_settings, "Lead", lead)["LastName"] == "Lee"
    by_phone = by_id(sf_settings, "Contact", contact)
    assert by_phone["LastName"] == "Phoned"
    assert by_phone["Email"] == "new@phone.example"  # email change synced
    assert len(live(sf_settings, "Lead")) == 1


def test_phone_match_in_another_format_through_the_mirror(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from crm.models import Contact

    tenant = owner.tenant
    enable(tenant)
    contact = seed(sf_settings, "Contact", LastName="P", Phone="(415) 555-0142")
    Contact.objects.create(tenant=tenant, remote_id=contact, phone="+14155550142")
    visitor(tenant, phone="+14155550142", last="Formatted")

    write_sync_run(tenant=tenant)

    assert by_id(sf_settings, "Contact", contact)["LastName"] == "Formatted"
    assert live(sf_settings, "Lead") == []


def test_without_update_permission_matches_are_left_alone(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant, "create_leads")
    contact = seed(sf_settings, "Contact", LastName="Keep", Email="k@k.example")
    visitor(tenant, email="k@k.example", last="Changed")
    visitor(tenant, email="n@n.example", last="New")

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded"
    assert by_id(sf_settings, "Contact", contact)["LastName"] == "Keep"
    assert [r["Email"] for r in live(sf_settings, "Lead")] == ["n@n.example"]


def test_lead_owner_follows_the_account_owner_then_the_default(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    rep = sf_settings.rep_user_id
    seed(sf_settings, "Account", Name="Owned", Website="https://www.owned-co.com/x", OwnerId=rep)
    visitor(tenant, email="a@owned-co.com", last="A", domain="owned-co.com")
    visitor(tenant, email="b@free.example", last="B")

    write_sync_run(tenant=tenant)

    owners = {r["Email"]: r["OwnerId"] for r in live(sf_settings, "Lead")}
    assert owners == {"a@owned-co.com": rep, "b@free.example": connected.installer_remote_id}
    rules = dict(WriteLog.objects.filter(object_name="Lead").values_list("key", "owner_rule"))
    assert rules == {"email:a@owned-co.com": "account_owner", "email:b@free.example": "installer"}


def test_crash_after_salesforce_accepted_creates_nothing_twice(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership, monkeypatch
) -> None:
    from integrations.write import engine

    tenant = owner.tenant
    enable(tenant)
    for i in range(3):
        visitor(
            tenant,
            email=f"p{i}@crash-co.com",
            last=f"P{i}",
            domain="crash-co.com",
            kinds=ALL_KINDS,
        )

    def crash(self, ops):  # the worker dies between Salesforce's answer and our commit
        raise SystemExit("killed")

    monkeypatch.setattr(engine.Drain, "_record", crash)
    with pytest.raises(SystemExit):
        write_sync_run(tenant=tenant)
    monkeypatch.undo()
    assert len(live(sf_settings, "Lead")) == 3
    assert pending(tenant) == 6 + 3  # lead, person (x3) and the account intents
    from integrations.write.models import WriteSettings

    WriteSettings.objects.update(claimed_at=None)  # the dead worker's claim

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    assert len(live(sf_settings, "Lead")) == 3
    assert len(live(sf_settings, "Account")) == 1
    assert pending(tenant) == 0


def test_failure_injected_after_an_accepted_batch_then_rerun(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from integrations.tests.writes import meeting

    tenant = owner.tenant
    enable(tenant)
    for i in range(3):
        meeting(tenant, visitor(tenant, email=f"m{i}@f.example", last=f"M{i}"))
    # describe, lookup, leads (accepted), then the Events call fails with a 500.
    sf_settings.control.fault(fail_call={"n": 4, "status": 500, "times": 5})

    first = write_sync_run(tenant=tenant)

    assert first.status == "failed"
    assert len(live(sf_settings, "Lead")) == 3
    assert live(sf_settings, "Event") == []
    sf_settings.control.clear_faults()

    second = write_sync_run(tenant=tenant)

    assert second.status == "succeeded", second.error
    assert len(live(sf_settings, "Lead")) == 3
    assert len(live(sf_settings, "Event")) == 3
    assert pending(tenant) == 0


def test_partial_collection_failure_parks_only_the_refused_intent(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from visitors.models import WriteIntent

    tenant = owner.tenant
    enable(tenant)
    visitor(tenant, email="ok@p.example", last="Ok")
    bad = visitor(tenant, email="bad@p.example", last="X" * 100)  # LastName max 80

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded"
    assert [r["Email"] for r in live(sf_settings, "Lead")] == ["ok@p.example"]
    # Sending the same too-long name again cannot succeed: parked for support at once.
    assert not WriteIntent.objects.filter(status="pending", kind="lead").exists()
    left = WriteIntent.objects.get(status="failed", kind="lead")
    assert left.visitor_id == bad.pk
    assert left.attempts == 1
    assert "STRING_TOO_LONG" in left.last_error
    assert WriteLog.objects.get(result="failed").error.startswith("STRING_TOO_LONG")


def test_duplicate_rule_turns_the_create_into_an_update(
    sf_emulator, owner: Membership, connect, monkeypatch
) -> None:
    from integrations.write import engine
    from salesforce_emulator.testing import create_org, delete_org

    org = create_org(sf_emulator.base_url, duplicate_rule=True)
    try:
        _duplicate_case(org, owner, connect, monkeypatch, engine)
    finally:
        delete_org(sf_emulator.base_url, org.name)


def _duplicate_case(org, owner, connect, monkeypatch, engine) -> None:
    from django.conf import settings

    from integrations.tests.writes import meeting

    settings.SALESFORCE_CLIENT_ID, settings.SALESFORCE_CLIENT_SECRET = (
        org.client_id,
        org.client_secret,
    )
    connect(owner.tenant, org)
    tenant = owner.tenant
    enable(tenant)
    meeting(tenant, visitor(tenant, email="race@d.example", last="Racer"))
    original = engine.run_queries

    def lookup_then_someone_creates_the_contact(client, queries):
        found = original(client, queries)
        org.control.create("Contact", {"LastName": "Typed", "Email": "race@d.example"})
        return found

    monkeypatch.setattr(engine, "run_queries", lookup_then_someone_creates_the_contact)

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    assert live(org, "Lead") == []
    (contact,) = live(org, "Contact")
    assert contact["LastName"] == "Racer"
    assert contact["SalesMonk_Total_Sessions__c"] == 3
    (event,) = live(org, "Event")
    assert event["WhoId"] == contact["Id"]
    assert pending(tenant) == 0


def test_budget_exhausted_pauses_and_resumes(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    visitor(tenant, email="later@b.example", last="Later")
    sf_settings.control.exhaust_api()

    paused = write_sync_run(tenant=tenant)

    assert paused.status == "paused"
    assert pending(tenant) == 2
    assert live(sf_settings, "Lead") == []
    sf_settings.control.api_usage(used=0)

    resumed = write_sync_run(tenant=tenant)

    assert resumed.status == "succeeded"
    assert len(live(sf_settings, "Lead")) == 1


def test_tenant_budget_stops_before_the_write_call(
    sf_settings: EmulatedOrg, connect, owner: Membership
) -> None:
    tenant = owner.tenant
    leave_budget(connect(tenant), 2)
    enable(tenant)
    visitor(tenant, email="cheap@b.example", last="Cheap")

    run = write_sync_run(tenant=tenant)

    assert run.status == "paused"
    assert live(sf_settings, "Lead") == []
    assert pending(tenant) == 2
    assert WriteLog.objects.get().result == "failed"  # logged, then settled as not sent


def test_writes_disabled_mid_run_write_nothing_more(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership, monkeypatch
) -> None:
    from integrations.tests.writes import meeting, staff
    from integrations.write import engine
    from integrations.write.policy import writes_disable

    tenant = owner.tenant
    enable(tenant)
    meeting(tenant, visitor(tenant, email="stop@d.example", last="Stop"))
    original = engine.Drain._record

    def record_then_support_disables(self, ops):
        original(self, ops)
        writes_disable(tenant=tenant, acting_user=staff())

    monkeypatch.setattr(engine.Drain, "_record", record_then_support_disables)

    write_sync_run(tenant=tenant)

    assert len(live(sf_settings, "Lead")) == 1
    assert live(sf_settings, "Event") == []
    assert pending(tenant) == 1  # the meeting waits, untouched


@pytest.mark.parametrize(
    "email", ["o'hara@q.example", "back\\slash@q.example", "per%cent@q.example", "x' OR Email != '"]
)
def test_quotes_backslashes_and_percent_cannot_alter_a_query(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership, email: str
) -> None:
    tenant = owner.tenant
    enable(tenant)
    other = seed(sf_settings, "Contact", LastName="Bystander", Email="by@stander.example")
    seed(sf_settings, "Account", Name="Stand", Website="stander.example")
    visitor(tenant, email=email, last="Odd", domain="q'%\\.example", kinds=ALL_KINDS)

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    assert by_id(sf_settings, "Contact", other)["LastName"] == "Bystander"
    assert [a["Name"] for a in live(sf_settings, "Account")] == ["Stand", "q'%\\.example"]


def test_a_second_tenant_never_crosses(
    sf_settings: EmulatedOrg,
    outsider_org: EmulatedOrg,
    connect,
    owner: Membership,
    outsider: Membership,
) -> None:
    from integrations.tests.writes import staff
    from integrations.write.fieldmaps import field_mapping_save

    ours, theirs = owner.tenant, outsider.tenant
    connect(ours)
    their_conn = connect(theirs, outsider_org)
    enable(ours)
    enable(theirs)
    from integrations.salesforce.client import SalesforceClient

    field_mapping_save(
        tenant=theirs,
        acting_user=staff(),
        object_name="Lead",
        attribute="utm_source",
        sf_field="Description",
        rule="always",
        describe=SalesforceClient(their_conn, purpose="read").describe("Lead"),
    )
    visitor(ours, email="ours@t.example", last="Ours")
    visitor(theirs, email="theirs@t.example", last="Theirs")

    write_sync_run(tenant=ours)

    (lead,) = live(sf_settings, "Lead")
    assert lead["Email"] == "ours@t.example"
    assert lead["Description"] is None  # their mapping is theirs
    assert live(outsider_org, "Lead") == []
    assert pending(theirs) == 2
    assert not WriteLog.objects.for_tenant(theirs).exists()
