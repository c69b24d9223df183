"""The Companies list and the company page: accounts and opportunities, visitors, the visits
chart's data, keyset pages, fixed query counts, escaping and tenant isolation."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from crm.factories import AccountFactory, OpportunityFactory, StageFactory, UserFactory
from crm.models import OpportunityStatus
from integrations.models import SalesforceConnection
from salesmonk.tenants.factories import DEFAULT_PASSWORD, MembershipFactory, TenantFactory
from salesmonk.tenants.models import Membership, Role, Tenant
from salesmonk.tests.browser import browser, chromium  # noqa: F401  (fixtures)
from visitors.models import Company, Segment
from visitors.tests.browse_factories import (
    SEEN,
    CompanyFactory,
    SessionFactory,
    VisitorFactory,
)

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
_numbers = itertools.count()


def company_names(response) -> list[str]:
    html = response.content.decode()
    cells = re.findall(r'data-testid="company-row">\s*<td>(.*?)</td>', html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]


def companies_with_accounts(tenant: Tenant, n: int) -> list[Company]:
    """`n` companies, each with one visitor and an owned account."""
    rep = UserFactory(tenant=tenant)
    made = []
    for _ in range(n):
        i = next(_numbers)
        company = CompanyFactory(tenant=tenant, domain=f"co{i}.com", name=f"Co {i}")
        AccountFactory(tenant=tenant, domain=company.domain, owner=rep)
        VisitorFactory(tenant=tenant, company=company)
        made.append(company)
    return made


def test_list_shows_accounts_owners_counts_and_last_visit(
    owner_client: Client, tenant: Tenant, outsider: Membership
) -> None:
    rep = UserFactory(tenant=tenant, name="Rita Rep")
    initech = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    globex = CompanyFactory(tenant=tenant, domain="globex.com", name="")
    AccountFactory(tenant=tenant, domain="initech.com", name="Initech Corp", owner=rep)
    VisitorFactory(tenant=tenant, company=initech, last_seen_at=SEEN - dt.timedelta(hours=5))
    VisitorFactory(tenant=tenant, company=initech, last_seen_at=SEEN - dt.timedelta(hours=1))
    merged_into = VisitorFactory(tenant=tenant, company=globex, last_seen_at=SEEN)
    # A merged visitor counts no more (its activity moved to the survivor).
    VisitorFactory(tenant=tenant, company=initech, last_seen_at=SEEN, merged_into=merged_into)
    CompanyFactory(tenant=tenant, domain="novisits.com")  # no live visitors: not listed
    theirs = CompanyFactory(tenant=outsider.tenant, domain="spy.com", name="Spy")
    VisitorFactory(tenant=outsider.tenant, company=theirs)

    response = owner_client.get(reverse("company_list"))

    assert response.status_code == 200
    assert response.context["nav_section"] == "companies"
    assert company_names(response) == ["globex.com", "Initech initech.com"]
    rows = response.context["page"].rows
    assert [(r.company.visitor_count, r.company.last_visit_at) for r in rows] == [
        (1, SEEN),
        (2, SEEN - dt.timedelta(hours=1)),
    ]
    html = response.content.decode()
    assert "Initech Corp" in html
    assert "Rita Rep" in html
    assert "Not in Salesforce" in html
    assert "Spy" not in html


def test_list_query_count_does_not_grow_with_rows(
    owner_client: Client, tenant: Tenant, django_assert_num_queries
) -> None:
    url = reverse("company_list")
    companies_with_accounts(tenant, 1)
    owner_client.get(url)
    # session, user, membership, filter bar (segments, CRM users, stages; the lead statuses
    # were read by the first request and are cached for a minute), count, page, visitor
    # counts, accounts, owners, customer rule, customer accounts
    with django_assert_num_queries(13):
        response = owner_client.get(url)
    assert len(response.context["page"].rows) == 1
    companies_with_accounts(tenant, 30)
    with django_assert_num_queries(13):
        response = owner_client.get(url)
    assert len(response.context["page"].rows) == 25


def test_keyset_pages(owner_client: Client, tenant: Tenant) -> None:
    made = companies_with_accounts(tenant, 27)
    expected = [
        c.pk
        for c in sorted(made, key=lambda c: (c.visitors.get().last_seen_at, c.pk), reverse=True)
    ]
    url = reverse("company_list")
    first = owner_client.get(url, {"q": "co"}).context["page"]
    assert [r.company.pk for r in first.rows] == expected[:25]
    second = owner_client.get(url, {"q": "co", "after": first.older}).context["page"]
    assert [r.company.pk for r in second.rows] == expected[25:]
    back = owner_client.get(url, {"q": "co", "before": second.newer}).context["page"]
    assert [r.company.pk for r in back.rows] == expected[:25]


def test_search_and_empty_states(owner_client: Client, tenant: Tenant) -> None:
    url = reverse("company_list")
    assert "No companies yet" in owner_client.get(url).content.decode()
    companies_with_accounts(tenant, 2)
    assert len(owner_client.get(url, {"q": "CO "}).context["page"].rows) == 2
    assert "No companies match" in owner_client.get(url, {"q": "zzz"}).content.decode()
    assert owner_client.get(url, {"before": "%%%"}).status_code == 400


def test_list_escapes_company_and_account_names(owner_client: Client, tenant: Tenant) -> None:
    company = CompanyFactory(tenant=tenant, domain="evil.com", name=XSS)
    AccountFactory(
        tenant=tenant, domain="evil.com", name=XSS, owner__name=XSS, owner__tenant=tenant
    )
    VisitorFactory(tenant=tenant, company=company)
    html = owner_client.get(reverse("company_list")).content.decode()
    assert XSS not in html
    # company name, account name, owner in the row; the owner again in the filter bar
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4


# --- Company page ------------------------------------------------------------------------


def test_detail_shows_account_opportunities_visitors_and_visits(
    owner_client: Client, tenant: Tenant
) -> None:
    SalesforceConnection.objects.create(
        tenant=tenant, instance_url="https://acme.my.salesforce.com"
    )
    rep = UserFactory(tenant=tenant, name="Rita Rep")
    closer = UserFactory(tenant=tenant, name="Carl Closer")
    company = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    account = AccountFactory(
        tenant=tenant,
        domain="initech.com",
        name="Initech Corp",
        website="https://www.initech.com/",
        number_of_contacts=42,
        owner=rep,
    )
    stage = StageFactory(tenant=tenant, name="Negotiation")
    won = OpportunityFactory(
        tenant=tenant,
        account=account,
        name="Renewal 2025",
        status=OpportunityStatus.WON,
        close_date=dt.date(2026, 6, 1),
    )
    open_late = OpportunityFactory(
        tenant=tenant,
        account=account,
        name="Expansion",
        amount=Decimal("120000.50"),
        close_date=dt.date(2026, 5, 1),
        pipeline="Upsell",
        stage=stage,
        owner=closer,
        last_activity_at=dt.datetime(2026, 2, 20, tzinfo=dt.UTC),
    )
    open_early = OpportunityFactory(
        tenant=tenant, account=account, name="Pilot", close_date=dt.date(2026, 4, 1)
    )
    OpportunityFactory(tenant=tenant, account=account, name="Gone", remote_was_deleted=True)
    ann = VisitorFactory(tenant=tenant, company=company, first_name="Ann", last_name="Smith")
    bob = VisitorFactory(tenant=tenant, company=company, first_name="Bob", last_name="Jones")
    visit = SessionFactory(tenant=tenant, visitor=bob, landing_url="https://www.acme.example/demo")

    response = owner_client.get(reverse("company_detail", args=[company.pk]))

    assert response.status_code == 200
    assert response.context["nav_section"] == "companies"
    detail = response.context["detail"]
    assert [o.pk for o in detail.opportunities] == [open_late.pk, open_early.pk, won.pk]
    assert [v.pk for v in detail.visitors] == [ann.pk, bob.pk]
    assert [s.pk for s in detail.recent_sessions] == [visit.pk]
    html = response.content.decode()
    for text in (
        "<dd>https://www.initech.com/</dd>",
        "<dd>42</dd>",
        "<dd>Rita Rep</dd>",
        "120,000.50",
        "May 1, 2026",
        "<td>Upsell</td>",
        "<td>Negotiation</td>",
        "Feb 20, 2026",
        "<td>Carl Closer</td>",
        'badge-won">Won</span>',
        "https://www.acme.example/demo",
        f'href="https://acme.my.salesforce.com/{account.remote_id}"',
    ):
        assert text in html, text
    assert "Gone" not in html
    assert "vendor/chartjs/chart.umd.min.js" in html


def test_detail_without_an_account(owner_client: Client, tenant: Tenant) -> None:
    company = CompanyFactory(tenant=tenant, domain="initech.com")
    html = owner_client.get(reverse("company_detail", args=[company.pk])).content.decode()
    assert "No Salesforce account has the website initech.com." in html
    assert "No visitors from this company any more." in html


def chart_data(response) -> dict:
    html = response.content.decode()
    match = re.search(
        r'<script id="visits-chart-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "chart data missing"
    return json.loads(match.group(1))


def test_chart_counts_sessions_per_day_over_30_or_90_days(
    owner_client: Client, tenant: Tenant, outsider: Membership
) -> None:
    now = dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC)
    company = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    ann = VisitorFactory(tenant=tenant, company=company, last_seen_at=now)
    bob = VisitorFactory(tenant=tenant, company=company, last_seen_at=now)
    other = VisitorFactory(tenant=tenant, last_seen_at=now)  # another company's: not counted
    for visitor, at in [
        (ann, now - dt.timedelta(hours=1)),
        (bob, now - dt.timedelta(hours=2)),
        (ann, dt.datetime(2026, 3, 30, 23, 59, tzinfo=dt.UTC)),
        (bob, dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)),  # first day of the 30
        (ann, dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC)),  # the day before it
        (ann, dt.datetime(2025, 12, 1, 12, 0, tzinfo=dt.UTC)),  # too old even for 90
        (other, now - dt.timedelta(hours=1)),
    ]:
        SessionFactory(tenant=tenant, visitor=visitor, started_at=at)
    url = reverse("company_detail", args=[company.pk])

    with time_machine.travel(now, tick=False):
        thirty = chart_data(owner_client.get(url, {"days": "30"}))
        ninety = chart_data(owner_client.get(url))
        junk = chart_data(owner_client.get(url, {"days": "<script>"}))

    assert thirty["days"] == 30
    assert len(thirty["labels"]) == 30
    assert thirty["labels"][0] == "2026-03-02"
    assert thirty["labels"][-1] == "2026-03-31"
    assert thirty["counts"][-1] == 2
    assert thirty["counts"][-2] == 1
    assert thirty["counts"][0] == 1
    assert sum(thirty["counts"]) == 4
    assert ninety["labels"][0] == "2026-01-01"
    assert sum(ninety["counts"]) == 5
    assert junk["days"] == 90
    assert thirty["label"] == "Sessions from Initech"


def test_chart_data_is_escaped_json_not_script(owner_client: Client, tenant: Tenant) -> None:
    company = CompanyFactory(tenant=tenant, domain="evil.com", name=XSS)
    VisitorFactory(tenant=tenant, company=company, first_name=XSS)
    AccountFactory(tenant=tenant, domain="evil.com", name=XSS, website=XSS)
    response = owner_client.get(reverse("company_detail", args=[company.pk]))
    html = response.content.decode()
    assert XSS not in html
    assert "\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E" in html  # json_script
    assert chart_data(response)["label"] == f"Sessions from {XSS}"


def test_detail_query_count_is_fixed(
    owner_client: Client, tenant: Tenant, django_assert_num_queries
) -> None:
    company = companies_with_accounts(tenant, 1)[0]
    now = timezone.now()
    company.visitors.update(last_seen_at=now)
    account = AccountFactory._meta.model.objects.get(tenant=tenant, domain=company.domain)
    url = reverse("company_detail", args=[company.pk])
    OpportunityFactory(tenant=tenant, account=account)
    owner_client.get(url)
    # session, user, membership, company, account, owner, opportunities, visitors,
    # visitor count, recent visits, visitors seen in the chart's window, chart,
    # Salesforce instance URL
    with django_assert_num_queries(13):
        owner_client.get(url)
    for _ in range(10):
        visitor = VisitorFactory(tenant=tenant, company=company, last_seen_at=now)
        SessionFactory(tenant=tenant, visitor=visitor, started_at=now)
        OpportunityFactory(tenant=tenant, account=account)
    with django_assert_num_queries(13):
        response = owner_client.get(url)
    assert len(response.context["detail"].opportunities) == 11


def test_detail_accepts_a_slash_and_hides_other_tenants(
    owner_client: Client, tenant: Tenant, outsider: Membership
) -> None:
    ours = CompanyFactory(tenant=tenant)
    theirs = CompanyFactory(tenant=outsider.tenant)
    assert reverse("company_detail", args=[ours.pk]) == f"/accounts/{ours.pk}"
    assert owner_client.get(f"/accounts/{ours.pk}/").status_code == 200
    assert owner_client.get(f"/accounts/{theirs.pk}").status_code == 404


def test_customer_badge_exclude_customers_and_segments(
    owner_client: Client, tenant: Tenant
) -> None:
    customer = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    prospect = CompanyFactory(tenant=tenant, domain="globex.com", name="Globex")
    account = AccountFactory(tenant=tenant, domain="initech.com", name="Initech Corp")
    AccountFactory(tenant=tenant, domain="globex.com", name="Globex Corp")
    OpportunityFactory(tenant=tenant, account=account, status=OpportunityStatus.WON)
    VisitorFactory(tenant=tenant, company=customer, last_seen_at=SEEN)
    VisitorFactory(tenant=tenant, company=prospect, last_seen_at=SEEN - dt.timedelta(hours=1))
    globex_only = Segment.objects.create(
        tenant=tenant, name="Globex", target="companies", filters={"q": "globex"}
    )
    url = reverse("company_list")

    response = owner_client.get(url)
    assert [r.is_customer for r in response.context["page"].rows] == [True, False]
    assert response.content.decode().count('badge-customer">Customer</span>') == 1
    assert company_names(owner_client.get(url, {"exclude_customers": "1"})) == ["Globex globex.com"]
    assert company_names(owner_client.get(url, {"segment": str(globex_only.pk)})) == [
        "Globex globex.com"
    ]
    assert company_names(owner_client.get(url, {"q": "initech"})) == ["Initech initech.com"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chart_draws_in_a_browser_and_names_stay_text(browser, live_server) -> None:  # noqa: F811
    """The vendored Chart.js loads from our static files and draws the json_script data; a
    `<script>` company name stays text (no alert, no injected element)."""
    owner = MembershipFactory(
        tenant=TenantFactory(name="Acme Inc"), role=Role.OWNER, user__email="chart@acme.example"
    )
    tenant = owner.tenant
    company = CompanyFactory(tenant=tenant, domain="evil.com", name=XSS)
    now = timezone.now()
    visitor = VisitorFactory(
        tenant=tenant, company=company, first_name=XSS, last_name="", last_seen_at=now
    )
    for days in (0, 1, 1, 5):
        SessionFactory(tenant=tenant, visitor=visitor, started_at=now - dt.timedelta(days=days))

    browser.get(f"{live_server.url}/auth/login/")
    browser.find_element(By.NAME, "login").send_keys("chart@acme.example")
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/auth/login/" not in b.current_url)

    browser.get(f"{live_server.url}/accounts/{company.pk}")
    canvas = browser.find_element(By.ID, "visits-chart")
    WebDriverWait(browser, 10).until(lambda b: canvas.get_attribute("data-rendered") == "true")
    drawn = browser.execute_script("return Chart.getChart('visits-chart').data.datasets[0].data")
    assert len(drawn) == 90
    assert sum(drawn) == 4
    assert drawn[-1] == 1
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=company-name]").text == XSS
    assert (
        browser.execute_script(
            "return document.querySelectorAll('script:not([src]):not([type])').length"
        )
        == 0
    )
    if shot := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        browser.save_screenshot(os.path.join(shot, "company.png"))
    browser.get(f"{live_server.url}/visitors/")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=visitor-row] a").text.startswith(XSS)
    if shot := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        browser.save_screenshot(os.path.join(shot, "visitors.png"))
    browser.get(f"{live_server.url}/contact/details/{visitor.pk}")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=visitor-name]").text == XSS
    if shot := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        browser.save_screenshot(os.path.join(shot, "visitor.png"))
