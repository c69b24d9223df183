"""Support's write-back console in headless Chromium at a laptop's width (1366 px): a staff
member logs in to the admin, runs a dry run and reads it, then reads the write log.
Screenshots go to `SALESMONK_SCREENSHOT_DIR` when it is set."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from crm.models import CrmUser
from integrations.models import SalesforceConnection
from integrations.tests.writes import enable, staff, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteRun
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership
from salesmonk.tests.browser import browser, chromium  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LAPTOP = (1366, 800)


def shot(browser, name: str) -> None:  # noqa: F811
    if directory := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        browser.save_screenshot(os.path.join(directory, f"write-console-{name}.png"))


def fits(browser) -> bool:  # noqa: F811
    """No sideways scrolling: the page is no wider than the window."""
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_support_reads_a_dry_run_and_the_write_log_on_a_laptop(
    browser,  # noqa: F811
    live_server,
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
) -> None:
    tenant = owner.tenant
    CrmUser.objects.create(
        tenant=tenant, remote_id=connected.installer_remote_id, name="Ian Installer"
    )
    sf_settings.control.seed(
        records={"Contact": [{"LastName": "Known", "Email": "kim@known-co.com"}]}
    )
    visitor(tenant, email="kim@known-co.com", first="Kim", last="Known")
    for i in range(8):
        visitor(
            tenant,
            email=f"person{i}@corp-{i}.com",
            first="Pia",
            last=f"Person{i}",
            domain=f"corp-{i}.com",
            company_name=f"Corp {i} International Holdings",
            kinds=("lead", "person", "account"),
        )
    support = staff()
    browser.set_window_size(*LAPTOP)
    try:
        browser.get(f"{live_server.url}/admin/login/")
        browser.find_element(By.NAME, "username").send_keys(support.email)
        browser.find_element(By.NAME, "password").send_keys("x")
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: "/admin/login/" not in b.current_url)

        # The dry run, started from the enablement list as support would.
        browser.get(f"{live_server.url}{reverse('admin:integrations_tenantwrites_changelist')}")
        browser.find_element(By.CSS_SELECTOR, f"input[value='{tenant.pk}']").click()
        browser.find_element(By.CSS_SELECTOR, "select[name=action] option[value=dry_run]").click()
        browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
        WebDriverWait(browser, 10).until(lambda b: "/writerun/" in b.current_url)
        counts = browser.find_element(By.CSS_SELECTOR, "[data-testid=counts]").text
        assert "Lead · create: 8" in counts
        assert "Contact · update: 1" in counts
        contact = browser.find_element(By.CSS_SELECTOR, "[data-testid=group-Contact_update]")
        assert "Kim Known" in contact.text
        assert "email" in contact.text
        assert fits(browser)
        shot(browser, "dry-run")
        assert WriteRun.objects.get().dry_run

        enable(tenant)
        write_sync_run(tenant=tenant)
        browser.get(f"{live_server.url}{reverse('admin:integrations_writelog_changelist')}")
        rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == 17  # 8 Accounts, 8 Leads, 1 Contact update
        assert "Ian Installer" in browser.find_element(By.ID, "result_list").text
        assert fits(browser)
        shot(browser, "write-log")
    finally:
        browser.set_window_size(1280, 900)
