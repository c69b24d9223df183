"""Alerts in a real browser: add a webhook, send a test message to the local receiver, create
an alert, read the delivery log (screenshots go to `SALESMONK_SCREENSHOT_DIR` when set)."""

from __future__ import annotations

import os
from io import StringIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from salesmonk.tests.browser import browser, chromium  # noqa: F401  (fixtures)
from visitors.models import AlertRule, SlackWebhook
from visitors.tests.slack_receiver import SlackReceiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(driver: Any, name: str) -> None:
    if shot := os.environ.get("SALESMONK_SCREENSHOT_DIR"):
        driver.save_screenshot(os.path.join(shot, name))


def test_an_owner_sets_up_a_slack_alert(
    browser: Any,  # noqa: F811
    live_server: Any,
    slack_receiver: SlackReceiver,
    q_sync: None,
) -> None:
    call_command("seed_demo", stdout=StringIO())
    browser.get(f"{live_server.url}/alerts/")
    browser.find_element(By.NAME, "login").send_keys("demo@example.com")
    browser.find_element(By.NAME, "password").send_keys("salesmonk-demo")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # the login page's own address ends in `?next=/alerts/`: wait for the page itself
    WebDriverWait(browser, 10).until(lambda b: urlsplit(b.current_url).path == "/alerts/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Alerts"
    assert "No Slack webhook yet." in browser.page_source
    shoot(browser, "alerts-empty.png")

    form = browser.find_element(By.CSS_SELECTOR, "[data-testid=webhook-form]")
    form.find_element(By.NAME, "name").send_keys("#sales")
    form.find_element(By.NAME, "url").send_keys(slack_receiver.url())
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "Added #sales" in b.page_source)
    webhook = SlackWebhook.objects.get()

    browser.find_element(By.XPATH, "//button[normalize-space()='Send test']").click()
    WebDriverWait(browser, 10).until(lambda b: "Delivered" in b.page_source)
    assert [p.text for p in slack_receiver.posts] == [
        "SalesMonk alerts will be posted here (#sales)."
    ]

    rule_form = browser.find_element(By.CSS_SELECTOR, "[data-testid=rule-form]")
    rule_form.find_element(By.NAME, "name").send_keys("Reps: your accounts")
    rule_form.find_element(By.CSS_SELECTOR, "input[value=owned_account]").click()
    rule_form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "created" in b.page_source)
    rule = AlertRule.objects.get()
    assert (rule.name, rule.kind, rule.webhook_id) == (
        "Reps: your accounts",
        "owned_account",
        webhook.pk,
    )
    shoot(browser, "alerts.png")

    browser.find_element(By.LINK_TEXT, "Delivery log →").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/alerts/log/"))
    assert "Nothing posted yet." in browser.page_source
    shoot(browser, "alerts-log.png")
