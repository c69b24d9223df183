"""The read sync against the emulator over HTTP: initial, incremental, deletes, merges,
conversion, owner changes, missing custom fields, refresh, budget, faults, tenants."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from crm.models import Account, Contact, CrmUser, Engagement, Lead, Note, Opportunity, Stage, Task
from integrations.models import SalesforceConnection, SyncRun, SyncState, SyncStatus
from integrations.sync.runs import SyncSkipped, read_sync_run
from integrations.tasks import read_sync
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org
from salesmonk.tenants.models import Membership

pytestmark = pytest.mark.django_db

MIRRORED = {
    "User": CrmUser,
    "OpportunityStage": Stage,
    "Account": Account,
    "Contact": Contact,
    "Lead": Lead,
    "Opportunity": Opportunity,
    "Task": Task,
    "Event": Engagement,
    "Note": Note,
}


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


def poll(tenant, **kwargs):
    """A poll a few minutes later: getUpdated/getDeleted cover whole minutes only, so changes
    of the current minute are reported once it has passed (on both our and the org's clock,
    which share this process)."""
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=True):
        return read_sync_run(tenant=tenant, **kwargs)


def seed_leads(org: EmulatedOrg, count: int) -> None:
    org.control.seed(
        records={"Lead": [{"LastName": f"L{i}", "Company": "C"} for i in range(count)]}
    )


def remote_ids(org: EmulatedOrg, obj: str, *, deleted: bool = False) -> set[str]:
    return {r["Id"] for r in org.records(obj, include_deleted=True) if r["IsDeleted"] == deleted}


def mirrored_ids(tenant, model, *, deleted: bool = False) -> set[str]:
    return set(
        model.objects.for_tenant(tenant)
        .filter(remote_was_deleted=deleted)
        .values_list("remote_id", flat=True)
    )


def test_initial_sync_mirrors_every_object(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(size=15, seed=7)
    tenant = owner.tenant

    run = read_sync_run(tenant=tenant)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.kind == "full"
    for obj, model in MIRRORED.items():
        if obj == "Event":
            continue  # engagements also hold call/email tasks
        assert mirrored_ids(tenant, model) == remote_ids(sf_settings, obj), obj
    events = remote_ids(sf_settings, "Event")
    assert events <= mirrored_ids(tenant, Engagement)
    # Links are real foreign keys.
    contact = Contact.objects.for_tenant(tenant).exclude(account_remote_id="").first()
    assert contact.account.remote_id == contact.account_remote_id
    assert contact.owner is not None
    opp = Opportunity.objects.for_tenant(tenant).first()
    assert opp.stage is not None
    assert opp.stage.name
    remote = next(r for r in sf_settings.records("Opportunity") if r["Id"] == opp.remote_id)
    assert opp.status == ("WON" if remote["IsWon"] else "LOST" if remote["IsClosed"] else "OPEN")
    # Leads owned by a queue keep the queue's id and no user.
    queue_leads = [r for r in sf_settings.records("Lead") if r["OwnerId"].startswith("00G")]
    if queue_leads:
        lead = Lead.objects.for_tenant(tenant).get(remote_id=queue_leads[0]["Id"])
        assert (lead.owner, lead.owner_remote_id) == (None, queue_leads[0]["OwnerId"])
    # Contact counts come from the mirrored contacts.
    account = Account.objects.for_tenant(tenant).get(remote_id=contact.account_remote_id)
    assert account.number_of_contacts == account.contacts.filter(remote_was_deleted=False).count()
    # One describe and at least one query page per object; nothing else.
    assert run.api_calls == 2 * len(MIRRORED)
    assert run.counts["Account"]["created"] == 15


def test_poll_with_nothing_changed_costs_one_call(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(size=5)
    read_sync_run(tenant=owner.tenant)
    # The first poll re-checks the minutes around the full read (its safety margin), where
    # the freshly seeded records may fall: it reads them again and changes nothing.
    settle = poll(owner.tenant)
    assert settle.status == SyncStatus.SUCCEEDED
    assert all(not (c.get("created") or c.get("updated")) for c in settle.counts.values())

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=4), tick=True):
        run = read_sync_run(tenant=owner.tenant)

    assert run.status == SyncStatus.SUCCEEDED
    assert run.kind == "incremental"
    assert run.api_calls == 1
    assert run.counts == {}


def test_incremental_changes_deletes_conversion_and_owner(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    control = sf_settings.control
    control.seed(size=6, seed=3)
    tenant = owner.tenant
    read_sync_run(tenant=tenant)
    contact = sf_settings.records("Contact", include_deleted=False)[0]
    lead = next(
        r for r in sf_settings.records("Lead", include_deleted=False) if not r["IsConverted"]
    )
    doomed = sf_settings.records("Note", include_deleted=False)[0]
    control.edit("Contact", contact["Id"], {"Email": "New.Address@Example.com"})
    control.reassign([contact["Id"]], sf_settings.rep_user_id)
    control.delete("Note", doomed["Id"])
    converted = control.convert_lead(lead["Id"], createOpportunity=False)

    run = poll(tenant)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    mirrored = Contact.objects.for_tenant(tenant).get(remote_id=contact["Id"])
    assert mirrored.email == "new.address@example.com"
    assert mirrored.owner.remote_id == sf_settings.rep_user_id
    assert Note.objects.for_tenant(tenant).get(remote_id=doomed["Id"]).remote_was_deleted
    mirrored_lead = Lead.objects.for_tenant(tenant).get(remote_id=lead["Id"])
    assert mirrored_lead.converted_at is not None
    assert mirrored_lead.converted_contact.remote_id == converted["contactId"]
    assert run.counts["Note"]["deleted"] == 1
    assert mirrored_ids(tenant, Contact) == remote_ids(sf_settings, "Contact")


def test_merge_moves_links_to_the_survivor(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(size=6, seed=11)
    tenant = owner.tenant
    read_sync_run(tenant=tenant)
    accounts = sf_settings.records("Account", include_deleted=False)
    master, loser = accounts[0]["Id"], accounts[1]["Id"]
    loser_contacts = {
        r["Id"]
        for r in sf_settings.records("Contact", include_deleted=False)
        if r["AccountId"] == loser
    }
    sf_settings.control.merge("Account", master, [loser])

    run = poll(tenant)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert Account.objects.for_tenant(tenant).get(remote_id=loser).remote_was_deleted
    for rid in loser_contacts:
        assert Contact.objects.for_tenant(tenant).get(remote_id=rid).account.remote_id == master
    assert run.counts["Account"]["merged"] == 1


def test_org_without_salesmonk_fields_still_syncs(
    sf_emulator, settings, connect, owner: Membership, sf_settings: EmulatedOrg
) -> None:
    bare = create_org(
        sf_emulator.base_url,
        custom_fields=False,
        connected_apps=[
            {
                "client_id": sf_settings.client_id,
                "client_secret": sf_settings.client_secret,
                "redirect_uris": ["http://127.0.0.1:8000/..."],
            }
        ],
    )
    bare.client_id, bare.client_secret = sf_settings.client_id, sf_settings.client_secret
    try:
        bare.control.seed(size=4)
        connect(owner.tenant, bare)
        run = read_sync_run(tenant=owner.tenant)
        assert run.status == SyncStatus.SUCCEEDED, run.error
        assert mirrored_ids(owner.tenant, Lead) == remote_ids(bare, "Lead")
        fields = SyncState.objects.for_tenant(owner.tenant).get(object_name="Lead").fields
        assert "SalesMonk_Created__c" not in fields
        assert "Email" in fields
    finally:
        delete_org(sf_emulator.base_url, bare.name)


def test_expired_session_is_refreshed(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(size=3)
    old = connected.access_token
    sf_settings.control.expire_sessions()

    run = read_sync_run(tenant=owner.tenant)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    connected.refresh_from_db()
    assert connected.access_token != old
    assert connected.status == "connected"


def test_revoked_grant_needs_reauth(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from integrations.salesforce.transport import build_session

    build_session().post(
        f"{connected.login_url}/services/oauth2/revoke", data={"token": connected.refresh_token}
    )
    run = read_sync_run(tenant=owner.tenant)

    assert run.status == SyncStatus.FAILED
    connected.refresh_from_db()
    assert connected.status == "needs_reauth"
    assert "refresh" in connected.last_error
    with pytest.raises(SyncSkipped, match="not connected"):
        read_sync_run(tenant=owner.tenant)


def test_budget_stops_cleanly_and_resumes_without_gaps_at_a_shared_timestamp(
    sf_settings: EmulatedOrg, connect, owner: Membership
) -> None:
    # 2,500 leads sharing one SystemModstamp: the page boundary falls inside the tie.
    same = "2026-11-01T10:00:00.000+0000"
    sf_settings.control.seed(
        records={
            "Lead": [
                {"LastName": f"L{i}", "Company": "C", "SystemModstamp": same} for i in range(2500)
            ]
        }
    )
    # Connecting (1 call), describe and the first page, then the budget is spent (no share
    # kept for writes).
    conn = connect(owner.tenant, api_daily_budget=3, read_reserve_percent=0)

    first = read_sync_run(tenant=owner.tenant, objects=["Lead"])

    assert first.status == SyncStatus.PAUSED
    assert "budget" in first.error
    assert Lead.objects.for_tenant(owner.tenant).count() == 2000
    state = SyncState.objects.for_tenant(owner.tenant).get(object_name="Lead")
    assert state.watermark is not None
    assert state.full_started_at is not None

    SalesforceConnection.objects.filter(pk=conn.pk).update(api_daily_budget=100)
    second = read_sync_run(tenant=owner.tenant, objects=["Lead"])

    assert second.status == SyncStatus.SUCCEEDED, second.error
    assert second.api_calls == 1  # only the remaining page
    assert mirrored_ids(owner.tenant, Lead) == remote_ids(sf_settings, "Lead")
    assert Lead.objects.for_tenant(owner.tenant).count() == 2500


def test_a_5xx_mid_pagination_is_retried_without_duplicates(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    seed_leads(sf_settings, 4100)  # three pages
    # Call 1 is describe, 2 the first page; the second page fails once with a 503.
    sf_settings.control.fault(fail_call={"n": 3, "status": 503, "times": 1})

    run = read_sync_run(tenant=owner.tenant, objects=["Lead"])

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert Lead.objects.for_tenant(owner.tenant).count() == 4100
    assert run.counts["Lead"]["created"] == 4100


def test_outage_fails_the_run_and_the_next_run_resumes(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    seed_leads(sf_settings, 4100)  # three pages
    sf_settings.control.fault(fail_call={"n": 3, "status": 503, "times": 10})

    failed = read_sync_run(tenant=owner.tenant, objects=["Lead"])
    assert failed.status == SyncStatus.FAILED
    assert "unavailable" in failed.error
    connected.refresh_from_db()
    assert "unavailable" in connected.last_error

    sf_settings.control.clear_faults()
    resumed = read_sync_run(tenant=owner.tenant, objects=["Lead"])
    assert resumed.status == SyncStatus.SUCCEEDED, resumed.error
    assert Lead.objects.for_tenant(owner.tenant).count() == 4100


def test_tenants_never_see_each_other(
    sf_settings: EmulatedOrg,
    outsider_org: EmulatedOrg,
    connect,
    owner: Membership,
    outsider: Membership,
) -> None:
    sf_settings.control.seed(size=4, seed=1)
    outsider_org.control.seed(size=6, seed=2)
    connect(owner.tenant)
    connect(outsider.tenant, outsider_org)

    read_sync_run(tenant=owner.tenant)
    read_sync_run(tenant=outsider.tenant)

    assert mirrored_ids(owner.tenant, Account) == remote_ids(sf_settings, "Account")
    assert mirrored_ids(outsider.tenant, Account) == remote_ids(outsider_org, "Account")
    assert not mirrored_ids(owner.tenant, Account) & mirrored_ids(outsider.tenant, Account)
    assert SyncRun.objects.for_tenant(owner.tenant).count() == 1


def test_two_syncs_of_one_tenant_never_overlap(
    connected: SalesforceConnection, owner: Membership
) -> None:
    from django.utils import timezone

    SalesforceConnection.objects.filter(pk=connected.pk).update(sync_claimed_at=timezone.now())
    with pytest.raises(SyncSkipped, match="Another Salesforce sync"):
        read_sync_run(tenant=owner.tenant)
    assert read_sync(str(owner.tenant_id)) == {
        "skipped": "Another Salesforce sync of this workspace is running."
    }
    assert not SyncRun.objects.exists()


def test_task_runs_a_sync(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(size=2)
    result = read_sync(str(owner.tenant_id))
    assert result["status"] == SyncStatus.SUCCEEDED
    assert result["api_calls"] == 2 * len(MIRRORED)
    connected.refresh_from_db()
    assert connected.last_sync_at is not None
    assert connected.sync_claimed_at is None


def test_api_usage_is_counted_per_day_from_every_answer(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    from integrations.models import ApiUsageDay

    sf_settings.control.seed(size=2)
    before = sf_settings.control.api_usage()
    run = read_sync_run(tenant=owner.tenant)

    usage = ApiUsageDay.objects.for_tenant(owner.tenant).get()
    assert usage.calls == run.api_calls + 1  # + the connect-time user lookup
    assert usage.read_calls == usage.calls
    after = sf_settings.control.api_usage()
    assert after["used"] - before["used"] == run.api_calls
    assert usage.org_used == after["used"]
    assert usage.org_limit == after["allocation"]


def test_org_allocation_spent_pauses_the_run(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(size=2)
    sf_settings.control.exhaust_api()

    run = read_sync_run(tenant=owner.tenant)

    assert run.status == SyncStatus.PAUSED
    assert "TotalRequests Limit exceeded" in run.error
    connected.refresh_from_db()
    assert connected.status == "connected"
    assert connected.sync_claimed_at is None


@pytest.mark.parametrize(
    ("source", "expected"), [("record_type", "Enterprise"), ("forecast_category", "Pipeline")]
)
def test_pipeline_comes_from_record_type_or_forecast_category(
    sf_settings: EmulatedOrg, connect, owner: Membership, source: str, expected: str
) -> None:
    ids = sf_settings.control.seed(
        records={"RecordType": [{"Name": "Enterprise", "SobjectType": "Opportunity"}]}
    )["ids"]
    sf_settings.control.seed(
        records={
            "Opportunity": [
                {
                    "Name": "Big deal",
                    "StageName": "Prospecting",
                    "CloseDate": "2026-12-31",
                    "ForecastCategoryName": "Pipeline",
                    "RecordTypeId": ids["RecordType"][0],
                }
            ]
        }
    )
    connect(owner.tenant, pipeline_source=source)

    read_sync_run(tenant=owner.tenant, objects=["OpportunityStage", "Opportunity"])

    opp = Opportunity.objects.for_tenant(owner.tenant).get()
    assert opp.pipeline == expected
    assert opp.stage.name == "Prospecting"
    assert opp.status == "OPEN"
