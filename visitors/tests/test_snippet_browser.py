"""The snippet in a real browser: a customer's page sends a page view and an identify."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from salesmonk.tenants.factories import TenantFactory
from salesmonk.tests.browser import browser, chromium  # noqa: F401  (fixtures)
from visitors.models import Event, Site, Visitor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("visitors.tests.snippet_page_urls"),
]


def test_page_view_and_identify_arrive(browser, live_server) -> None:  # noqa: F811
    tenant = TenantFactory(name="Acme Inc")
    outsider = TenantFactory(name="Globex Corp")
    site = Site.objects.create(tenant=tenant, name="Acme", allowed_domains=["localhost"])
    browser.get(f"{live_server.url}/customer-site/pricing?key={site.key}&utm_source=newsletter")
    # SQLite's shared in-memory test database may refuse a read while the server writes.
    wait = WebDriverWait(browser, 10, poll_frequency=0.1, ignored_exceptions=[OperationalError])
    wait.until(lambda _: Event.objects.filter(type="page").exists())
    browser.find_element(By.ID, "identify").click()
    wait.until(lambda _: Event.objects.filter(type="identify").exists())

    visitor = Visitor.objects.get()
    assert visitor.email == "ann@initech.com"
    assert visitor.first_name == "Ann"
    assert visitor.utm_source == "newsletter"
    assert (visitor.total_sessions, visitor.total_events) == (1, 2)
    view = Event.objects.get(type="page")
    assert (view.path, view.title) == ("/customer-site/pricing", "Acme pricing")
    # The anonymous id is a first-party cookie on the customer's site.
    cookie = browser.get_cookie("_smk_id")
    assert cookie is not None
    assert visitor.devices.get().anonymous_id == cookie["value"]
    assert Visitor.objects.for_tenant(outsider).count() == 0
