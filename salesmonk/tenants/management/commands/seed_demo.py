"""Seed the demo: tenant "Acme Inc", its member and a support staff user. Safe to rerun."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from salesmonk.tenants.models import Membership, Role, Tenant, User
from salesmonk.tenants.services import audit_record

DEMO_TENANT = "Acme Inc"
DEMO_MEMBER = ("demo@example.com", "salesmonk-demo")
DEMO_STAFF = ("support@example.com", "salesmonk-support")
# The administrator of the Salesforce emulator's demo org (`python -m salesforce_emulator
# --seed demo`), which `make run` connects the demo tenant to.
DEMO_SALESFORCE_ADMIN = ("admin@acme.example", "salesmonk-demo")


class Command(BaseCommand):
    help = "Create the demo tenant, member and support user (idempotent) and print the logins."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        tenant, created = Tenant.objects.get_or_create(slug="acme", defaults={"name": DEMO_TENANT})
        member = self._user(*DEMO_MEMBER, first_name="Dana", last_name="Demo", is_staff=False)
        self._user(*DEMO_STAFF, first_name="Sam", last_name="Support", is_staff=True)
        _, joined = Membership.objects.get_or_create(
            tenant=tenant, user=member, defaults={"role": Role.OWNER}
        )
        if created:
            audit_record(tenant=tenant, actor=None, action="tenant.created", target=tenant.name)
        self.stdout.write(self.style.SUCCESS(f"Demo tenant: {tenant.name}"))
        self.stdout.write(f"  Member login:  {DEMO_MEMBER[0]} / {DEMO_MEMBER[1]}")
        self.stdout.write(f"  Support login: {DEMO_STAFF[0]} / {DEMO_STAFF[1]} (admin: /admin/)")
        if not (created or joined):
            self.stdout.write("  (already seeded; passwords reset to the values above)")

    def _user(self, email: str, password: str, **fields: Any) -> User:
        user, _ = User.objects.get_or_create(email=email, defaults=fields)
        user.set_password(password)
        user.is_active = True
        user.is_staff = fields["is_staff"]
        user.is_superuser = fields["is_staff"]
        user.save()
        self._verify_email(user)
        return user

    @staticmethod
    def _verify_email(user: User) -> None:
        """Mark the demo addresses verified so allauth never asks for confirmation."""
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
