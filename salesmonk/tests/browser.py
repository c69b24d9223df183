"""Headless Chromium for page tests (Debian's chromium and chromium-driver packages)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def chromium_driver() -> Iterator[webdriver.Chrome]:
    """A headless browser, quit afterwards; skipped locally when Chromium is missing,
    required in CI."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("SALESMONK_REQUIRE_BROWSER"):
            pytest.fail("Chromium and chromedriver are required (apt-get install chromium-driver)")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="salesmonk-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium(live_server: Any) -> Iterator[webdriver.Chrome]:
    """The browser for pages served by `live_server`. It depends on `live_server` so it
    quits (closing its keep-alive connections) before the server shuts down."""
    yield from chromium_driver()


@pytest.fixture
def browser(chromium: webdriver.Chrome) -> Iterator[webdriver.Chrome]:
    """The shared browser with a clean slate; it leaves for a blank page afterwards so no late
    request (a favicon, say) reaches the live server after the test's database is gone."""
    chromium.delete_all_cookies()
    yield chromium
    chromium.get("about:blank")


def click_and_wait_for_next_page(browser: webdriver.Chrome, element: WebElement) -> None:
    """Click something that loads a page at the same address (a form posting back to
    itself) and wait until the new document has loaded. Reading elements while the old one
    is being replaced fails in several ways (stale element, "node does not belong to the
    document"), so the old document is marked and the wait is for a loaded one without the
    mark."""
    browser.execute_script("window.salesmonkLeaving = true")
    element.click()
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda b: b.execute_script(
            "return !window.salesmonkLeaving && document.readyState === 'complete'"
        )
    )
