"""Reads for Settings → Sites: the tenant's sites and the two lines to paste for each."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from salesmonk.tenants.models import Tenant
from salesmonk.tenants.selectors import get_for_tenant_or_404
from visitors.models import Site

# The first line queues calls made before the script loads; the second loads it with the
# site's public key (see `visitors/static/visitors/snippet.js`).
SNIPPET_QUEUE_LINE = (
    "<script>window.salesmonk=window.salesmonk||function(){"
    "(salesmonk.q=salesmonk.q||[]).push(arguments)};</script>"
)


def site_list(*, tenant: Tenant) -> QuerySet[Site]:
    """Active sites first, then by name."""
    return Site.objects.for_tenant(tenant).order_by("-is_active", "name", "created_at")


def site_get(*, tenant: Tenant, site_id: uuid.UUID) -> Site:
    return get_for_tenant_or_404(Site.objects.all(), tenant=tenant, pk=site_id)


def script_url() -> str:
    """The tracking script's public address: the ingest endpoint is derived from it."""
    return settings.SALESMONK_BASE_URL + reverse("visitors_snippet")


def site_snippet(site: Site) -> str:
    """The exact two lines a customer pastes before `</head>` on every page of the site."""
    return (
        f'{SNIPPET_QUEUE_LINE}\n<script async src="{script_url()}" data-site="{site.key}"></script>'
    )
