"""A read sync that changes the mirror refreshes the visitors' stored CRM match (through
`crm_mirror_changed` and the queued task), so segment filters follow Salesforce."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from django_q.conf import Conf

from crm.models import CrmUser
from crm.signals import crm_mirror_changed
from integrations.models import SalesforceConnection, SyncStatus
from integrations.sync.runs import read_sync_run
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership
from visitors.segments.filters import SegmentFilters
from visitors.segments.selectors import visitors_filtered
from visitors.tests.segment_factories import VisitorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


@pytest.fixture
def q_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 runs queued tasks inline, as the cluster would."""
    monkeypatch.setattr(Conf, "SYNC", True)


def test_an_owner_change_in_salesforce_reaches_the_owner_filter(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    outsider: Membership,
    q_sync: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    tenant = owner.tenant
    control = sf_settings.control
    account = control.create("Account", {"Name": "Initech", "Website": "https://initech.com"})
    contact = control.create(
        "Contact", {"LastName": "Bo", "Email": "bo@initech.com", "AccountId": account["Id"]}
    )
    visitor = VisitorFactory(tenant=tenant, email="bo@initech.com")
    theirs = VisitorFactory(tenant=outsider.tenant, email="bo@initech.com")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = read_sync_run(tenant=tenant)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert len(callbacks) == 1
    visitor.refresh_from_db()
    admin = CrmUser.objects.for_tenant(tenant).get(remote_id=sf_settings.user_id)
    rep = CrmUser.objects.for_tenant(tenant).get(remote_id=sf_settings.rep_user_id)
    assert visitor.crm_contact.remote_id == contact["Id"]
    assert visitor.crm_account.remote_id == account["Id"]
    assert (visitor.crm_owner, visitor.crm_owner_rule) == (admin, "account_owner")

    # The account owner comes first in the owner chain: reassigning the account moves Bo.
    control.reassign([account["Id"]], sf_settings.rep_user_id)
    later = timezone.now() + dt.timedelta(minutes=2)
    with (
        time_machine.travel(later, tick=True),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        run = read_sync_run(tenant=tenant)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.counts["Account"]["updated"] == 1
    assert len(callbacks) == 1

    by_rep = SegmentFilters(owner_ids=(str(rep.pk),))
    assert list(visitors_filtered(tenant=tenant, filters=by_rep, member=None)) == [visitor]
    by_admin = SegmentFilters(owner_ids=(str(admin.pk),))
    assert list(visitors_filtered(tenant=tenant, filters=by_admin, member=None)) == []
    theirs.refresh_from_db()
    assert (theirs.crm_contact, theirs.crm_owner, theirs.crm_matched_at) == (None, None, None)


def test_a_sync_that_changed_nothing_sends_nothing(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    q_sync: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    read_sync_run(tenant=owner.tenant)
    received: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs["tenant_id"])

    crm_mirror_changed.connect(receiver)
    try:
        later = timezone.now() + dt.timedelta(minutes=2)
        with (
            time_machine.travel(later, tick=True),
            django_capture_on_commit_callbacks(execute=True) as callbacks,
        ):
            run = read_sync_run(tenant=owner.tenant)
    finally:
        crm_mirror_changed.disconnect(receiver)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert (callbacks, received) == ([], [])
