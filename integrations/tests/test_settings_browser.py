"""The settings pages in headless Chromium: an owner logs in, connects Salesforce through the
emulator's consent page, adds a site and opens the member mapping. Screenshots of each page
go to `SALESMONK_SCREENSHOT_DIR` when it is set."""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from crm.factories import UserFactory as CrmUserFactory
from integrations.models import ConnectionStatus, SalesforceConnection
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.factories import DEFAULT_PASSWORD, MembershipFactory, TenantFactory
from salesmonk.tenants.models import Role
from salesmonk.tests.browser import browser, chromium  # noqa: F401  (fixtures)
from visitors.models import Site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(browser, name: str) -> None:  # noqa: F811
    if directory := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        browser.save_screenshot(os.path.join(directory, f"settings-{name}.png"))


def test_owner_connects_adds_a_site_and_maps_members(
    browser,  # noqa: F811
    live_server,
    org_for_live_server: EmulatedOrg,
) -> None:
    org = org_for_live_server
    owner = MembershipFactory(
        tenant=TenantFactory(name="Acme Inc"), role=Role.OWNER, user__email="owner@acme.example"
    )
    browser.get(f"{live_server.url}/auth/login/")
    browser.find_element(By.NAME, "login").send_keys(owner.user.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/auth/login/" not in b.current_url)

    browser.get(f"{live_server.url}/settings/salesforce/")
    shot(browser, "salesforce-disconnected")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=connect-form] button[type=submit]").click()

    # The emulator's consent page, as Salesforce's would be.
    WebDriverWait(browser, 10).until(lambda b: "Allow Access?" in b.page_source)
    assert browser.current_url.startswith(f"{org.base_url}/services/oauth2/authorize")
    username = browser.find_element(By.NAME, "username")
    username.clear()
    username.send_keys(org.username)
    shot(browser, "salesforce-consent")
    browser.find_element(By.CSS_SELECTOR, "button[value=allow]").click()

    WebDriverWait(browser, 10).until(
        lambda b: b.current_url == f"{live_server.url}/settings/salesforce/"
    )
    status = browser.find_element(By.CSS_SELECTOR, "[data-testid=connection-status]")
    assert status.text == "Connected"
    assert org.username in browser.find_element(By.CSS_SELECTOR, "[data-testid=installer]").text
    conn = SalesforceConnection.objects.get(tenant=owner.tenant)
    assert (conn.status, conn.org_id) == (ConnectionStatus.CONNECTED, org.org_id)
    shot(browser, "salesforce-connected")

    browser.get(f"{live_server.url}/settings/sites/")
    browser.find_element(By.NAME, "allowed_domains").send_keys("acme.example")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=site-form] button[type=submit]").click()
    snippet = browser.find_element(By.CSS_SELECTOR, "[data-testid=snippet]").text
    site = Site.objects.for_tenant(owner.tenant).get()
    assert f'data-site="{site.key}"' in snippet
    assert f'src="{live_server.url}/t/s.js"' in snippet
    shot(browser, "sites")

    CrmUserFactory(tenant=owner.tenant, email="owner@acme.example", name="Olive Owner")
    browser.get(f"{live_server.url}/settings/members/")
    mapping = browser.find_element(By.CSS_SELECTOR, "[data-testid=mapping]").text
    assert mapping == "Olive Owner · matched by email"
    shot(browser, "members")
