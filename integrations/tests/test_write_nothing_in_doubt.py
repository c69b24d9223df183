"""Nothing left in doubt, through the emulator over HTTP and its fault API: whole-call
failures count an attempt on every intent they carried, lost answers are reconciled by the
next drain, dead runs are closed, claims expire on the database's clock, and Retry says
what it did."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.claims import Claim, db_now
from integrations.models import SalesforceConnection
from integrations.tests.writes import enable, live, pending, staff, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteLog, WriteRun, WriteSettings
from integrations.write.runs import runs_abandon, write_claim_ttl
from integrations.write.source import intents_retry
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership
from visitors.models import WriteIntent

pytestmark = pytest.mark.django_db

LOCKED = {
    "status": 400,
    "errorCode": "UNABLE_TO_LOCK_ROW",
    "message": "unable to obtain exclusive access to this record",
}


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


# A drain's calls: 1 describe (composite), 2 lookups (composite), 3 the writes.
WRITE_CALL = 3


def test_a_composite_refused_as_a_whole_fails_each_intent_with_the_reason(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    visitor(tenant, email="locked@t.example", last="Locked")
    sf_settings.control.fault(fail_call={"n": WRITE_CALL, **LOCKED, "times": 1})

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    assert live(sf_settings, "Lead") == []
    intents = WriteIntent.objects.for_tenant(tenant).filter(status="pending")
    assert intents.count() == 2
    for intent in intents:
        assert intent.attempts == 1
        assert "UNABLE_TO_LOCK_ROW" in intent.last_error
        assert "refused the whole request" in intent.last_error
    (log,) = WriteLog.objects.filter(run=run)
    assert (log.result, log.object_name) == ("failed", "Lead")
    assert "UNABLE_TO_LOCK_ROW" in log.error

    again = write_sync_run(tenant=tenant)

    assert again.status == "succeeded", again.error
    assert [r["Email"] for r in live(sf_settings, "Lead")] == ["locked@t.example"]
    assert pending(tenant) == 0


def test_a_lost_answer_is_reconciled_by_the_next_drain_without_a_duplicate(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    visitor(tenant, email="lost@t.example", last="Lost", domain="lost-co.example")
    visitor(tenant, email="kept@t.example", last="Kept", kinds=("person",))
    # The write call gets no usable answer (a 503): it may or may not have been written.
    sf_settings.control.fault(
        fail_call={"n": WRITE_CALL, "status": 503, "errorCode": "SERVER_UNAVAILABLE", "times": 1}
    )

    first = write_sync_run(tenant=tenant)

    assert first.status == "failed"
    assert first.error
    sent = WriteLog.objects.filter(run=first)
    assert set(sent.values_list("result", flat=True)) == {"sent"}
    for intent in WriteIntent.objects.for_tenant(tenant).filter(kind__in=["lead", "account"]):
        assert (intent.status, intent.attempts) == ("pending", 1)
        assert "Salesforce did not answer" in intent.last_error

    second = write_sync_run(tenant=tenant)

    assert second.status == "succeeded", second.error
    assert second.counts["lost_answers_reconciled"] == sent.count()
    assert not WriteLog.objects.filter(result="sent").exists()
    assert set(sent.values_list("result", flat=True)) == {"reconciled"}
    leads = live(sf_settings, "Lead")
    accounts = live(sf_settings, "Account")
    assert len({r["Email"] for r in leads}) == len(leads)
    assert len(accounts) <= 1
    assert pending(tenant) == 0


def test_a_killed_drain_frees_the_tenant_after_the_short_claim_and_is_abandoned(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    tenant = owner.tenant
    enable(tenant)
    visitor(tenant, email="after@kill.example", last="After")
    ws = WriteSettings.objects.create(tenant=tenant)
    dead = WriteRun.objects.create(tenant=tenant)  # its worker was killed
    held = Claim.take(WriteSettings, ws.pk, "claimed_at", ttl=write_claim_ttl())
    assert held is not None

    assert write_sync_run.__name__  # a second drain cannot start while the claim is fresh
    with pytest.raises(Exception, match="Another write sync"):
        write_sync_run(tenant=tenant)
    # A minute and a bit later on the database's clock, the claim has expired.
    WriteSettings.objects.filter(pk=ws.pk).update(
        claimed_at=db_now() - write_claim_ttl() - dt.timedelta(seconds=1)
    )

    run = write_sync_run(tenant=tenant)

    assert run.status == "succeeded", run.error
    dead.refresh_from_db()
    assert dead.status == "abandoned"
    assert dead.finished_at is not None
    assert "stopped" in dead.error
    assert [r["Email"] for r in live(sf_settings, "Lead")] == ["after@kill.example"]


def test_the_dispatch_sweep_abandons_runs_whose_claim_expired(owner: Membership) -> None:
    tenant = owner.tenant
    ws = WriteSettings.objects.create(tenant=tenant, claimed_at=timezone.now())
    alive = WriteRun.objects.create(tenant=tenant)

    assert runs_abandon() == 0
    WriteSettings.objects.filter(pk=ws.pk).update(claimed_at=None)
    assert runs_abandon() == 1
    alive.refresh_from_db()
    assert alive.status == "abandoned"


def test_a_claim_renews_and_is_lost_once_taken_over(owner: Membership) -> None:
    ws = WriteSettings.objects.create(tenant=owner.tenant)
    claim = Claim.take(WriteSettings, ws.pk, "claimed_at", ttl=write_claim_ttl())
    assert claim is not None
    assert Claim.take(WriteSettings, ws.pk, "claimed_at", ttl=write_claim_ttl()) is None
    assert claim.renew()
    WriteSettings.objects.filter(pk=ws.pk).update(claimed_at=db_now() + dt.timedelta(seconds=1))
    assert not claim.renew()
    assert claim.lost.is_set()


def test_retry_requeues_parked_and_failed_attempts_and_says_how_many(
    owner: Membership, outsider: Membership
) -> None:
    tenant = owner.tenant
    parked = visitor(tenant, email="p@t.example", kinds=())
    tried = visitor(tenant, email="t@t.example", kinds=())
    waiting = visitor(tenant, email="w@t.example", kinds=())
    rows = {
        "parked": WriteIntent.objects.create(
            tenant=tenant, visitor=parked, kind="lead", status="failed", attempts=5, last_error="x"
        ),
        "tried": WriteIntent.objects.create(
            tenant=tenant, visitor=tried, kind="lead", attempts=2, last_error="UNABLE_TO_LOCK_ROW"
        ),
        "waiting": WriteIntent.objects.create(tenant=tenant, visitor=waiting, kind="lead"),
    }
    ids = [r.pk for r in rows.values()]
    assert intents_retry(tenant=outsider.tenant, intent_ids=ids) == 0

    client = Client()
    client.force_login(staff())
    response = client.post(
        reverse("admin:integrations_failedintent_changelist"),
        {"action": "retry", "_selected_action": ids},
        follow=True,
    )

    text = response.content.decode()
    assert "2 failed intent(s) queued again; 1 had not failed" in text
    for row in rows.values():
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("pending", 0)
    assert rows["tried"].last_error == "UNABLE_TO_LOCK_ROW"  # shown until a write succeeds
