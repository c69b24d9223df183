"""Settings → Sites: the snippet to paste, adding, editing and deactivating sites, roles and
the outsider tenant."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import AuditEvent, Membership, Role
from visitors.models import Site
from visitors.tracking.selectors import site_for_key
from visitors.tracking.services import site_create, site_update

pytestmark = pytest.mark.django_db

PAGE = reverse("settings_sites")


@pytest.fixture
def site(owner: Membership) -> Site:
    return site_create(
        tenant=owner.tenant,
        acting_user=owner.user,
        name="Acme <b>web</b>",
        allowed_domains=["acme.com"],
    )


def test_each_site_shows_its_key_and_the_exact_snippet(
    settings, site: Site, owner_client: Client
) -> None:
    settings.SALESMONK_BASE_URL = "https://app.salesmonk.example"
    body = owner_client.get(PAGE).content.decode()
    assert f'<code data-testid="site-key">{site.key}</code>' in body
    snippet = (
        "&lt;script&gt;window.salesmonk=window.salesmonk||function(){"
        "(salesmonk.q=salesmonk.q||[]).push(arguments)};&lt;/script&gt;\n"
        "&lt;script async src=&quot;https://app.salesmonk.example/t/s.js&quot; "
        f"data-site=&quot;{site.key}&quot;&gt;&lt;/script&gt;"
    )
    assert f'<code data-testid="snippet">{snippet}</code>' in body
    assert "Acme &lt;b&gt;web&lt;/b&gt;" in body


def test_list_query_count_does_not_grow_with_sites(
    owner: Membership, owner_client: Client, django_assert_num_queries
) -> None:
    for i in range(3):
        site_create(
            tenant=owner.tenant, acting_user=None, name=f"S{i}", allowed_domains=[f"s{i}.com"]
        )
    with django_assert_num_queries(4):  # session, user, membership, sites
        owner_client.get(PAGE)
    for i in range(3, 10):
        site_create(
            tenant=owner.tenant, acting_user=None, name=f"S{i}", allowed_domains=[f"s{i}.com"]
        )
    with django_assert_num_queries(4):
        response = owner_client.get(PAGE)
    assert response.content.decode().count('data-testid="snippet"') == 10


def test_owner_adds_a_site(owner: Membership, owner_client: Client) -> None:
    response = owner_client.post(
        PAGE,
        {"name": "", "allowed_domains": "https://Acme.com/pricing, shop.acme.io\n"},
        follow=True,
    )
    site = Site.objects.for_tenant(owner.tenant).get()
    assert (site.name, site.allowed_domains, site.is_active) == (
        "acme.com",
        ["acme.com", "shop.acme.io"],
        True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Added acme.com: paste its snippet on every page."
    ]
    assert site.key in response.content.decode()


@pytest.mark.parametrize(
    ("domains", "error"),
    [("", "This field is required."), ("not_a_host", "&#x27;not_a_host&#x27; is not a host name.")],
)
def test_invalid_domains_are_shown_in_the_form(
    owner: Membership, owner_client: Client, domains: str, error: str
) -> None:
    response = owner_client.post(PAGE, {"name": "X", "allowed_domains": domains})
    assert response.status_code == 400
    assert f'data-testid="domains-error">{error}</small>' in response.content.decode()
    assert not Site.objects.exists()


def test_owner_edits_allowed_domains(site: Site, owner: Membership, owner_client: Client) -> None:
    url = reverse("settings_site_edit", args=[site.pk])
    page = owner_client.get(url)
    assert page.status_code == 200
    assert "acme.com</textarea>" in page.content.decode()

    bad = owner_client.post(url, {"name": "Acme", "allowed_domains": "acme"})
    assert bad.status_code == 400
    assert "&#x27;acme&#x27; is not a host name." in bad.content.decode()

    owner_client.post(url, {"name": "Acme", "allowed_domains": "acme.com\nacme.io"})
    site.refresh_from_db()
    assert (site.name, site.allowed_domains) == ("Acme", ["acme.com", "acme.io"])
    event = AuditEvent.objects.for_tenant(owner.tenant).get(action="site.updated")
    assert event.data["before"]["allowed_domains"] == ["acme.com"]
    assert event.data["after"]["allowed_domains"] == ["acme.com", "acme.io"]


def test_deactivating_stops_ingest_and_reactivating_resumes(
    site: Site, owner_client: Client
) -> None:
    url = reverse("settings_site_active", args=[site.pk])
    response = owner_client.post(url, {"active": "0"}, follow=True)
    site.refresh_from_db()
    assert site.is_active is False
    assert site_for_key(site.key) is None
    assert "Inactive: events sent with this key are refused." in response.content.decode()

    owner_client.post(url, {"active": "1"})
    site.refresh_from_db()
    assert site.is_active is True
    assert site_for_key(site.key) == site


def test_members_read_sites_but_cannot_change_them(site: Site, owner: Membership) -> None:
    member = MembershipFactory(tenant=owner.tenant, role=Role.MEMBER)
    client = Client()
    client.force_login(member.user)
    body = client.get(PAGE).content.decode()
    assert site.key in body
    assert 'data-testid="site-form"' not in body
    assert client.post(PAGE, {"allowed_domains": "x.com"}).status_code == 403
    edit = reverse("settings_site_edit", args=[site.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"allowed_domains": "x.com"}).status_code == 403
    active = reverse("settings_site_active", args=[site.pk])
    assert client.post(active, {"active": "0"}).status_code == 403
    site.refresh_from_db()
    assert (site.allowed_domains, site.is_active) == (["acme.com"], True)
    assert Site.objects.count() == 1


def test_outsider_sees_only_its_own_sites(site: Site, outsider_client: Client) -> None:
    body = outsider_client.get(PAGE).content.decode()
    assert site.key not in body
    assert 'data-testid="no-sites"' in body


def test_site_update_refuses_another_tenants_site(site: Site, outsider: Membership) -> None:
    with pytest.raises(ValidationError):
        site_update(tenant=outsider.tenant, acting_user=outsider.user, site=site, is_active=False)
    site.refresh_from_db()
    assert site.is_active is True
