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


def test_owner_reads_write_health(browser, live_server) -> None:  # noqa: F811
    """The write-health section as a customer sees it: kinds on/off, the last run, counts
    and failures grouped by reason with their hints, no raw Salesforce text."""
    from django.utils import timezone

    from integrations.tests.writes import enable
    from integrations.write.models import WriteLog, WriteResult, WriteRun, WriteRunStatus

    owner = MembershipFactory(
        tenant=TenantFactory(name="Acme Inc"), role=Role.OWNER, user__email="owner@acme.example"
    )
    tenant = owner.tenant
    SalesforceConnection.objects.create(
        tenant=tenant,
        org_id="00D000000000001AAA",
        instance_url="https://acme.my.salesforce.com",
        installer_name="Ada Admin",
        installer_username="admin@acme.example",
        salesmonk_fields_missing={"Lead": ["SalesMonk_UTM_Source__c"]},
        describe_checked_at=timezone.now(),
        connected_at=timezone.now(),
    )
    enable(tenant, "create_leads", "create_accounts", "log_meetings")
    run = WriteRun.objects.create(
        tenant=tenant,
        status=WriteRunStatus.SUCCEEDED,
        finished_at=timezone.now(),
        api_calls=3,
        counts={"Lead.create.success": 4, "Account.upsert.success": 2},
    )
    errors = [
        "REQUIRED_FIELD_MISSING: Required fields are missing: [Country]",
        "REQUIRED_FIELD_MISSING: Required fields are missing: [Country]",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone needs a country code",
        "[{'errorCode': 'UNABLE_TO_LOCK_ROW', 'message': 'unable to obtain exclusive access'}]",
        "INVALID_EMAIL_ADDRESS: Email: invalid email address: bob@",
    ]
    for n, error in enumerate(errors):
        WriteLog.objects.create(
            tenant=tenant,
            run=run,
            object_name="Lead",
            operation="create",
            key=f"email:p{n}@x.example",
            result=WriteResult.FAILED,
            error=error,
        )
    for n in range(6):
        WriteLog.objects.create(
            tenant=tenant,
            run=run,
            object_name="Lead",
            operation="create",
            key=f"email:ok{n}@x.example",
            result=WriteResult.SUCCESS,
            remote_id=f"00Q{n:015d}",
        )

    browser.get(f"{live_server.url}/auth/login/")
    browser.find_element(By.NAME, "login").send_keys(owner.user.email)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/auth/login/" not in b.current_url)
    browser.get(f"{live_server.url}/settings/salesforce/")

    health = browser.find_element(By.CSS_SELECTOR, "[data-testid=write-health]")
    browser.execute_script("arguments[0].scrollIntoView();", health)
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=written-today]").text == "6"
    reasons = [
        row.find_element(By.TAG_NAME, "strong").text
        for row in health.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert reasons == [
        "Required field missing: Country",
        "Blocked by a validation rule",
        "Invalid email address",
        "Record locked",
    ]
    assert "errorCode" not in health.text
    assert "REQUIRED_FIELD_MISSING" not in health.text
    shot(browser, "salesforce-write-health")
