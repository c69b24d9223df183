"""In a real browser: create a segment with the owner, stage and recency widgets, see it
listed with its count, and preview a customer rule without saving it."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from crm.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    StageFactory,
    UserFactory,
)
from crm.models import MemberLink, OpportunityStatus
from salesmonk.tenants.models import Membership, Tenant
from salesmonk.tests.browser import (  # noqa: F401  (fixtures)
    browser,
    chromium,
    click_and_wait_for_next_page,
)
from visitors.models import CustomerRule, Segment
from visitors.tests.segment_factories import CompanyFactory, VisitorFactory, crm_match

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(browser: Any, name: str) -> None:  # noqa: F811
    if directory := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        browser.save_screenshot(os.path.join(directory, name))


def _log_in(browser: Any, live_server: Any, owner: Membership) -> None:  # noqa: F811
    client = Client()
    client.force_login(owner.user)
    browser.get(f"{live_server.url}/static/favicon.svg")
    browser.add_cookie(
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        }
    )


def test_create_a_segment_and_preview_customers(
    browser: Any,  # noqa: F811
    live_server: Any,
    tenant: Tenant,
    owner: Membership,
) -> None:
    rep = UserFactory(tenant=tenant, name="Ann Rep")
    MemberLink.objects.create(tenant=tenant, membership=owner, user=rep)
    stage = StageFactory(tenant=tenant, name="Negotiation")
    account = AccountFactory(tenant=tenant, name="Initech", domain="initech.com", owner=rep)
    OpportunityFactory(tenant=tenant, account=account, stage=stage)
    won = AccountFactory(tenant=tenant, name="Umbrella", domain="umbrella.com", type="Customer")
    OpportunityFactory(tenant=tenant, account=won, status=OpportunityStatus.WON)
    company = CompanyFactory(tenant=tenant, domain="initech.com", name="Initech")
    VisitorFactory(
        tenant=tenant, email="peter@initech.example", first_name="Peter", company=company
    )
    ContactFactory(tenant=tenant, email="peter@initech.example", account=account, owner=rep)
    VisitorFactory(
        tenant=tenant,
        company=CompanyFactory(tenant=tenant, domain="umbrella.com", name="Umbrella"),
        last_seen_at=timezone.now() - dt.timedelta(hours=2),
    )
    crm_match(tenant)
    _log_in(browser, live_server, owner)

    browser.get(f"{live_server.url}/segments/")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=segments-empty]")
    _shot(browser, "segments-empty.png")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=new-segment]").click()

    browser.find_element(By.NAME, "name").send_keys("My open deals this week")
    owners = Select(browser.find_element(By.NAME, "owner"))
    assert owners.options[0].text == "Owned by me"
    owners.select_by_visible_text("Owned by me")
    Select(browser.find_element(By.NAME, "stage")).select_by_visible_text("Negotiation")
    Select(browser.find_element(By.NAME, "seen")).select_by_visible_text("Last 7 days")
    browser.find_element(By.NAME, "exclude_customers").click()
    _shot(browser, "segment-form.png")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=segment-form] button[type=submit]").click()

    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/segments/"))
    row = browser.find_element(By.CSS_SELECTOR, "[data-testid=segment-row]")
    assert "My open deals this week" in row.text
    assert row.find_element(By.CSS_SELECTOR, "[data-testid=segment-count]").text == "1 visitor"
    assert "Owner: me" in row.text
    assert "Stage: Negotiation" in row.text
    _shot(browser, "segments.png")
    segment = Segment.objects.get(tenant=tenant)
    assert segment.filters == {
        "owner_ids": ["me"],
        "stage_ids": [str(stage.pk)],
        "seen_within_days": 7,
    }

    browser.get(f"{live_server.url}/settings/customers/")
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=preview-accounts]").text == "1"
    browser.find_element(By.CSS_SELECTOR, "input[value=Customer]").click()
    browser.find_element(By.NAME, "won_opportunity").click()
    click_and_wait_for_next_page(
        browser, browser.find_element(By.CSS_SELECTOR, "[data-testid=preview-rule]")
    )
    assert "Preview" in browser.find_element(By.CSS_SELECTOR, "[data-testid=customer-preview]").text
    names = browser.find_element(By.CSS_SELECTOR, "[data-testid=preview-account-names]").text
    assert "Umbrella" in names
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=preview-visitors]").text == "1"
    _shot(browser, "settings-customers.png")
    assert not CustomerRule.objects.filter(tenant=tenant).exists()
