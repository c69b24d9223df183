"""Edge cases of the read sync: shared mirror models, late commits, clock skew, reconnecting
to another org, disconnecting mid-run, budget shared by concurrent clients."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from crm.models import Engagement, Lead, Note
from integrations.models import (
    PRODUCTION_LOGIN_URL,
    ApiUsageDay,
    SalesforceConnection,
    SyncState,
    SyncStatus,
)
from integrations.salesforce.client import ApiBudgetExhausted, SalesforceClient
from integrations.services import connection_connect, connection_disconnect, oauth_password_grant
from integrations.sync.runs import read_sync_run
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org
from salesmonk.tenants.models import Membership

pytestmark = pytest.mark.django_db
SF_TIME = "%Y-%m-%dT%H:%M:%S.000+0000"


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


def poll_at(minutes: float, tenant, **kwargs):
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True):
        return read_sync_run(tenant=tenant, **kwargs)


def sibling_org(sf_emulator, sf_settings: EmulatedOrg, **options) -> EmulatedOrg:
    org = create_org(
        sf_emulator.base_url,
        connected_apps=[
            {
                "client_id": sf_settings.client_id,
                "client_secret": sf_settings.client_secret,
                "redirect_uris": ["http://127.0.0.1:8000/..."],
            }
        ],
        **options,
    )
    org.client_id, org.client_secret = sf_settings.client_id, sf_settings.client_secret
    return org


def test_event_full_read_leaves_task_engagements_alone(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(
        records={
            "Task": [{"Subject": "call 1", "Type": "Call", "Status": "Completed"}],
            "Event": [
                {
                    "Subject": "meet",
                    "DurationInMinutes": 30,
                    "ActivityDateTime": "2026-01-01T10:00:00.000+0000",
                }
            ],
        }
    )
    run = read_sync_run(tenant=owner.tenant)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    task_id = sf_settings.records("Task")[0]["Id"]
    event_id = sf_settings.records("Event")[0]["Id"]
    live = Engagement.objects.for_tenant(owner.tenant).filter(remote_was_deleted=False)
    assert set(live.values_list("remote_id", flat=True)) == {task_id, event_id}


def test_a_task_that_stops_being_a_call_is_no_longer_an_engagement(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(
        records={"Task": [{"Subject": "c", "Type": "Call", "Status": "Completed"}]}
    )
    read_sync_run(tenant=owner.tenant, objects=["Task"])
    task_id = sf_settings.records("Task")[0]["Id"]
    sf_settings.control.edit("Task", task_id, {"Type": "Other", "TaskSubtype": "Task"})

    run = poll_at(2, owner.tenant, objects=["Task"])

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert Engagement.objects.for_tenant(owner.tenant).get(remote_id=task_id).remote_was_deleted


def test_a_late_commit_older_than_the_watermark_is_still_read(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    """A transaction that commits late carries a SystemModstamp older than rows already
    read; getUpdated reports it in the next window, and the read reaches back for it."""
    org = sf_settings
    org.control.seed(
        records={"Lead": [{"LastName": "A", "Company": "C"}, {"LastName": "B", "Company": "C"}]}
    )
    read_sync_run(tenant=owner.tenant, objects=["Lead"])
    ids = {r["LastName"]: r["Id"] for r in org.records("Lead")}
    # Half a minute into a minute: getUpdated covers whole minutes, so the edit is after the
    # window's end (at a minute's first second both would read hh:mm:00).
    later = (timezone.now() + dt.timedelta(minutes=3)).replace(second=30, microsecond=0)
    with time_machine.travel(later, tick=True):
        org.control.edit("Lead", ids["B"], {"Company": "C3"})  # after the window's end
        read_sync_run(tenant=owner.tenant, objects=["Lead"])
        state = SyncState.objects.for_tenant(owner.tenant).get(object_name="Lead")
        assert state.watermark > state.changes_checked_until
        late = state.changes_checked_until.strftime(SF_TIME)
        org.control.seed(
            records={"Lead": [{"LastName": "LATE", "Company": "C", "SystemModstamp": late}]}
        )

    run = poll_at(6, owner.tenant, objects=["Lead"])

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert Lead.objects.for_tenant(owner.tenant).filter(last_name="LATE").exists()


def test_a_delete_is_not_lost_when_our_clock_runs_ahead_of_salesforce(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    org = sf_settings
    org.control.seed(records={"Note": [{"Title": f"n{i}", "Body": "b"} for i in range(3)]})
    org.control.clock(advance_seconds=-180)  # Salesforce's clock 3 minutes behind ours
    read_sync_run(tenant=owner.tenant, objects=["Note"])
    doomed = org.records("Note", include_deleted=False)[0]["Id"]
    org.control.delete("Note", doomed)

    poll_at(2, owner.tenant, objects=["Note"])
    poll_at(6, owner.tenant, objects=["Note"])

    assert Note.objects.for_tenant(owner.tenant).get(remote_id=doomed).remote_was_deleted


def test_reconnecting_to_another_org_starts_over(
    sf_emulator, sf_settings: EmulatedOrg, connect, owner: Membership
) -> None:
    sf_settings.control.seed(
        records={"Lead": [{"LastName": f"A{i}", "Company": "C"} for i in range(3)]}
    )
    conn = connect(owner.tenant)
    read_sync_run(tenant=owner.tenant, objects=["Lead"])
    other = sibling_org(sf_emulator, sf_settings)
    try:
        three_days_ago = (timezone.now() - dt.timedelta(days=3)).strftime(SF_TIME)
        other.control.seed(
            records={
                "Lead": [
                    {"LastName": f"B{i}", "Company": "C", "SystemModstamp": three_days_ago}
                    for i in range(4)
                ]
            }
        )
        tokens = oauth_password_grant(
            login_url=PRODUCTION_LOGIN_URL, username=other.username, password=other.password
        )
        connection_connect(
            tenant=owner.tenant, acting_user=None, login_url=PRODUCTION_LOGIN_URL, tokens=tokens
        )
        conn.refresh_from_db()
        assert (conn.org_id, conn.refresh_token) == (other.org_id, "")

        run = poll_at(2, owner.tenant, objects=["Lead"])

        assert run.status == SyncStatus.SUCCEEDED, run.error
        live = Lead.objects.for_tenant(owner.tenant).filter(remote_was_deleted=False)
        assert set(live.values_list("last_name", flat=True)) == {f"B{i}" for i in range(4)}
    finally:
        delete_org(sf_emulator.base_url, other.name)


def test_disconnecting_stops_a_running_sync(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(
        records={"Lead": [{"LastName": f"L{i}", "Company": "C"} for i in range(4100)]}
    )
    disconnected = []

    def disconnect_after_first_page(name: str, read: int, total: int) -> None:
        if not disconnected:
            disconnected.append(read)
            connection_disconnect(tenant=owner.tenant, acting_user=None)

    run = read_sync_run(tenant=owner.tenant, objects=["Lead"], progress=disconnect_after_first_page)

    assert run.status == SyncStatus.FAILED
    assert "no longer connected" in run.error
    assert Lead.objects.for_tenant(owner.tenant).count() == 2000  # the page before it stopped
    conn = SalesforceConnection.objects.get(tenant=owner.tenant)
    assert conn.status == "disconnected"
    assert conn.access_token_encrypted == ""


def test_concurrent_clients_share_the_daily_budget(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    SalesforceConnection.objects.filter(pk=connected.pk).update(
        api_daily_budget=6, read_reserve_percent=0
    )
    connected.refresh_from_db()
    reader = SalesforceClient(connected, purpose="read")
    writer = SalesforceClient(connected, purpose="write")
    made = 0
    with pytest.raises(ApiBudgetExhausted, match="budget"):  # noqa: PT012
        for client in (reader, writer, reader, writer, reader, writer):
            client.limits()
            made += 1
    assert made == 5  # 1 call went to connecting
    assert ApiUsageDay.objects.for_tenant(owner.tenant).get().calls == 6


def test_describe_cache_is_per_connection(
    sf_emulator, sf_settings: EmulatedOrg, connect, owner: Membership, outsider: Membership
) -> None:
    bare = sibling_org(sf_emulator, sf_settings, custom_fields=False)
    try:
        sf_settings.control.seed(records={"Lead": [{"LastName": "A", "Company": "C"}]})
        bare.control.seed(records={"Lead": [{"LastName": "B", "Company": "C"}]})
        connect(owner.tenant)
        connect(outsider.tenant, bare)
        assert read_sync_run(tenant=owner.tenant, objects=["Lead"]).status == "succeeded"
        run = read_sync_run(tenant=outsider.tenant, objects=["Lead"])
        assert run.status == SyncStatus.SUCCEEDED, run.error
    finally:
        delete_org(sf_emulator.base_url, bare.name)
