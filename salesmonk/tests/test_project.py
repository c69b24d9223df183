from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from salesmonk.crypto import DecryptionError, decrypt_str, encrypt_str, rotate_str
from salesmonk.tenants.models import Membership, Role, Tenant, User


def test_system_check_is_clean() -> None:
    out = StringIO()
    call_command("check", "--fail-level", "WARNING", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_migrations_are_complete() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_seed_demo_is_idempotent() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)

    tenant = Tenant.objects.get()
    assert tenant.name == "Acme Inc"
    member = User.objects.get(email="demo@example.com")
    staff = User.objects.get(email="support@example.com")
    assert member.check_password("salesmonk-demo")
    assert (member.is_staff, staff.is_staff, staff.is_superuser) == (False, True, True)
    assert Membership.objects.get(user=member).tenant == tenant
    assert Membership.objects.get(user=member).role == Role.OWNER
    assert not Membership.objects.filter(user=staff).exists()
    assert "demo@example.com / salesmonk-demo" in out.getvalue()
    assert "support@example.com / salesmonk-support" in out.getvalue()


@pytest.mark.django_db
def test_demo_logins_work(client: Client) -> None:
    call_command("seed_demo", stdout=StringIO())
    assert client.login(username="demo@example.com", password="salesmonk-demo")
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert 'data-testid="tenant-name">Acme Inc<' in page.content.decode()

    staff = Client()
    assert staff.login(username="support@example.com", password="salesmonk-support")
    assert staff.get(reverse("admin:tenants_tenant_changelist")).status_code == 200


@pytest.mark.django_db
def test_login_page_uses_project_stylesheets(client: Client) -> None:
    page = client.get(reverse("account_login")).content.decode()
    assert "/static/vendor/pico/pico.min.css" in page
    assert "/static/css/app.css" in page
    assert "cdn" not in page.lower()


def test_secrets_round_trip_and_rotate() -> None:
    token = encrypt_str("00Dxx!secret-access-token")
    assert "secret-access-token" not in token
    assert decrypt_str(token) == "00Dxx!secret-access-token"

    new_key = Fernet.generate_key().decode()
    with override_settings(SALESMONK_ENCRYPTION_KEYS=[new_key]), pytest.raises(DecryptionError):
        decrypt_str(token)

    old_keys = settings.SALESMONK_ENCRYPTION_KEYS
    with override_settings(SALESMONK_ENCRYPTION_KEYS=[new_key, *old_keys]):
        rotated = rotate_str(token)
        assert decrypt_str(rotated) == "00Dxx!secret-access-token"
    with override_settings(SALESMONK_ENCRYPTION_KEYS=[new_key]):
        assert decrypt_str(rotated) == "00Dxx!secret-access-token"
