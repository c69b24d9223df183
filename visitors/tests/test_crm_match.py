"""The CRM match stored on visitors: what the refresh writes (and does not), agreement of the
segment engine with `visitors_in_crm`, identification through the ingest endpoint, the
backfill command and tenant isolation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf

from crm.factories import AccountFactory, ContactFactory, LeadFactory, UserFactory
from crm.models import Lead
from salesmonk.tenants.models import Membership, Tenant
from visitors.browse.selectors import visitor_rows_page
from visitors.models import Visitor
from visitors.segments.filters import IN_CRM_CHOICES, SegmentFilters
from visitors.segments.selectors import visitors_filtered
from visitors.tests.conftest import Send, page
from visitors.tests.segment_factories import VisitorFactory, crm_match
from visitors.tests.test_segments_engine import NOW, World, build_world
from visitors.tracking import tasks
from visitors.tracking.crm_match import (
    MatchRefreshed,
    visitor_crm_match_refresh,
    visitor_crm_match_refresh_for,
)
from visitors.tracking.selectors import visitor_list, visitors_in_crm

LATER = NOW + dt.timedelta(hours=1)


@pytest.fixture
def world(tenant: Tenant, owner: Membership) -> World:
    """The engine's world plus the cases the filters used to answer differently from the
    pages: a visitor known only by phone, and a lead converted into a live contact."""
    with time_machine.travel(NOW, tick=False):
        w = build_world(tenant, owner)
        account = w.accounts["won"]
        ContactFactory(
            tenant=tenant, email="", phone="+14155550100", owner=w.users["b"], account=account
        )
        w.visitors["by_phone"] = VisitorFactory(
            tenant=tenant, email="pat@nowhere.com", phone="+14155550100"
        )
        became = ContactFactory(tenant=tenant, email="", owner=w.users["c"], account=account)
        LeadFactory(
            tenant=tenant,
            email="quinn@conv.com",
            owner=w.users["a"],
            converted_at=NOW,
            converted_contact=became,
        )
        w.visitors["converted_live"] = VisitorFactory(tenant=tenant, email="quinn@conv.com")
        crm_match(tenant)
    return w


@pytest.fixture
def outsider_world(outsider: Membership) -> World:
    with time_machine.travel(NOW, tick=False):
        return build_world(outsider.tenant, outsider)


def stored(tenant: Tenant) -> dict[Any, tuple[Any, ...]]:
    return {
        pk: rest
        for pk, *rest in Visitor.objects.for_tenant(tenant).values_list(
            "pk",
            "crm_contact",
            "crm_lead",
            "crm_account",
            "crm_owner",
            "crm_owner_rule",
            "crm_matched_at",
        )
    }


def test_refresh_writes_exactly_the_rows_whose_match_changed(world: World) -> None:
    tenant = world.tenant
    before = stored(tenant)
    bo = world.visitors["lead"]  # a lead with no account: the lead's owner is theirs
    with time_machine.travel(LATER, tick=False):
        assert visitor_crm_match_refresh(tenant=tenant) == 0
        Lead.objects.for_tenant(tenant).filter(email=bo.email).update(owner=world.users["c"])
        assert visitor_crm_match_refresh(tenant=tenant) == 1
    after = stored(tenant)
    assert {pk for pk in before if before[pk] != after[pk]} == {bo.pk}
    assert after[bo.pk][3:] == [world.users["c"].pk, "lead_owner", LATER]
    # Asking for some visitors looks at them only.
    Lead.objects.for_tenant(tenant).filter(email=bo.email).update(owner=world.users["a"])
    ann = world.visitors["contact"]
    assert visitor_crm_match_refresh(tenant=tenant, visitor_ids=[ann.pk]) == 0
    assert visitor_crm_match_refresh(tenant=tenant, visitor_ids=[]) == 0
    assert visitor_crm_match_refresh(tenant=tenant, visitor_ids=[ann.pk, bo.pk]) == 1


@pytest.mark.parametrize(
    ("change", "owner", "rule"),
    [
        pytest.param({}, "a", "account_owner", id="account owner wins over contact owner"),
        pytest.param({"account": None}, "b", "contact_owner", id="contact owner"),
        pytest.param({"account": "inactive"}, "b", "contact_owner", id="inactive passed over"),
        pytest.param({"account": None, "contact": None}, "c", "lead_owner", id="lead owner"),
        pytest.param(
            {"account": None, "contact": None, "lead": "queue"}, None, "", id="queue passed over"
        ),
        pytest.param(
            {"account": "deleted", "contact": "inactive", "lead": "inactive"},
            None,
            "",
            id="nothing usable",
        ),
    ],
)
def test_the_stored_owner_and_rule_follow_the_owner_chain(
    tenant: Tenant,
    outsider: Membership,
    change: dict[str, str | None],
    owner: str | None,
    rule: str,
) -> None:
    """Eve is a contact (owner b) at an account (owner a) and a converted lead (owner c):
    each case takes a link out of the chain. Default owner and installer never count: the
    stored match is the owner of an existing record (here the installer is mirrored)."""
    from integrations.models import SalesforceConnection

    users = {n: UserFactory(tenant=tenant, name=f"Rep {n}") for n in ("a", "b", "c", "inst")}
    SalesforceConnection.objects.create(tenant=tenant, installer_remote_id=users["inst"].remote_id)
    account = AccountFactory(tenant=tenant, domain="eve.example", owner=users["a"])
    contact = ContactFactory(tenant=tenant, email="", owner=users["b"], account=account)
    lead = LeadFactory(
        tenant=tenant, email="eve@eve.example", owner=users["c"], converted_contact=contact
    )
    for name, record, who in (("account", account, "a"), ("contact", contact, "b")):
        if name in change and change[name] is None:
            record.owner = None
            record.owner_remote_id = ""
            record.save()
        elif name in change:
            user = users[who]
            user.is_active = change[name] != "inactive"
            user.remote_was_deleted = change[name] == "deleted"
            user.save()
    if change.get("lead") == "queue":
        lead.owner, lead.owner_remote_id = None, "00G5g00000ABCDEAAA"
        lead.save()
    elif change.get("lead") == "inactive":
        users["c"].is_active = False
        users["c"].save()
    eve = VisitorFactory(tenant=tenant, email="eve@eve.example")
    VisitorFactory(tenant=outsider.tenant, email="eve@eve.example")

    crm_match(tenant, outsider.tenant)

    eve.refresh_from_db()
    assert (eve.crm_contact, eve.crm_lead, eve.crm_account) == (contact, lead, account)
    assert (eve.crm_owner, eve.crm_owner_rule) == (users[owner] if owner else None, rule)
    theirs = Visitor.objects.get(tenant=outsider.tenant)
    assert (theirs.crm_lead, theirs.crm_owner, theirs.crm_owner_rule) == (None, None, "")
    assert theirs.crm_matched_at is not None


def test_refresh_walks_in_batches(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("visitors.tracking.crm_match.BATCH_SIZE", 3)
    Visitor.objects.for_tenant(world.tenant).update(crm_owner=None, crm_matched_at=None)
    live = Visitor.objects.for_tenant(world.tenant).filter(merged_into__isnull=True).count()
    assert visitor_crm_match_refresh(tenant=world.tenant) == live == 11
    assert not Visitor.objects.filter(merged_into__isnull=True, crm_matched_at=None).exists()


def test_a_time_boxed_refresh_stops_at_a_batch_boundary_and_resumes_there(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("visitors.tracking.crm_match.BATCH_SIZE", 4)
    live = list(
        Visitor.objects.for_tenant(world.tenant)
        .filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Visitor.objects.for_tenant(world.tenant).update(crm_owner=None, crm_matched_at=None)
    walked, after = [], None
    while True:  # no time at all: one batch per call
        done = visitor_crm_match_refresh_for(tenant=world.tenant, after=after, seconds=0)
        walked.append(done.written)
        if done.resume_after is None:
            break
        assert done.resume_after == live[sum(walked) - 1]
        after = done.resume_after
    assert walked == [4, 4, 3]
    assert not Visitor.objects.filter(merged_into__isnull=True, crm_matched_at=None).exists()
    # With time to spare it walks to the end in one call.
    Visitor.objects.for_tenant(world.tenant).update(crm_matched_at=None)
    assert visitor_crm_match_refresh_for(
        tenant=world.tenant, after=None, seconds=60
    ) == MatchRefreshed(written=11, resume_after=None)


def test_the_background_refresh_hands_the_rest_of_a_large_tenant_to_the_next_task(
    world: World, outsider_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Conf, "SYNC", True)  # queued tasks run inline, as the cluster would
    monkeypatch.setattr("visitors.tracking.crm_match.BATCH_SIZE", 2)
    monkeypatch.setattr(tasks, "CRM_MATCH_CHUNK_SECONDS", 0)
    calls: list[tuple[str, ...]] = []
    real = tasks.crm_match_refresh

    def recorded(*args: str) -> dict[str, object]:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(tasks, "crm_match_refresh", recorded)
    Visitor.objects.update(crm_owner=None, crm_matched_at=None)
    tasks.crm_match_refresh_enqueue(world.tenant.pk)
    assert len(calls) == 6  # 11 visitors, 2 per task
    assert calls[0] == (str(world.tenant.pk),)
    assert all(len(call) == 2 and call[0] == str(world.tenant.pk) for call in calls[1:])
    assert (
        not Visitor.objects.for_tenant(world.tenant)
        .filter(merged_into__isnull=True, crm_matched_at=None)
        .exists()
    )
    # Another tenant's visitors are not walked.
    assert (
        not Visitor.objects.for_tenant(outsider_world.tenant).exclude(crm_matched_at=None).exists()
    )


def test_the_refresh_and_the_lists_fallback_never_read_opportunities(world: World) -> None:
    """Only the visitor page shows open opportunities; the stored match has none."""
    tenant = world.tenant
    visitors = list(Visitor.objects.for_tenant(tenant).select_related("company"))
    assert any(
        m.open_opportunities for m in visitors_in_crm(tenant=tenant, visitors=visitors).values()
    )
    Visitor.objects.for_tenant(tenant).update(crm_matched_at=None)
    with CaptureQueriesContext(connection) as refresh:
        assert visitor_crm_match_refresh(tenant=tenant) == 11
    with CaptureQueriesContext(connection) as rows:
        page = visitor_rows_page(visitor_list(tenant=tenant), tenant=tenant)
    assert len(page.rows) == 11
    read = [q["sql"] for q in refresh.captured_queries + rows.captured_queries]
    assert any("crm_contact" in sql for sql in read)
    assert not [sql for sql in read if "crm_opportunity" in sql]


def test_engine_agrees_with_visitors_in_crm_over_every_visitor(world: World) -> None:
    tenant = world.tenant
    visitors = list(
        Visitor.objects.for_tenant(tenant)
        .filter(merged_into__isnull=True)
        .select_related("company")
    )
    truth = visitors_in_crm(tenant=tenant, visitors=visitors)

    def kind(pk: Any) -> str:
        match = truth[pk]
        if match.contact:
            return "contact"
        return "lead" if match.lead else ("account" if match.account else "none")

    def engine(**filters: Any) -> set[Any]:
        found = visitors_filtered(tenant=tenant, filters=SegmentFilters(**filters), member=None)
        return {v.pk for v in found}

    kinds = [k for k in IN_CRM_CHOICES if k]
    expected = {
        **{k: {v.pk for v in visitors if kind(v.pk) == k} for k in kinds},
        **{
            f"owner {n}": {v.pk for v in visitors if truth[v.pk].owner == u}
            for n, u in world.users.items()
        },
    }
    assert {
        **{k: engine(in_crm=k) for k in kinds},
        **{f"owner {n}": engine(owner_ids=(str(u.pk),)) for n, u in world.users.items()},
    } == expected
    # The cases that used to differ are in it, matched as the pages show them.
    assert kind(world.visitors["by_phone"].pk) == "contact"
    assert truth[world.visitors["by_phone"].pk].owner == world.users["c"]  # won's owner
    assert kind(world.visitors["converted_live"].pk) == "contact"
    assert truth[world.visitors["converted_live"].pk].owner == world.users["c"]
    assert kind(world.visitors["converted"].pk) == "lead"


def test_identify_through_the_endpoint_stores_the_match_at_once(send: Send, tenant: Tenant) -> None:
    account = AccountFactory(tenant=tenant, domain="initech.com")
    contact = ContactFactory(tenant=tenant, email="bo@initech.com", account=account)
    assert send([page(), {"type": "identify", "email": "Bo@Initech.com"}]).status_code == 202
    visitor = Visitor.objects.for_tenant(tenant).get()
    assert (visitor.crm_contact, visitor.crm_lead, visitor.crm_account, visitor.crm_owner) == (
        contact,
        None,
        account,
        account.owner,
    )
    assert visitor.crm_owner_rule == "account_owner"
    assert visitor.crm_matched_at is not None
    owned = SegmentFilters(owner_ids=(str(account.owner_id),), in_crm="contact")
    assert list(visitors_filtered(tenant=tenant, filters=owned, member=None)) == [visitor]


def test_a_merge_on_identify_matches_the_survivor(send: Send, tenant: Tenant) -> None:
    lead = LeadFactory(tenant=tenant, email="cy@globex.com", phone="+14155550111")
    assert send({"type": "identify", "email": "cy@globex.com"}).status_code == 202
    other = send(
        {"type": "identify", "email": "cy@globex.com"}, anonymous_id="device-two"
    ).status_code
    assert other == 202
    survivor = Visitor.objects.for_tenant(tenant).get(merged_into__isnull=True)
    assert survivor.crm_lead == lead
    assert survivor.crm_owner == lead.owner


def test_outsider_rows_are_never_read_or_written(world: World, outsider_world: World) -> None:
    theirs = stored(outsider_world.tenant)
    Visitor.objects.for_tenant(outsider_world.tenant).update(crm_owner=None)
    theirs_cleared = stored(outsider_world.tenant)
    with time_machine.travel(LATER, tick=False):
        visitor_crm_match_refresh(tenant=world.tenant)
        # Ids of their visitors change nothing when asked of our tenant.
        assert (
            visitor_crm_match_refresh(tenant=world.tenant, visitor_ids=list(theirs_cleared.keys()))
            == 0
        )
    assert stored(outsider_world.tenant) == theirs_cleared
    assert theirs != theirs_cleared
    for tenant in (world.tenant, outsider_world.tenant):
        rows = Visitor.objects.for_tenant(tenant).exclude(crm_contact=None)
        assert rows.exists()
        assert set(rows.values_list("crm_contact__tenant", flat=True)) == {tenant.pk}
    for visitor in Visitor.objects.for_tenant(world.tenant).exclude(crm_owner=None):
        assert visitor.crm_owner.tenant_id == world.tenant.pk
        assert visitor.crm_account is None or visitor.crm_account.tenant_id == world.tenant.pk


def test_backfill_command(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    Visitor.objects.for_tenant(world.tenant).filter(pk=world.visitors["lead"].pk).update(
        crm_lead=None
    )
    call_command("visitor_crm_match", tenant=world.tenant.slug)
    assert "1 visitors of" in capsys.readouterr().out
    assert Visitor.objects.get(pk=world.visitors["lead"].pk).crm_lead is not None
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command("visitor_crm_match", tenant="nope")
