"""The segment engine: a table of filters against visitors whose CRM situation differs in
one way each, the customer rule, parsing, query counts, and an outsider tenant holding the
same data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    StageFactory,
    UserFactory,
)
from crm.models import MemberLink, OpportunityStatus
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import CustomerRule, Segment, SegmentTarget
from visitors.segments.filters import SegmentFilters
from visitors.segments.selectors import (
    companies_filtered,
    customer_accounts,
    segment_visitors,
    visitors_filtered,
)
from visitors.tests.segment_factories import CompanyFactory, VisitorFactory, crm_match

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


@dataclass
class World:
    tenant: Tenant
    member: Membership
    users: dict[str, Any]
    accounts: dict[str, Any]
    stages: dict[str, Any]
    companies: dict[str, Any]
    visitors: dict[str, Any]


def build_world(tenant: Tenant, member: Membership) -> World:
    """One tenant's data: visitors named after what makes them different."""
    users = {name: UserFactory(tenant=tenant, name=f"Rep {name}") for name in ("a", "b", "c")}
    MemberLink.objects.create(tenant=tenant, membership=member, user=users["a"])
    stages = {name: StageFactory(tenant=tenant, name=name) for name in ("Qualify", "Negotiate")}
    accounts = {
        "open": AccountFactory(tenant=tenant, domain="open.com", owner=users["a"]),
        "won": AccountFactory(tenant=tenant, domain="won.com", owner=users["c"]),
        "typed": AccountFactory(
            tenant=tenant, domain="cust.com", owner=users["b"], type="Customer - Direct"
        ),
        "gone": AccountFactory(
            tenant=tenant, domain="gone.com", owner=users["a"], remote_was_deleted=True
        ),
    }
    OpportunityFactory(tenant=tenant, account=accounts["open"], stage=stages["Qualify"])
    OpportunityFactory(
        tenant=tenant,
        account=accounts["open"],
        stage=stages["Negotiate"],
        remote_was_deleted=True,
    )
    OpportunityFactory(tenant=tenant, account=accounts["won"], status=OpportunityStatus.WON)
    OpportunityFactory(tenant=tenant, account=accounts["typed"], status=OpportunityStatus.LOST)
    companies = {
        d: CompanyFactory(tenant=tenant, domain=f"{d}.com", name=f"{d.title()} Co")
        for d in ("open", "won", "cust", "gone", "plain")
    }

    def visitor(email: str = "", company: str | None = None, **kw: Any) -> Any:
        return VisitorFactory(
            tenant=tenant,
            email=email,
            company=companies[company] if company else None,
            **kw,
        )

    v = {
        # A contact (owner b, account "open") beats a lead with the same email (owner c).
        "contact": visitor("ann@open.example", "open", utm_source="google", utm_medium="cpc"),
        "lead": visitor("bo@lead.example", first_name="Bo", utm_source="google"),
        "converted": visitor("cy@conv.example"),
        "deleted_contact": visitor("di@del.example"),
        "account_only": visitor(company="won"),
        "typed": visitor("ed@cust.example", "cust"),
        "gone": visitor(company="gone"),
        "queue_lead": visitor("fi@open.example", "open"),
        "old": visitor(
            company="plain",
            utm_source="newsletter",
            last_seen_at=NOW - dt.timedelta(days=10),
            first_seen_at=NOW - dt.timedelta(days=12),
        ),
    }
    ContactFactory(
        tenant=tenant, email="ann@open.example", owner=users["b"], account=accounts["open"]
    )
    LeadFactory(tenant=tenant, email="ann@open.example", owner=users["c"])
    LeadFactory(tenant=tenant, email="bo@lead.example", owner=users["a"], lead_status="Working")
    LeadFactory(
        tenant=tenant,
        email="cy@conv.example",
        owner=users["a"],
        lead_status="Closed - Converted",
        converted_at=NOW - dt.timedelta(days=3),
    )
    ContactFactory(
        tenant=tenant,
        email="di@del.example",
        owner=users["a"],
        account=accounts["open"],
        remote_was_deleted=True,
    )
    LeadFactory(tenant=tenant, email="fi@open.example", owner=None, lead_status="New")
    VisitorFactory(tenant=tenant, email="ann+old@open.example", merged_into=v["contact"])
    crm_match(tenant)
    return World(tenant, member, users, accounts, stages, companies, v)


@pytest.fixture
def world(tenant: Tenant, owner: Membership) -> World:
    with time_machine.travel(NOW, tick=False):
        return build_world(tenant, owner)


@pytest.fixture
def outsider_world(outsider: Membership) -> World:
    with time_machine.travel(NOW, tick=False):
        return build_world(outsider.tenant, outsider)


def names(world: World, qs: Any) -> set[str]:
    by_pk = {v.pk: name for name, v in world.visitors.items()}
    return {by_pk.get(v.pk, f"foreign:{v.pk}") for v in qs}


ALL = {
    "contact",
    "lead",
    "converted",
    "deleted_contact",
    "account_only",
    "typed",
    "gone",
    "queue_lead",
    "old",
}

TABLE: list[tuple[dict[str, Any], set[str]]] = [
    ({}, ALL),
    ({"q": "ann"}, {"contact"}),
    ({"q": "BO"}, {"lead"}),
    ({"q": "won co"}, {"account_only"}),
    ({"q": "open.example"}, {"contact", "queue_lead"}),
    ({"in_crm": "contact"}, {"contact"}),
    ({"in_crm": "lead"}, {"lead", "converted", "queue_lead"}),
    ({"in_crm": "account"}, {"account_only", "typed"}),
    ({"in_crm": "none"}, {"deleted_contact", "gone", "old"}),
    # The account owner comes first: Ann's contact is b's, her account (open) is mine.
    ({"owner_ids": ["me"]}, {"contact", "lead", "converted", "queue_lead"}),
    ({"owner_ids": ["<b>"]}, {"typed"}),
    ({"owner_ids": ["<c>"]}, {"account_only"}),
    ({"owner_ids": ["<b>", "<c>"]}, {"typed", "account_only"}),
    ({"has_open_opportunity": True}, {"contact", "queue_lead"}),
    ({"has_open_opportunity": False}, ALL - {"contact", "queue_lead"}),
    ({"stage_ids": ["<Qualify>"]}, {"contact", "queue_lead"}),
    ({"stage_ids": ["<Negotiate>"]}, set()),
    ({"lead_statuses": ["Working"]}, {"lead"}),
    ({"lead_statuses": ["Working", "New"]}, {"lead", "queue_lead"}),
    ({"lead_statuses": ["Closed - Converted"]}, {"converted"}),
    ({"utm_source": "google"}, {"contact", "lead"}),
    ({"utm_source": "google", "utm_medium": "cpc"}, {"contact"}),
    ({"utm_source": "Google"}, set()),
    ({"utm_campaign": "spring"}, set()),
    (
        {"identified": True},
        {"contact", "lead", "converted", "deleted_contact", "typed", "queue_lead"},
    ),
    ({"identified": False}, {"account_only", "gone", "old"}),
    ({"seen_within_days": 7}, ALL - {"old"}),
    ({"seen_within_days": 30}, ALL),
    ({"customer": "only"}, {"account_only"}),
    ({"customer": "exclude"}, ALL - {"account_only"}),
    ({"owner_ids": ["me"], "in_crm": "lead", "has_open_opportunity": True}, {"queue_lead"}),
]


def _resolve(world: World, data: dict[str, Any]) -> dict[str, Any]:
    """Replace "<name>" placeholders with the ids of users and stages."""
    out = {}
    for key, value in data.items():
        if isinstance(value, list):
            resolved = []
            for item in value:
                if item.startswith("<"):
                    name = item.strip("<>")
                    obj = world.users.get(name) or world.stages[name]
                    item = str(obj.pk)
                resolved.append(item)
            value = resolved
        out[key] = value
    return out


@pytest.mark.parametrize(("data", "expected"), TABLE, ids=[str(d) for d, _ in TABLE])
def test_visitors_filtered_table(
    world: World, outsider_world: World, data: dict[str, Any], expected: set[str]
) -> None:
    filters = SegmentFilters.from_dict(_resolve(world, data))
    with time_machine.travel(NOW, tick=False):
        qs = visitors_filtered(tenant=world.tenant, filters=filters, member=world.member)
        assert names(world, qs) == expected
        assert qs.count() == len(expected)


def test_exclude_customers_flag_and_customer_rule_by_type(world: World) -> None:
    empty = SegmentFilters()
    hidden = visitors_filtered(
        tenant=world.tenant, filters=empty, member=world.member, exclude_customers=True
    )
    assert names(world, hidden) == ALL - {"account_only"}
    CustomerRule.objects.create(
        tenant=world.tenant, account_types=["Customer - Direct"], won_opportunity=False
    )
    assert set(customer_accounts(tenant=world.tenant)) == {world.accounts["typed"]}
    hidden = visitors_filtered(
        tenant=world.tenant, filters=empty, member=world.member, exclude_customers=True
    )
    assert names(world, hidden) == ALL - {"typed"}
    only = SegmentFilters(customer="only")
    assert names(world, visitors_filtered(tenant=world.tenant, filters=only, member=None)) == {
        "typed"
    }


def test_customer_rule_by_type_and_won(world: World) -> None:
    CustomerRule.objects.create(
        tenant=world.tenant, account_types=["Customer - Direct"], won_opportunity=True
    )
    assert set(customer_accounts(tenant=world.tenant)) == {
        world.accounts["typed"],
        world.accounts["won"],
    }
    CustomerRule.objects.filter(tenant=world.tenant).update(account_types=[], won_opportunity=False)
    assert list(customer_accounts(tenant=world.tenant)) == []
    hidden = visitors_filtered(
        tenant=world.tenant, filters=SegmentFilters(), member=None, exclude_customers=True
    )
    assert names(world, hidden) == ALL


def test_a_deleted_account_is_never_a_customer(world: World) -> None:
    OpportunityFactory(
        tenant=world.tenant, account=world.accounts["gone"], status=OpportunityStatus.WON
    )
    assert set(customer_accounts(tenant=world.tenant)) == {world.accounts["won"]}


def test_me_without_a_member_or_link_matches_nobody(world: World, tenant: Tenant) -> None:
    me = SegmentFilters(owner_ids=("me",))
    assert names(world, visitors_filtered(tenant=tenant, filters=me, member=None)) == set()
    MemberLink.objects.filter(membership=world.member).update(user=None)
    assert names(world, visitors_filtered(tenant=tenant, filters=me, member=world.member)) == set()


def test_owner_of_a_contact_without_owner_falls_back_to_the_account_owner(world: World) -> None:
    ContactFactory(
        tenant=world.tenant, email="gil@won.example", owner=None, account=world.accounts["won"]
    )
    gil = VisitorFactory(tenant=world.tenant, email="gil@won.example")
    crm_match(world.tenant)
    owned_by_c = SegmentFilters(owner_ids=(str(world.users["c"].pk),))
    found = visitors_filtered(tenant=world.tenant, filters=owned_by_c, member=None)
    assert set(found) == {world.visitors["account_only"], gil}


def test_owned_by_me_follows_the_owner_chain_over_existing_records(world: World) -> None:
    """Account owner first, an inactive one passed over; the owner a created Lead would
    get (here: the installer is my user) never makes a visitor mine."""
    from integrations.models import SalesforceConnection

    tenant, users = world.tenant, world.users
    ContactFactory(tenant=tenant, email="hal@won.example", owner=users["a"], account=None)
    hal = VisitorFactory(tenant=tenant, email="hal@won.example", company=world.companies["won"])
    SalesforceConnection.objects.create(tenant=tenant, installer_remote_id=users["a"].remote_id)
    crm_match(tenant)
    me = SegmentFilters(owner_ids=("me",))
    mine = {"contact", "lead", "converted", "queue_lead"}
    # Hal's contact is mine, but his company's account (won) is c's: c comes first.
    assert names(world, visitors_filtered(tenant=tenant, filters=me, member=world.member)) == mine
    users["c"].is_active = False
    users["c"].save(update_fields=["is_active"])
    crm_match(tenant)
    found = visitors_filtered(tenant=tenant, filters=me, member=world.member)
    assert names(world, found) == mine | {f"foreign:{hal.pk}"}
    owned_by_c = SegmentFilters(owner_ids=(str(users["c"].pk),))
    assert list(visitors_filtered(tenant=tenant, filters=owned_by_c, member=None)) == []


def test_outsider_ids_match_nothing_here(world: World, outsider_world: World) -> None:
    theirs = SegmentFilters(
        owner_ids=tuple(str(u.pk) for u in outsider_world.users.values()),
    )
    assert list(visitors_filtered(tenant=world.tenant, filters=theirs, member=world.member)) == []
    stages = SegmentFilters(stage_ids=tuple(str(s.pk) for s in outsider_world.stages.values()))
    assert list(visitors_filtered(tenant=world.tenant, filters=stages, member=None)) == []
    # Their member's "me" is their rep, never ours.
    me = SegmentFilters(owner_ids=("me",))
    assert (
        list(visitors_filtered(tenant=world.tenant, filters=me, member=outsider_world.member)) == []
    )


def test_outsider_data_never_appears(world: World, outsider_world: World) -> None:
    for data, _expected in TABLE:
        filters = SegmentFilters.from_dict(_resolve(world, data))
        with time_machine.travel(NOW, tick=False):
            found = visitors_filtered(tenant=world.tenant, filters=filters, member=world.member)
            assert {v.tenant_id for v in found} <= {world.tenant.pk}
            companies = companies_filtered(
                tenant=world.tenant, filters=filters, member=world.member
            )
            assert {c.tenant_id for c in companies} <= {world.tenant.pk}


COMPANY_TABLE: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"open", "won", "cust", "gone", "plain"}),
    ({"q": "won"}, {"won"}),
    ({"owner_ids": ["me"]}, {"open"}),
    ({"owner_ids": ["<b>"]}, {"cust"}),
    ({"customer": "only"}, {"won"}),
    ({"customer": "exclude"}, {"open", "cust", "gone", "plain"}),
    ({"has_open_opportunity": True}, {"open"}),
    ({"has_open_opportunity": False}, {"won", "cust", "gone", "plain"}),
    ({"stage_ids": ["<Qualify>"]}, {"open"}),
    ({"in_crm": "account"}, {"open", "won", "cust"}),
    ({"in_crm": "none"}, {"gone", "plain"}),
    ({"in_crm": "contact"}, {"open"}),
    ({"lead_statuses": ["New"]}, {"open"}),
    ({"utm_source": "newsletter"}, {"plain"}),
    ({"seen_within_days": 7}, {"open", "won", "cust", "gone"}),
    ({"identified": True}, {"open", "cust"}),
]


@pytest.mark.parametrize(
    ("data", "expected"), COMPANY_TABLE, ids=[str(d) for d, _ in COMPANY_TABLE]
)
def test_companies_filtered_table(
    world: World, outsider_world: World, data: dict[str, Any], expected: set[str]
) -> None:
    filters = SegmentFilters.from_dict(_resolve(world, data))
    with time_machine.travel(NOW, tick=False):
        qs = companies_filtered(tenant=world.tenant, filters=filters, member=world.member)
        assert {c.domain.removesuffix(".com") for c in qs} == expected
        assert qs.count() == len(expected)


def test_segment_visitors_applies_filters_and_exclude_customers(world: World) -> None:
    segment = Segment.objects.create(
        tenant=world.tenant,
        name="Recent",
        filters={"seen_within_days": 7},
        exclude_customers=True,
    )
    with time_machine.travel(NOW, tick=False):
        found = segment_visitors(tenant=world.tenant, segment=segment, member=world.member)
        assert names(world, found) == ALL - {"old", "account_only"}
    segment.target = SegmentTarget.COMPANIES
    segment.filters = {"owner_ids": ["me"]}
    segment.exclude_customers = False
    found = segment_visitors(tenant=world.tenant, segment=segment, member=world.member)
    assert names(world, found) == {"contact", "queue_lead"}
    segment.filters = {"bogus": 1}
    assert list(segment_visitors(tenant=world.tenant, segment=segment, member=None)) == []


def test_one_query_for_a_page_and_one_for_the_count(
    world: World, django_assert_num_queries: Any
) -> None:
    filters = SegmentFilters(
        q="open",
        owner_ids=("me", str(world.users["b"].pk)),
        has_open_opportunity=True,
        stage_ids=(str(world.stages["Qualify"].pk),),
        customer="exclude",
        in_crm="lead",
        lead_statuses=("New",),
        seen_within_days=30,
    )
    with time_machine.travel(NOW, tick=False):
        qs = visitors_filtered(tenant=world.tenant, filters=filters, member=world.member)
        with django_assert_num_queries(2):
            rows = list(qs[:50])
            assert qs.count() == 1
        assert [r.company.domain for r in rows] == ["open.com"]
        companies = companies_filtered(tenant=world.tenant, filters=filters, member=world.member)
        with django_assert_num_queries(2):
            assert [c.domain for c in companies[:50]] == ["open.com"]
            assert companies.count() == 1


# --- parsing -------------------------------------------------------------------------------


def test_round_trip() -> None:
    data = {
        "q": "acme",
        "owner_ids": ["me", "6b0c3a3e-3e0e-4a53-9d38-3a1f2b0a9a11"],
        "customer": "exclude",
        "has_open_opportunity": False,
        "stage_ids": ["0b7a0d5c-2f4a-4d8e-8a3b-8e3f9b7c1d2e"],
        "lead_statuses": ["Working"],
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "seen_within_days": 7,
        "identified": True,
        "in_crm": "lead",
    }
    filters = SegmentFilters.from_dict(data)
    assert filters.to_dict() == data
    assert SegmentFilters.from_dict(filters.to_dict()) == filters
    assert not filters.is_empty()
    assert SegmentFilters.from_dict({}).is_empty()
    assert SegmentFilters.from_dict({"q": "  ", "identified": None}).to_dict() == {}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"colour": "red"}, "colour", "Unknown filter."),
        ({"q": 3}, "q", "Must be text."),
        ({"q": "x" * 256}, "q", "At most 255 characters."),
        ({"owner_ids": "me"}, "owner_ids", "Must be a list of text values."),
        ({"owner_ids": ["bob"]}, "owner_ids", "'bob' is not a valid id."),
        ({"stage_ids": ["me"]}, "stage_ids", "'me' is not a valid id."),
        ({"customer": "yes"}, "customer", "Must be one of 'only', 'exclude'."),
        (
            {"in_crm": "opportunity"},
            "in_crm",
            "Must be one of 'contact', 'lead', 'account', 'none'.",
        ),
        ({"has_open_opportunity": "yes"}, "has_open_opportunity", "Must be true, false or null."),
        ({"identified": 1}, "identified", "Must be true, false or null."),
        (
            {"seen_within_days": 0},
            "seen_within_days",
            "Must be a whole number of days from 1 to 3650.",
        ),
        (
            {"seen_within_days": "7"},
            "seen_within_days",
            "Must be a whole number of days from 1 to 3650.",
        ),
        (
            {"seen_within_days": True},
            "seen_within_days",
            "Must be a whole number of days from 1 to 3650.",
        ),
        ({"lead_statuses": [1]}, "lead_statuses", "Must be a list of text values."),
    ],
)
def test_from_dict_errors(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        SegmentFilters.from_dict(data)
    assert exc.value.message_dict == {field: [message]}


def test_from_dict_reports_every_bad_field() -> None:
    with pytest.raises(ValidationError) as exc:
        SegmentFilters.from_dict({"q": 1, "customer": "x", "nope": True})
    assert set(exc.value.message_dict) == {"q", "customer", "nope"}
    with pytest.raises(ValidationError):
        SegmentFilters.from_dict(["q"])  # type: ignore[arg-type]


def test_recency_follows_the_clock(world: World) -> None:
    week = SegmentFilters(seen_within_days=7)
    with time_machine.travel(NOW + dt.timedelta(days=8), tick=False):
        assert (
            names(world, visitors_filtered(tenant=world.tenant, filters=week, member=None)) == set()
        )
    with time_machine.travel(NOW - dt.timedelta(days=4), tick=False):
        found = visitors_filtered(tenant=world.tenant, filters=week, member=None)
        assert names(world, found) == ALL
    assert timezone.now() > NOW
