"""The Visitors list and the visitor page: content, keyset pages, fixed query counts,
escaping, merges and tenant isolation."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from crm.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    UserFactory,
)
from crm.models import OpportunityStatus
from integrations.models import SalesforceConnection
from salesmonk.paging import Cursor, cursor_encode
from salesmonk.tenants.models import Membership, Tenant
from visitors.browse.selectors import COMPANY_LIST_SCOPE
from visitors.models import ChatMessage, EventType, Segment, Visitor
from visitors.tests.browse_factories import (
    SEEN,
    ChatFactory,
    ChatMessageFactory,
    CompanyFactory,
    EventFactory,
    MeetingFactory,
    SessionFactory,
    VisitorFactory,
)
from visitors.tests.segment_factories import crm_match
from visitors.tracking.user_agents import device_label

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
_bulk_numbers = itertools.count()


def rows(response) -> list[str]:
    """The person cell of each row, tags stripped."""
    html = response.content.decode()
    cells = re.findall(r'data-testid="visitor-row">\s*<td>(.*?)</td>', html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]


def leads_with_visitors(tenant: Tenant, n: int) -> list[Visitor]:
    """`n` visitors, each a lead (owner set) at a company that is an account with an open
    opportunity: every row costs the same CRM lookups."""
    rep = UserFactory(tenant=tenant, name=f"Rep {next(_bulk_numbers)}")
    made = []
    for _ in range(n):
        i = next(_bulk_numbers)
        company = CompanyFactory(tenant=tenant, domain=f"bulk{i}.com")
        account = AccountFactory(tenant=tenant, domain=company.domain, owner=rep)
        OpportunityFactory(tenant=tenant, account=account, owner=rep)
        visitor = VisitorFactory(tenant=tenant, email=f"p{i}@bulk{i}.example", company=company)
        LeadFactory(tenant=tenant, email=visitor.email, owner=rep)
        made.append(visitor)
    return made


def test_list_shows_people_companies_salesforce_and_utm(
    owner_client: Client, tenant: Tenant, outsider: Membership
) -> None:
    rep = UserFactory(tenant=tenant, name="Rita Rep")
    company = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    ContactFactory(tenant=tenant, email="ann@initech.example", owner=rep, account=None)
    VisitorFactory(
        tenant=tenant,
        email="ann@initech.example",
        first_name="Ann",
        last_name="Smith",
        company=company,
        utm_source="google",
        utm_campaign="spring",
        total_sessions=7,
        last_seen_at=SEEN,
    )
    VisitorFactory(
        tenant=tenant, email="", first_name="", last_name="", last_seen_at=SEEN - dt.timedelta(1)
    )
    VisitorFactory(tenant=outsider.tenant, email="spy@globex.example", first_name="Spy")

    response = owner_client.get(reverse("visitor_list"))

    assert response.status_code == 200
    assert response.context["nav_section"] == "visitors"
    assert rows(response) == ["Ann Smith ann@initech.example", "Anonymous"]
    html = response.content.decode()
    assert 'badge-contact">Contact</span>' in html
    assert '<small title="contact owner">Rita Rep</small>' in html
    assert "google / spring" in html
    assert reverse("company_detail", args=[company.pk]) in html
    assert "Spy" not in html
    assert response.context["page"].total == 2


def test_list_query_count_does_not_grow_with_rows(
    owner_client: Client, tenant: Tenant, django_assert_num_queries
) -> None:
    url = reverse("visitor_list")
    leads_with_visitors(tenant, 1)
    owner_client.get(url)  # session and membership caches warm alike for both counts
    # session, user, membership, filter bar (segments, CRM users, stages; the lead statuses
    # were read by the first request and are cached for a minute), count, page, contacts,
    # leads, accounts, owners (the rows show no opportunities, so none are read)
    with django_assert_num_queries(12):
        response = owner_client.get(url)
    assert len(response.context["page"].rows) == 1
    leads_with_visitors(tenant, 30)
    with django_assert_num_queries(12):
        response = owner_client.get(url)
    assert len(response.context["page"].rows) == 25


def test_list_reads_the_stored_match_with_the_rows(
    owner_client: Client, tenant: Tenant, django_assert_num_queries
) -> None:
    """Once each visitor's match is stored (identify, merge and every sync store it), a page
    reads it with its rows: no CRM lookups at all, whatever the number of rows."""
    url = reverse("visitor_list")
    leads_with_visitors(tenant, 30)
    crm_match(tenant)
    owner_client.get(url)
    # session, user, membership, filter bar (segments, CRM users, stages), count, page
    with django_assert_num_queries(8):
        response = owner_client.get(url)
    page_rows = response.context["page"].rows
    assert len(page_rows) == 25
    assert {row.crm.person_kind for row in page_rows} == {"lead"}
    assert all(row.crm.in_account and row.crm.owner is not None for row in page_rows)
    assert response.content.decode().count('badge-lead">Lead</span>') == 25


def test_list_matches_live_only_the_rows_never_matched(
    owner_client: Client, tenant: Tenant
) -> None:
    """A visitor stored before its match was computed (e.g. its company just came from its
    IP address) is matched live for the page; stored rows show what was stored."""
    rep = UserFactory(tenant=tenant, name="Stored Rep")
    ContactFactory(tenant=tenant, email="ann@initech.example", owner=rep, account=None)
    stored = VisitorFactory(tenant=tenant, email="ann@initech.example", last_seen_at=SEEN)
    crm_match(tenant)
    company = CompanyFactory(tenant=tenant, domain="globex.com", name="Globex")
    AccountFactory(tenant=tenant, domain="globex.com", owner=UserFactory(tenant=tenant, name="Al"))
    fresh = VisitorFactory(
        tenant=tenant, email="", company=company, last_seen_at=SEEN - dt.timedelta(1)
    )
    assert Visitor.objects.get(pk=fresh.pk).crm_matched_at is None

    response = owner_client.get(reverse("visitor_list"))

    by_visitor = {row.visitor.pk: row.crm for row in response.context["page"].rows}
    assert by_visitor[stored.pk].person_kind == "contact"
    assert by_visitor[stored.pk].owner.name == "Stored Rep"
    assert by_visitor[fresh.pk].person_kind is None
    assert by_visitor[fresh.pk].in_account
    assert by_visitor[fresh.pk].owner.name == "Al"
    html = response.content.decode()
    assert 'badge-account">Account</span>' in html
    assert '<small title="account owner">Al</small>' in html


def test_phone_only_visitors_are_matched_in_a_fixed_number_of_queries(
    owner_client: Client, tenant: Tenant, django_assert_num_queries
) -> None:
    """Visitors without an email match by phone, contact first then lead, in one query
    per model for the whole page (not one lookup per visitor)."""
    url = reverse("visitor_list")

    made: list[Visitor] = []

    def phone_only(n: int) -> None:
        """Each a lead; every second one also a contact (the first is a lead only)."""
        for _ in range(n):
            k = len(made)
            phone = f"+1415555{next(_bulk_numbers):04}"
            visitor = VisitorFactory(tenant=tenant, email="", first_name=f"Caller {k}", phone=phone)
            LeadFactory(tenant=tenant, email="", phone=phone, owner=UserFactory(tenant=tenant))
            if k % 2:
                ContactFactory(tenant=tenant, email="", phone=phone, account=None)
            made.append(visitor)

    phone_only(1)
    owner_client.get(url)
    # session, user, membership, filter bar (segments, CRM users, stages), count, page,
    # contacts by phone, leads by phone (no emails to look up; no accounts, so no
    # opportunities or account owners)
    with django_assert_num_queries(10):
        response = owner_client.get(url)
    assert len(response.context["page"].rows) == 1
    phone_only(9)
    with django_assert_num_queries(10):
        response = owner_client.get(url)
    assert len(response.context["page"].rows) == 10
    kinds = {row.visitor.pk: row.crm.person_kind for row in response.context["page"].rows}
    assert kinds == {v.pk: "contact" if k % 2 else "lead" for k, v in enumerate(made)}


def test_keyset_pages_walk_forward_and_back_with_ties(owner_client: Client, tenant: Tenant) -> None:
    # 30 visitors, all seen at one of three instants: ids break the ties.
    made = [
        VisitorFactory(tenant=tenant, last_seen_at=SEEN - dt.timedelta(minutes=i % 3))
        for i in range(30)
    ]
    expected = sorted(made, key=lambda v: (v.last_seen_at, v.pk), reverse=True)
    url = reverse("visitor_list")

    first = owner_client.get(url)
    page = first.context["page"]
    assert [r.visitor.pk for r in page.rows] == [v.pk for v in expected[:25]]
    assert page.newer is None
    assert page.older

    second = owner_client.get(url, {"after": page.older})
    page2 = second.context["page"]
    assert [r.visitor.pk for r in page2.rows] == [v.pk for v in expected[25:]]
    assert page2.older is None
    assert page2.newer
    assert 'data-testid="newer"' in second.content.decode()

    back = owner_client.get(url, {"before": page2.newer})
    assert [r.visitor.pk for r in back.context["page"].rows] == [v.pk for v in expected[:25]]
    assert back.context["page"].newer is None


# The last one is a genuine cursor, but of the Companies list: cursors are signed per list.
COMPANY_CURSOR = cursor_encode(Cursor(SEEN, uuid.UUID(int=1)), scope=COMPANY_LIST_SCOPE)


@pytest.mark.parametrize("cursor", ["garbage", "bm90IGEgY3Vyc29y", COMPANY_CURSOR])
def test_a_bad_cursor_is_a_clear_400(owner_client: Client, cursor: str) -> None:
    response = owner_client.get(reverse("visitor_list"), {"after": cursor})
    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


def test_count_is_capped(owner_client: Client, tenant: Tenant, monkeypatch) -> None:
    monkeypatch.setattr("visitors.browse.selectors.COUNT_CAP", 3)
    for _ in range(5):
        VisitorFactory(tenant=tenant)
    response = owner_client.get(reverse("visitor_list"))
    assert "More than 3 visitors" in response.content.decode()


def test_search_by_name_email_and_company(owner_client: Client, tenant: Tenant) -> None:
    initech = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    VisitorFactory(tenant=tenant, first_name="Ann", last_name="Smith", email="ann@a.example")
    VisitorFactory(tenant=tenant, first_name="Bob", last_name="Jones", email="bob@b.example")
    VisitorFactory(tenant=tenant, first_name="Cy", last_name="Young", company=initech)
    url = reverse("visitor_list")

    assert rows(owner_client.get(url, {"q": "ann smith"})) == ["Ann Smith ann@a.example"]
    assert rows(owner_client.get(url, {"q": "B.EXAMPLE"})) == ["Bob Jones bob@b.example"]
    assert [r.split()[0] for r in rows(owner_client.get(url, {"q": "initech"}))] == ["Cy"]
    empty = owner_client.get(url, {"q": "nobody"})
    assert "No visitors match" in empty.content.decode()


def test_empty_list_tells_what_to_do(owner_client: Client) -> None:
    html = owner_client.get(reverse("visitor_list")).content.decode()
    assert "No visitors yet" in html
    assert "tracking snippet" in html


def test_everything_user_supplied_is_escaped_on_the_list(
    owner_client: Client, tenant: Tenant
) -> None:
    company = CompanyFactory(tenant=tenant, name=XSS, domain="evil.com")
    VisitorFactory(
        tenant=tenant,
        first_name=XSS,
        last_name=XSS,
        email="x@evil.example",
        company=company,
        utm_source=XSS,
        utm_campaign=XSS,
    )
    html = owner_client.get(reverse("visitor_list")).content.decode()
    assert XSS not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5


def test_anonymous_users_are_sent_to_log_in(client: Client) -> None:
    response = client.get(reverse("visitor_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- Visitor page ------------------------------------------------------------------------


def test_detail_shows_identity_sessions_timeline_chats_meetings_and_contact(
    owner_client: Client, tenant: Tenant, outsider: Membership
) -> None:
    SalesforceConnection.objects.create(
        tenant=tenant, instance_url="https://acme.my.salesforce.com/"
    )
    SalesforceConnection.objects.create(
        tenant=outsider.tenant, instance_url="https://globex.my.salesforce.com"
    )
    rep = UserFactory(tenant=tenant, name="Rita Rep")
    company = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    account = AccountFactory(tenant=tenant, domain="initech.com", name="Initech Corp", owner=None)
    contact = ContactFactory(
        tenant=tenant,
        email="ann@initech.example",
        first_name="Ann",
        last_name="Smith",
        owner=rep,
        account=account,
    )
    OpportunityFactory(tenant=tenant, account=account, name="Big deal", amount=Decimal("5000"))
    OpportunityFactory(tenant=tenant, account=account, name="Old", status=OpportunityStatus.WON)
    visitor = VisitorFactory(
        tenant=tenant,
        email="ann@initech.example",
        first_name="Ann",
        last_name="Smith",
        phone="+15125550100",
        company=company,
        utm_source="google",
        utm_medium="cpc",
        utm_campaign="spring",
        utm_content="banner",
        total_sessions=2,
    )
    older = SessionFactory(tenant=tenant, visitor=visitor, started_at=SEEN - dt.timedelta(days=1))
    newer = SessionFactory(
        tenant=tenant,
        visitor=visitor,
        started_at=SEEN - dt.timedelta(hours=1),
        device__user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    )
    EventFactory(tenant=tenant, session=older, title="Home", path="/")
    EventFactory(
        tenant=tenant,
        session=newer,
        title="Pricing",
        occurred_at=newer.started_at + dt.timedelta(minutes=1),
    )
    EventFactory(
        tenant=tenant,
        session=newer,
        type=EventType.MEETING,
        occurred_at=newer.started_at + dt.timedelta(minutes=2),
    )
    chat = ChatFactory(tenant=tenant, visitor=visitor, message_count=2)
    ChatMessageFactory(tenant=tenant, chat=chat, body="Do you have SSO?")
    ChatMessageFactory(
        tenant=tenant,
        chat=chat,
        body="Yes, on every plan.",
        sender=ChatMessage.Sender.AGENT,
        sent_at=chat.started_at + dt.timedelta(minutes=1),
    )
    MeetingFactory(tenant=tenant, visitor=visitor, title="Demo with Ann")

    response = owner_client.get(reverse("visitor_detail", args=[visitor.pk]))

    assert response.status_code == 200
    assert response.context["nav_section"] == "visitors"
    html = response.content.decode()
    detail = response.context["detail"]
    assert [s.session.pk for s in detail.sessions] == [newer.pk, older.pk]
    assert [s.device for s in detail.sessions] == ["Safari on iOS", "Chrome on macOS"]
    assert [[e.type for e in g.events] for g in detail.timeline] == [["meeting", "page"], ["page"]]
    assert "Viewed <span" in html
    assert "Pricing" in html
    assert "Meeting booked" in html
    assert "Do you have SSO?" in html
    assert "Yes, on every plan." in html
    assert "Demo with Ann" in html
    for value in ("google", "cpc", "spring", "banner", "+15125550100"):
        assert f"<dd>{value}</dd>" in html
    assert 'badge-contact">Contact</span>' in html
    assert f'href="https://acme.my.salesforce.com/{contact.remote_id}"' in html
    assert 'Rita Rep <small class="muted">(contact owner)</small>' in html
    assert "Big deal" in html
    assert "Old" not in html
    assert "globex" not in html


def test_detail_of_a_lead_shows_status_and_no_link_without_a_connection(
    owner_client: Client, tenant: Tenant
) -> None:
    visitor = VisitorFactory(tenant=tenant, email="lee@prospect.example")
    LeadFactory(tenant=tenant, email="lee@prospect.example", lead_status="Working - Contacted")
    html = owner_client.get(reverse("visitor_detail", args=[visitor.pk])).content.decode()
    assert 'badge-lead">Lead</span>' in html
    assert "<dd>Working - Contacted</dd>" in html
    assert 'data-testid="salesforce-link"' not in html


def test_detail_of_an_unknown_anonymous_visitor(owner_client: Client, tenant: Tenant) -> None:
    visitor = VisitorFactory(tenant=tenant, email="", first_name="", last_name="")
    response = owner_client.get(reverse("visitor_detail", args=[visitor.pk]))
    html = response.content.decode()
    assert "Anonymous visitor" in html
    assert "They have not identified themselves yet." in html
    assert "No sessions recorded." in html


def test_detail_query_count_is_fixed(
    owner_client: Client, tenant: Tenant, django_assert_num_queries
) -> None:
    SalesforceConnection.objects.create(tenant=tenant, instance_url="https://acme.example.com")
    visitor = leads_with_visitors(tenant, 1)[0]
    for i in range(5):
        session = SessionFactory(tenant=tenant, visitor=visitor)
        EventFactory.create_batch(3, tenant=tenant, session=session)
        chat = ChatFactory(tenant=tenant, visitor=visitor, conversation_key=f"c{i}")
        ChatMessageFactory.create_batch(2, tenant=tenant, chat=chat)
        MeetingFactory(tenant=tenant, visitor=visitor)
    url = reverse("visitor_detail", args=[visitor.pk])
    owner_client.get(url)
    # session, user, membership, visitor, sessions, events, chats, messages, meetings,
    # contacts, leads, accounts, opportunities, owners, Salesforce instance URL, and the
    # write explanation's four (visitor with its stored match, write logs, intents, policy)
    with django_assert_num_queries(19):
        response = owner_client.get(url)
    assert len(response.context["detail"].sessions) == 5


def test_a_merged_visitors_link_redirects_to_the_survivor(
    owner_client: Client, tenant: Tenant
) -> None:
    survivor = VisitorFactory(tenant=tenant)
    middle = VisitorFactory(tenant=tenant, merged_into=survivor)
    oldest = VisitorFactory(tenant=tenant, merged_into=middle)
    response = owner_client.get(f"/contact/details/{oldest.pk}")
    assert response.status_code == 302
    assert response.url == f"/contact/details/{survivor.pk}"


def test_detail_path_is_the_salesforce_one_and_accepts_a_slash(
    owner_client: Client, tenant: Tenant
) -> None:
    visitor = VisitorFactory(tenant=tenant)
    assert reverse("visitor_detail", args=[visitor.pk]) == f"/contact/details/{visitor.pk}"
    assert owner_client.get(f"/contact/details/{visitor.pk}/").status_code == 200
    assert owner_client.get("/contact/details/not-a-uuid").status_code == 404


def test_everything_user_supplied_is_escaped_on_the_detail(
    owner_client: Client, tenant: Tenant
) -> None:
    company = CompanyFactory(tenant=tenant, name=XSS, domain="evil.com")
    visitor = VisitorFactory(
        tenant=tenant,
        first_name=XSS,
        email="x@evil.example",
        company=company,
        utm_source=XSS,
        utm_campaign=XSS,
        utm_medium=XSS,
        utm_content=XSS,
    )
    session = SessionFactory(tenant=tenant, visitor=visitor, landing_url=XSS, referrer=XSS)
    EventFactory(tenant=tenant, session=session, title=XSS, path=XSS, url=XSS)
    chat = ChatFactory(tenant=tenant, visitor=visitor)
    ChatMessageFactory(tenant=tenant, chat=chat, body=XSS)
    MeetingFactory(tenant=tenant, visitor=visitor, title=XSS)
    LeadFactory(tenant=tenant, email="x@evil.example", first_name=XSS, lead_status=XSS)

    html = owner_client.get(reverse("visitor_detail", args=[visitor.pk])).content.decode()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_another_tenants_visitor_is_not_found(owner_client: Client, outsider: Membership) -> None:
    theirs = VisitorFactory(tenant=outsider.tenant)
    assert owner_client.get(reverse("visitor_detail", args=[theirs.pk])).status_code == 404


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126 "
            "Safari/537.36 Edg/126.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.0", "Unknown device"),
    ],
)
def test_device_label(agent: str, label: str) -> None:
    assert device_label(agent) == label


# --- Filters: the segment engine, saved segments, "exclude current customers" ------------


def test_exclude_customers_and_segments_narrow_the_list(
    owner_client: Client, tenant: Tenant, outsider: Membership
) -> None:
    customer = CompanyFactory(tenant=tenant, domain="initech.com")
    prospect = CompanyFactory(tenant=tenant, domain="globex.com")
    account = AccountFactory(tenant=tenant, domain="initech.com")
    AccountFactory(tenant=tenant, domain="globex.com")
    OpportunityFactory(tenant=tenant, account=account, status=OpportunityStatus.WON)
    VisitorFactory(tenant=tenant, first_name="Cus", company=customer, utm_source="google")
    VisitorFactory(tenant=tenant, first_name="Pro", company=prospect, utm_source="google")
    VisitorFactory(tenant=tenant, first_name="Ano", company=None, utm_source="bing")
    google = Segment.objects.create(
        tenant=tenant, name="From Google", filters={"utm_source": "google"}
    )
    theirs = Segment.objects.create(tenant=outsider.tenant, name="Theirs")
    crm_match(tenant)  # as the sync's refresh stores it in production
    url = reverse("visitor_list")

    def first_names(params: dict) -> list[str]:
        return [r.split()[0] for r in rows(owner_client.get(url, params))]

    assert first_names({}) == ["Cus", "Pro", "Ano"]
    assert first_names({"exclude_customers": "1"}) == ["Pro", "Ano"]
    assert first_names({"segment": str(google.pk)}) == ["Cus", "Pro"]
    assert first_names({"segment": str(google.pk), "exclude_customers": "1"}) == ["Pro"]
    assert first_names({"segment": str(google.pk), "q": "pro"}) == ["Pro"]
    html = owner_client.get(url, {"segment": str(google.pk)}).content.decode()
    assert f'<option value="{google.pk}" selected>From Google</option>' in html
    for bad in (str(theirs.pk), "nope"):
        response = owner_client.get(url, {"segment": bad})
        assert response.status_code == 200
        assert 'data-testid="filter-errors"' in response.content.decode()
        assert first_names({"segment": bad}) == ["Cus", "Pro", "Ano"]  # the bad value is ignored
    assert "No visitors match" in owner_client.get(url, {"q": "zzz"}).content.decode()
