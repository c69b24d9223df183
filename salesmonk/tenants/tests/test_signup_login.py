from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from salesmonk.tenants.factories import DEFAULT_PASSWORD
from salesmonk.tenants.models import AuditEvent, Membership, Role, Tenant, User

pytestmark = pytest.mark.django_db

SIGNUP = {
    "company_name": "Initech",
    "email": "Peter@Initech.example",
    "password1": "tps-report-cover-42",
    "password2": "tps-report-cover-42",
}


def test_signup_creates_tenant_and_owner_membership(client: Client, outsider: Membership) -> None:
    response = client.post(reverse("account_signup"), SIGNUP)

    assert response.status_code == 302
    user = User.objects.get(email="peter@initech.example")
    tenant = Tenant.objects.get(name="Initech")
    assert tenant.slug == "initech"
    membership = Membership.objects.get(user=user)
    assert (membership.tenant, membership.role) == (tenant, Role.OWNER)
    assert list(AuditEvent.objects.for_tenant(tenant).values_list("action", flat=True)) == [
        "tenant.created"
    ]
    # The new user lands in their own workspace, not the outsider's.
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert dashboard.context["current_tenant"] == tenant
    assert b"Globex" not in dashboard.content


def test_signup_slug_is_unique_per_tenant(client: Client, db: None) -> None:
    Tenant.objects.create(name="Initech", slug="initech")
    client.post(reverse("account_signup"), SIGNUP)
    assert sorted(Tenant.objects.values_list("slug", flat=True)) == ["initech", "initech-2"]


def test_signup_without_company_name_creates_nothing(client: Client, db: None) -> None:
    response = client.post(reverse("account_signup"), {**SIGNUP, "company_name": "   "})

    assert response.status_code == 200
    assert "company_name" in response.context["form"].errors
    assert not User.objects.exists()
    assert not Tenant.objects.exists()


def test_signup_with_taken_email_is_refused(client: Client, owner: Membership) -> None:
    response = client.post(reverse("account_signup"), {**SIGNUP, "email": "OWNER@acme.example"})

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert Tenant.objects.count() == 1


def test_login_with_email_and_logout(client: Client, owner: Membership) -> None:
    response = client.post(
        reverse("account_login"), {"login": "owner@acme.example", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).context["current_tenant"] == owner.tenant

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_login_with_wrong_password_fails(client: Client, owner: Membership) -> None:
    response = client.post(
        reverse("account_login"), {"login": "owner@acme.example", "password": "nope"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url_name", ["dashboard", "team"])
def test_anonymous_user_is_redirected_to_login(client: Client, url_name: str) -> None:
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_staff_without_workspace_sees_explanation(client: Client, db: None) -> None:
    staff = User.objects.create_user("support@salesmonk.example", "pw", is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert b"not a member of any workspace" in response.content
    assert b"support admin" in response.content
