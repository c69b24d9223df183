"""The login page, as a person sees it in a real browser."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from salesmonk.tests.browser import browser, chromium  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_member_logs_in_and_out(browser, live_server) -> None:  # noqa: F811
    call_command("seed_demo", stdout=StringIO())
    browser.get(f"{live_server.url}/")

    # Anonymous visitors land on the styled login page.
    assert "/auth/login/" in browser.current_url
    button = browser.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    # The brand colour comes from the project's own stylesheet, so CSS was served and applied.
    assert button.value_of_css_property("background-color") == "rgba(79, 70, 229, 1)"
    if shot := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        browser.save_screenshot(os.path.join(shot, "login.png"))

    browser.find_element(By.NAME, "login").send_keys("demo@example.com")
    browser.find_element(By.NAME, "password").send_keys("salesmonk-demo")
    button.click()
    WebDriverWait(browser, 10).until(lambda b: "/auth/login/" not in b.current_url)

    tenant = browser.find_element(By.CSS_SELECTOR, "[data-testid=tenant-name]")
    assert tenant.text == "Acme Inc"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Welcome to Acme Inc"
    if shot:
        browser.save_screenshot(os.path.join(shot, "dashboard.png"))

    browser.find_element(By.CSS_SELECTOR, "[data-testid=logout]").click()
    WebDriverWait(browser, 10).until(lambda b: "/auth/login/" in b.current_url)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=tenant-name]")
