"""Segment pages, the customer rule settings page and the list filter bar."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from crm.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    StageFactory,
    UserFactory,
)
from crm.models import MemberLink, OpportunityStatus
from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import AuditEvent, Membership, Role, Tenant
from visitors.browse.filter_form import SegmentFilterForm
from visitors.models import CustomerRule, Segment
from visitors.segments.filters import SegmentFilters
from visitors.segments.services import segment_create
from visitors.tests.segment_factories import (
    CompanyFactory,
    SegmentFactory,
    VisitorFactory,
    crm_match,
)

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
XSS = "<script>alert(1)</script>"


@pytest.fixture
def crm(tenant: Tenant, owner: Membership) -> dict[str, Any]:
    """A rep linked to the owner, a customer account (won deal), a prospect with an open
    deal, and one visitor at each."""
    rep = UserFactory(tenant=tenant, name="Ann Rep")
    other = UserFactory(tenant=tenant, name=XSS)
    MemberLink.objects.create(tenant=tenant, membership=owner, user=rep)
    stage = StageFactory(tenant=tenant, name="Qualify")
    customer = AccountFactory(
        tenant=tenant, name="Won Corp", domain="won.com", owner=other, type="Customer"
    )
    OpportunityFactory(tenant=tenant, account=customer, status=OpportunityStatus.WON)
    prospect = AccountFactory(
        tenant=tenant, name="Open Corp", domain="open.com", owner=rep, type="Prospect"
    )
    OpportunityFactory(tenant=tenant, account=prospect, stage=stage)
    won_co = CompanyFactory(tenant=tenant, domain="won.com", name="Won Corp")
    open_co = CompanyFactory(tenant=tenant, domain="open.com", name="Open Corp")
    with time_machine.travel(NOW, tick=False):
        v_won = VisitorFactory(
            tenant=tenant, email="kim@won.example", first_name=XSS, company=won_co
        )
        v_open = VisitorFactory(
            tenant=tenant, email="lu@open.example", first_name="Lu", company=open_co
        )
    ContactFactory(tenant=tenant, email="lu@open.example", account=prospect, owner=rep)
    crm_match(tenant)
    return {
        "rep": rep,
        "other": other,
        "stage": stage,
        "customer": customer,
        "prospect": prospect,
        "v_won": v_won,
        "v_open": v_open,
    }


# --- list ----------------------------------------------------------------------------------


def test_empty_list(owner_client: Client) -> None:
    response = owner_client.get(reverse("segment_list"))
    assert response.status_code == 200
    assert b'data-testid="segments-empty"' in response.content
    assert response.context["nav_section"] == "segments"


def test_list_shows_summary_and_live_counts_in_fixed_queries(
    owner_client: Client,
    tenant: Tenant,
    owner: Membership,
    crm: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    SegmentFactory(
        tenant=tenant,
        name="Mine, open deals",
        filters={"owner_ids": ["me"], "has_open_opportunity": True},
    )
    SegmentFactory(
        tenant=tenant,
        name=XSS,
        filters={"owner_ids": [str(crm["other"].pk)], "stage_ids": [str(crm["stage"].pk)]},
    )
    SegmentFactory(tenant=tenant, name="Not customers", exclude_customers=True)
    SegmentFactory(
        tenant=tenant, name="Companies", target="companies", filters={"customer": "only"}
    )
    # session, user, membership, segments, users, stages, the customer rule, and one
    # query counting every segment
    with django_assert_num_queries(8):
        response = owner_client.get(reverse("segment_list"))
    assert response.status_code == 200
    rows = {r["segment"].name: r for r in response.context["rows"]}
    assert rows["Mine, open deals"]["count"] == 1
    assert rows["Mine, open deals"]["summary"] == ["Owner: me", "Has an open opportunity"]
    assert rows[XSS]["count"] == 0
    assert rows[XSS]["summary"] == [f"Owner: {XSS}", "Stage: Qualify"]
    assert rows["Not customers"]["count"] == 1
    assert rows["Not customers"]["summary"] == ["Hides current customers"]
    assert rows["Companies"]["count"] == 1
    html = response.content.decode()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_list_never_shows_another_tenants_segments(outsider_client: Client, tenant: Tenant) -> None:
    SegmentFactory(tenant=tenant, name="Ours only")
    response = outsider_client.get(reverse("segment_list"))
    assert b"Ours only" not in response.content
    assert response.context["rows"] == []


# --- create / edit / delete ----------------------------------------------------------------


def test_create_a_segment(owner_client: Client, tenant: Tenant, crm: dict[str, Any]) -> None:
    page = owner_client.get(reverse("segment_create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(">Owned by me<") < html.index(">Ann Rep<")
    response = owner_client.post(
        reverse("segment_create"),
        {
            "name": "  Hot  ",
            "target": "visitors",
            "exclude_customers": "on",
            "owner": ["me", str(crm["rep"].pk)],
            "stage": [str(crm["stage"].pk)],
            "open_opportunity": "yes",
            "seen": "7",
            "utm_source": "google",
            "identified": "yes",
            "in_crm": "contact",
            "customer": "",
        },
    )
    assert response.status_code == 302
    segment = Segment.objects.get(tenant=tenant)
    assert segment.name == "Hot"
    assert segment.exclude_customers is True
    assert segment.filters == {
        "owner_ids": ["me", str(crm["rep"].pk)],
        "stage_ids": [str(crm["stage"].pk)],
        "has_open_opportunity": True,
        "seen_within_days": 7,
        "utm_source": "google",
        "identified": True,
        "in_crm": "contact",
    }
    assert AuditEvent.objects.for_tenant(tenant).filter(action="segment.created").count() == 1


def test_create_refuses_bad_input_with_form_errors(
    owner_client: Client, tenant: Tenant, outsider: Membership
) -> None:
    SegmentFactory(tenant=tenant, name="Taken")
    theirs = UserFactory(tenant=outsider.tenant)
    response = owner_client.post(
        reverse("segment_create"),
        {"name": "taken", "target": "everything", "owner": [str(theirs.pk)], "seen": "12"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"target", "owner", "seen"}
    assert Segment.objects.for_tenant(tenant).count() == 1
    response = owner_client.post(reverse("segment_create"), {"name": "taken", "target": "visitors"})
    assert response.context["form"].errors == {"name": ["A segment with this name already exists."]}


def test_service_refuses_ids_of_another_tenant(
    tenant: Tenant, owner: Membership, outsider: Membership
) -> None:
    from django.core.exceptions import ValidationError

    stage = StageFactory(tenant=outsider.tenant)
    with pytest.raises(ValidationError) as exc:
        segment_create(
            tenant=tenant,
            acting_user=owner.user,
            name="x",
            filters=SegmentFilters(stage_ids=(str(stage.pk),)),
        )
    assert exc.value.message_dict == {"stage_ids": [f"Unknown stage: {stage.pk}."]}


def test_edit_shows_saved_values_and_saves(
    owner_client: Client, tenant: Tenant, crm: dict[str, Any]
) -> None:
    segment = SegmentFactory(
        tenant=tenant, name="Old", filters={"owner_ids": ["me"], "seen_within_days": 30}
    )
    url = reverse("segment_edit", kwargs={"segment_id": segment.pk})
    form = owner_client.get(url).context["form"]
    assert form.initial["owner"] == ["me"]
    assert form.initial["seen"] == "30"
    response = owner_client.post(url, {"name": "New", "target": "companies", "customer": "exclude"})
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.target, segment.filters) == (
        "New",
        "companies",
        {"customer": "exclude"},
    )


def test_delete(owner_client: Client, tenant: Tenant) -> None:
    segment = SegmentFactory(tenant=tenant)
    url = reverse("segment_delete", kwargs={"segment_id": segment.pk})
    response = owner_client.get(url)  # a reload or a typed URL: back to the form, no delete
    assert (response.status_code, response["Location"]) == (302, f"/segments/{segment.pk}/")
    assert Segment.objects.filter(pk=segment.pk).exists()
    assert owner_client.post(url).status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_other_tenants_segment_is_not_found(outsider_client: Client, tenant: Tenant) -> None:
    segment = SegmentFactory(tenant=tenant)
    for name in ("segment_edit", "segment_delete"):
        url = reverse(name, kwargs={"segment_id": segment.pk})
        assert outsider_client.get(url, follow=True).status_code == 404
        assert outsider_client.post(url, {"name": "x", "target": "visitors"}).status_code == 404
    assert Segment.objects.get(pk=segment.pk).name == segment.name


# --- settings: current customers -----------------------------------------------------------


def test_settings_preview_does_not_save(
    owner_client: Client, tenant: Tenant, crm: dict[str, Any]
) -> None:
    url = reverse("settings_customers")
    page = owner_client.get(url)
    assert page.status_code == 200
    assert [c[0] for c in page.context["form"].fields["account_types"].choices] == [
        "Customer",
        "Prospect",
    ]
    # Default rule (won opportunity): Won Corp and its visitor.
    assert page.context["preview"]["account_count"] == 1
    assert page.context["preview"]["visitor_count"] == 1
    assert XSS not in page.content.decode()
    response = owner_client.post(url, {"account_types": ["Prospect"], "preview": "1"})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert [a.name for a in preview["accounts"]] == ["Open Corp"]
    assert preview["company_count"] == 1
    assert [v.pk for v in preview["visitors"]] == [crm["v_open"].pk]
    assert not CustomerRule.objects.filter(tenant=tenant).exists()


def test_settings_save(owner_client: Client, tenant: Tenant, crm: dict[str, Any]) -> None:
    response = owner_client.post(
        reverse("settings_customers"), {"account_types": ["Prospect"], "save": "1"}
    )
    assert response.status_code == 302
    rule = CustomerRule.objects.get(tenant=tenant)
    assert (rule.account_types, rule.won_opportunity) == (["Prospect"], False)
    assert AuditEvent.objects.for_tenant(tenant).filter(action="customer_rule.updated").exists()
    bad = owner_client.post(reverse("settings_customers"), {"account_types": ["Nope"]})
    assert bad.status_code == 200
    assert "account_types" in bad.context["form"].errors


def test_members_preview_but_do_not_save(tenant: Tenant, crm: dict[str, Any]) -> None:
    member = MembershipFactory(tenant=tenant, role=Role.MEMBER)
    client = Client()
    client.force_login(member.user)
    url = reverse("settings_customers")
    assert client.post(url, {"account_types": ["Prospect"], "preview": "1"}).status_code == 200
    assert client.post(url, {"account_types": ["Prospect"]}).status_code == 403
    assert not CustomerRule.objects.filter(tenant=tenant).exists()


def test_settings_are_the_tenants_own(outsider_client: Client, crm: dict[str, Any]) -> None:
    page = outsider_client.get(reverse("settings_customers"))
    assert page.context["preview"]["account_count"] == 0
    assert page.context["form"].fields["account_types"].choices == []
    assert b"Won Corp" not in page.content


# --- the filter bar ------------------------------------------------------------------------


def _form(tenant: Tenant, query: str) -> SegmentFilterForm:
    return SegmentFilterForm(tenant=tenant, data=QueryDict(query))


def test_filter_form_reads_the_query_string(
    tenant: Tenant, owner: Membership, crm: dict[str, Any]
) -> None:
    form = _form(tenant, f"q=lu&owner=me&owner={crm['rep'].pk}&seen=7&open_opportunity=yes")
    assert form.errors == {}
    assert form.filters() == SegmentFilters(
        q="lu", owner_ids=("me", str(crm["rep"].pk)), seen_within_days=7, has_open_opportunity=True
    )
    assert form.hide_customers() is False
    with time_machine.travel(NOW, tick=False):
        assert list(form.visitors(member=owner)) == [crm["v_open"]]


def test_filter_form_applies_a_segment_and_overrides(
    tenant: Tenant, owner: Membership, crm: dict[str, Any]
) -> None:
    segment = SegmentFactory(
        tenant=tenant, filters={"owner_ids": ["me"], "utm_source": "x"}, exclude_customers=True
    )
    form = _form(tenant, f"segment={segment.pk}&utm_source=google")
    assert form.selected_segment == segment
    assert form.filters() == SegmentFilters(owner_ids=("me",), utm_source="google")
    assert form.hide_customers() is True
    plain = _form(tenant, "exclude_customers=1")
    assert plain.hide_customers() is True
    assert list(plain.visitors(member=owner)) == [crm["v_open"]]
    assert list(plain.companies(member=owner)) == [crm["v_open"].company]


def test_filter_form_bad_values_are_errors_not_crashes(
    tenant: Tenant, outsider: Membership
) -> None:
    theirs = SegmentFactory(tenant=outsider.tenant)
    form = _form(tenant, f"segment={theirs.pk}&seen=abc&owner=nobody&q=ok")
    assert set(form.errors) == {"segment", "seen", "owner"}
    assert form.selected_segment is None
    assert form.filters() == SegmentFilters(q="ok")


def test_filter_bar_template_renders_escaped(tenant: Tenant, crm: dict[str, Any]) -> None:
    from django.template.loader import render_to_string

    SegmentFactory(tenant=tenant, name=XSS)
    html = render_to_string(
        "visitors/_filters.html", {"filter_form": _form(tenant, f"q={XSS}&stage=bad")}
    )
    assert XSS not in html
    assert "&lt;script&gt;" in html
    assert 'data-testid="filter-errors"' in html
    assert '<details class="filter-more" open>' in html


def test_pages_cost_a_fixed_number_of_queries(
    owner_client: Client, tenant: Tenant, crm: dict[str, Any], django_assert_num_queries: Any
) -> None:
    for n in range(5):
        AccountFactory(tenant=tenant, type=f"Type {n}")
    segment = SegmentFactory(tenant=tenant, filters={"owner_ids": ["me"]})
    # session, user, membership; CRM users, stages, lead statuses for the form's choices
    with django_assert_num_queries(6):
        assert owner_client.get(reverse("segment_create")).status_code == 200
    with django_assert_num_queries(7):  # + the segment
        url = reverse("segment_edit", kwargs={"segment_id": segment.pk})
        assert owner_client.get(url).status_code == 200
    # + the rule, account types, and the preview: account count and names, companies,
    # visitor count and names
    with django_assert_num_queries(10):
        assert owner_client.get(reverse("settings_customers")).status_code == 200


def test_a_broken_saved_segment_counts_nobody(
    owner_client: Client, tenant: Tenant, crm: dict[str, Any]
) -> None:
    SegmentFactory(tenant=tenant, name="Broken", filters={"colour": "red"})
    rows = owner_client.get(reverse("segment_list")).context["rows"]
    assert [(r["segment"].name, r["count"]) for r in rows] == [("Broken", 0)]
