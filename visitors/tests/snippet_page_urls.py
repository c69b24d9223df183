"""Test-only URLs: the project's URLs plus a tiny customer page that pastes the snippet."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils.html import escape

PAGE = """<!doctype html>
<html><head><title>Acme pricing</title>
<script>window.salesmonk=window.salesmonk||function(){{(salesmonk.q=salesmonk.q||[]).push(arguments)}};</script>
<script async src="/t/s.js" data-site="{key}"></script>
</head><body><h1>Pricing</h1>
<button id="identify"
  onclick="salesmonk('identify', {{email: 'Ann@Initech.com', first_name: 'Ann'}})">
Book a demo</button>
</body></html>"""


def customer_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format(key=escape(request.GET.get("key", ""))))


urlpatterns = [
    path("customer-site/pricing", customer_page),
    path("", include("salesmonk.urls")),
]
