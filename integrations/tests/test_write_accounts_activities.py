"""Accounts (match by Website domain or external id, create with owner and SalesMonk fields,
upsert by `SalesMonk_Domain__c`, orgs without the custom fields), Events for meetings and
Notes for chats (on the person and the contact's open opportunities), exactly once."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from crm.models import Account
from integrations.models import SalesforceConnection
from integrations.tests.writes import chat, enable, live, meeting, pending, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteLog, WriteSettings
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org
from salesmonk.tenants.models import Membership

pytestmark = pytest.mark.django_db
ALL = ("lead", "person", "account")


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


def seed(org: EmulatedOrg, obj: str, **fields: object) -> str:
    return org.control.seed(records={obj: [fields]})["ids"][obj][0]


def test_company_without_account_is_created_once_for_all_its_visitors(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    outsider: Membership,
) -> None:
    tenant = owner.tenant
    enable(tenant)
    a = visitor(
        tenant,
        email="a@globex-new.com",
        last="A",
        domain="globex-new.com",
        company_name="Globex",
        kinds=ALL,
    )
    visitor(tenant, email="b@globex-new.com", last="B", domain="globex-new.com", kinds=ALL)

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    (account,) = live(sf_settings, "Account")
    assert account["Name"] == "Globex"
    assert account["Website"] == "globex-new.com"
    assert account["OwnerId"] == connected.installer_remote_id
    assert account["SalesMonk_Created__c"] is True
    assert account["SalesMonk_Domain__c"] == "globex-new.com"
    assert account["SalesMonk_Company__c"] == (f"http://127.0.0.1:8000/accounts/{a.company_id}")
    mirrored = Account.objects.for_tenant(tenant).get(remote_id=account["Id"])
    assert mirrored.created_by_salesmonk is True
    assert mirrored.domain == "globex-new.com"
    entry = WriteLog.objects.get(object_name="Account")
    assert (entry.operation, entry.owner_rule) == ("upsert", "installer")
    assert pending(tenant) == 0


def test_existing_account_by_website_domain_gets_only_salesmonk_fields(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    rid = seed(sf_settings, "Account", Name="Initech", Website="HTTP://WWW.INITECH.COM/about")
    visitor(tenant, email="p@initech.com", last="P", domain="initech.com", kinds=ALL)

    write_sync_run(tenant=tenant)

    (account,) = live(sf_settings, "Account")
    assert account["Id"] == rid
    assert account["Name"] == "Initech"
    assert account["Website"] == "HTTP://WWW.INITECH.COM/about"
    assert account["SalesMonk_Created__c"] is False
    assert account["SalesMonk_Domain__c"] == "initech.com"
    assert account["SalesMonk_Company__c"].startswith("http://127.0.0.1:8000/accounts/")


def test_account_upsert_after_a_crash_creates_nothing_twice(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership, monkeypatch
) -> None:
    from integrations.write import engine

    tenant = owner.tenant
    enable(tenant, "create_accounts")
    visitor(
        tenant, email="x@umbrella-co.com", last="X", domain="umbrella-co.com", kinds=("account",)
    )
    monkeypatch.setattr(
        engine.Drain, "_record", lambda self, ops: (_ for _ in ()).throw(SystemExit("killed"))
    )
    with pytest.raises(SystemExit):
        write_sync_run(tenant=tenant)
    monkeypatch.undo()
    WriteSettings.objects.update(claimed_at=None)

    write_sync_run(tenant=tenant)

    assert len(live(sf_settings, "Account")) == 1
    assert pending(tenant) == 0


def test_org_without_custom_fields_still_works(
    sf_emulator, owner: Membership, connect, settings
) -> None:
    org = create_org(sf_emulator.base_url, custom_fields=False)
    try:
        settings.SALESFORCE_CLIENT_ID, settings.SALESFORCE_CLIENT_SECRET = (
            org.client_id,
            org.client_secret,
        )
        connect(owner.tenant, org)
        tenant = owner.tenant
        enable(tenant)
        visitor(tenant, email="plain@plain-co.com", last="Plain", domain="plain-co.com", kinds=ALL)

        run = write_sync_run(tenant=tenant)

        assert run.status == "succeeded", run.error
        (lead,) = live(org, "Lead")
        assert "SalesMonk_Created__c" not in lead
        assert lead["LeadSource"] == "SalesMonk"
        assert [a["Website"] for a in live(org, "Account")] == ["plain-co.com"]
        assert WriteLog.objects.get(object_name="Account").operation == "create"
    finally:
        delete_org(sf_emulator.base_url, org.name)


def test_meeting_becomes_an_event_on_the_new_lead_once(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    v = visitor(tenant, email="m@meet.example", last="Meet")
    m = meeting(tenant, v, title="Intro call")

    write_sync_run(tenant=tenant)
    meeting(tenant, v, title="Follow-up")  # a second booking, the intent comes back
    write_sync_run(tenant=tenant)

    (lead,) = live(sf_settings, "Lead")
    events = sorted(live(sf_settings, "Event"), key=lambda e: e["Subject"])
    assert [e["WhoId"] for e in events] == [lead["Id"], lead["Id"]]
    assert events[1]["Subject"] == f"Intro call · SalesMonk #{m.pk.hex[:12]}"
    assert events[1]["DurationInMinutes"] == 30
    assert pending(tenant) == 0


def test_chat_becomes_a_note_on_the_contact_and_its_open_opportunities(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    contact = seed(sf_settings, "Contact", LastName="Chatty", Email="c@chat.example")
    open_opp = seed(
        sf_settings, "Opportunity", Name="Open", StageName="Prospecting", CloseDate="2030-01-01"
    )
    won = seed(
        sf_settings, "Opportunity", Name="Won", StageName="Closed Won", CloseDate="2020-01-01"
    )
    seed(sf_settings, "OpportunityContactRole", OpportunityId=open_opp, ContactId=contact)
    seed(sf_settings, "OpportunityContactRole", OpportunityId=won, ContactId=contact)
    c = chat(tenant, visitor(tenant, email="c@chat.example", last="Chatty"), "Hi", "Pricing?")

    write_sync_run(tenant=tenant)

    notes = {n["ParentId"]: n for n in live(sf_settings, "Note")}
    assert set(notes) == {contact, open_opp}
    assert notes[contact]["Title"] == f"Website chat · SalesMonk #{c.pk.hex[:12]}"
    assert "Visitor: Pricing?" in notes[contact]["Body"]


def test_chat_note_survives_a_crash_without_a_second_copy(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership, monkeypatch
) -> None:
    from integrations.write import engine

    tenant = owner.tenant
    enable(tenant, "log_chats")
    seed(sf_settings, "Contact", LastName="C", Email="n@note.example")
    chat(tenant, visitor(tenant, email="n@note.example", last="C", kinds=()), "Hello")
    monkeypatch.setattr(
        engine.Drain, "_record", lambda self, ops: (_ for _ in ()).throw(SystemExit("killed"))
    )
    with pytest.raises(SystemExit):
        write_sync_run(tenant=tenant)
    monkeypatch.undo()
    WriteSettings.objects.update(claimed_at=None)

    write_sync_run(tenant=tenant)

    assert len(live(sf_settings, "Note")) == 1
    assert pending(tenant) == 0
    assert WriteLog.objects.filter(object_name="Note", result="success").count() == 1


def test_activity_without_a_person_is_settled_without_writing(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant, "log_meetings")
    meeting(tenant, visitor(tenant, email="nobody@x.example", last="N", kinds=()))

    run = write_sync_run(tenant=tenant)

    assert run.counts["nothing_to_write"] == 1
    assert live(sf_settings, "Event") == []
    assert pending(tenant) == 0
