"""A customer's first hour, in headless Chromium against a live server and the Salesforce
emulator over HTTP: log in, connect Salesforce through the OAuth consent page, sync, find a
visiting company with its Account and Opportunities, read the visitor, save a segment.
Screenshots of every page go to `SALESMONK_SCREENSHOT_DIR` when it is set (CI keeps them)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.utils import timezone
from django_q.conf import Conf
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from crm.models import Account, Opportunity
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.factories import DEFAULT_PASSWORD, MembershipFactory, TenantFactory
from salesmonk.tenants.models import Role
from salesmonk.tests.browser import browser, chromium  # noqa: F401  (fixtures)
from visitors.models import EventType, Segment, Visitor
from visitors.tracking.ingest import events_record
from visitors.tracking.payload import EventIn
from visitors.tracking.services import site_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(driver: Any, name: str) -> None:
    if directory := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        os.makedirs(directory, exist_ok=True)
        driver.save_screenshot(os.path.join(directory, f"journey-{name}.png"))


def wait_for(driver: Any, predicate: Any) -> None:
    WebDriverWait(driver, 15).until(lambda d: predicate(d))


def test_customer_connects_syncs_finds_a_company_and_saves_a_segment(
    browser: Any,  # noqa: F811
    live_server: Any,
    org_for_live_server: EmulatedOrg,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Queued jobs (the sync behind "Sync now") run inline, as the job cluster would run them.
    monkeypatch.setattr(Conf, "SYNC", True)
    org = org_for_live_server
    org.control.seed(size=12, seed=5)
    owner = MembershipFactory(
        tenant=TenantFactory(name="Acme Inc"), role=Role.OWNER, user__email="owner@acme.example"
    )
    tenant = owner.tenant

    browser.get(f"{live_server.url}/")
    browser.find_element(By.NAME, "login").send_keys(owner.user.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, lambda b: "/auth/login/" not in b.current_url)
    shot(browser, "1-dashboard")

    # Connect through the OAuth web-server flow: our page → the org's consent page → back.
    browser.get(f"{live_server.url}/settings/salesforce/")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=connect-form] button[type=submit]").click()
    wait_for(browser, lambda b: "Allow Access?" in b.page_source)
    username = browser.find_element(By.NAME, "username")
    username.clear()
    username.send_keys(org.username)
    shot(browser, "2-consent")
    browser.find_element(By.CSS_SELECTOR, "button[value=allow]").click()
    wait_for(browser, lambda b: b.current_url == f"{live_server.url}/settings/salesforce/")
    status = browser.find_element(By.CSS_SELECTOR, "[data-testid=connection-status]")
    assert status.text == "Connected"

    # Sync now: the mirror fills from the org over HTTP.
    browser.find_element(By.CSS_SELECTOR, "[data-testid=sync-now]").click()
    wait_for(browser, lambda b: "Sync queued" in b.page_source)
    live_accounts = Account.objects.for_tenant(tenant).filter(remote_was_deleted=False)
    assert live_accounts.count() == sum(1 for r in org.records("Account", include_deleted=False))
    browser.refresh()
    assert "Never" not in browser.find_element(By.CSS_SELECTOR, "[data-testid=last-sync]").text
    shot(browser, "3-salesforce-synced")

    # A visitor from an account with opportunities arrives on the tenant's site.
    account = (
        live_accounts.exclude(domain="").filter(opportunities__isnull=False).distinct().first()
    )
    assert account is not None
    site = site_create(
        tenant=tenant, acting_user=owner.user, name="Acme", allowed_domains=["acme.example"]
    )
    now = timezone.now()
    visit = [
        EventIn(
            EventType.PAGE,
            "journey-device-1",
            now - dt.timedelta(minutes=3),
            url="https://www.acme.example/pricing",
            path="/pricing",
            title="Pricing",
        ),
        EventIn(
            EventType.IDENTIFY,
            "journey-device-1",
            now - dt.timedelta(minutes=2),
            data={
                "email": f"pat.buyer@{account.domain}",
                "first_name": "Pat",
                "last_name": "Buyer",
                "phone": "",
                "company": "",
                "company_domain": "",
            },
        ),
    ]
    assert events_record(tenant=tenant, site=site, events=visit) == 2
    visitor = Visitor.objects.for_tenant(tenant).get(email=f"pat.buyer@{account.domain}")

    # The company shows up in Companies; its page has the Account and its Opportunities.
    browser.get(f"{live_server.url}/accounts/")
    row = browser.find_element(By.CSS_SELECTOR, "[data-testid=company-row]")
    assert account.domain in row.text
    shot(browser, "4-companies")
    row.find_element(By.CSS_SELECTOR, f"a[href='/accounts/{visitor.company_id}']").click()
    wait_for(browser, lambda b: b.current_url.endswith(f"/accounts/{visitor.company_id}"))
    assert account.name in browser.find_element(By.CSS_SELECTOR, "[data-testid=account]").text
    opportunities = browser.find_elements(By.CSS_SELECTOR, "[data-testid=opportunity-row]")
    assert (
        len(opportunities)
        == Opportunity.objects.for_tenant(tenant)
        .filter(account=account, remote_was_deleted=False)
        .count()
    )
    assert (
        "Pat Buyer" in browser.find_element(By.CSS_SELECTOR, "[data-testid=company-visitors]").text
    )
    shot(browser, "5-company")

    browser.get(f"{live_server.url}/contact/details/{visitor.pk}")
    assert "Pricing" in browser.page_source
    shot(browser, "6-visitor")

    # A saved segment: hide current customers, visitors seen this week.
    browser.get(f"{live_server.url}/segments/")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=new-segment]").click()
    browser.find_element(By.NAME, "name").send_keys("Visitors this week, no customers")
    browser.find_element(By.NAME, "exclude_customers").click()
    shot(browser, "7-segment-form")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=segment-form] button[type=submit]").click()
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-testid=segment-row]"))
    segment = Segment.objects.for_tenant(tenant).get()
    assert segment.name == "Visitors this week, no customers"
    assert segment.exclude_customers is True
    row = browser.find_element(By.CSS_SELECTOR, "[data-testid=segment-row]")
    assert "Visitors this week, no customers" in row.text
    shot(browser, "8-segments")
