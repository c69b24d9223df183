"""Write-back edge cases found in review, through the emulator over HTTP: a drain whose
claim was taken over, duplicate rules, matches without update permission, failed parents,
creates recovered after a crash, two visitors matching one record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from integrations.models import SalesforceConnection
from integrations.tests.writes import enable, live, pending, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteLog, WriteSettings
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership

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
