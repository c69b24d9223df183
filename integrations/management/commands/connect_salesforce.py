"""`manage.py connect_salesforce --tenant SLUG --username U --password P` (support, demo).

Uses the OAuth username-password grant with SalesMonk's connected app. Salesforce issues no
refresh token with it: customers connect through the web flow instead.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.models import PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL
from integrations.services import ConnectError, connection_connect, oauth_password_grant
from salesmonk.tenants.models import Tenant


class Command(BaseCommand):
    help = "Connect a tenant to a Salesforce org with an administrator's username and password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True, help="password + security token")
        parser.add_argument("--sandbox", action="store_true", help="log in at test.salesforce.com")
        parser.add_argument("--if-not-connected", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        existing = getattr(tenant, "salesforce_connection", None)
        if options["if_not_connected"] and existing and existing.status == "connected":
            self.stdout.write(f"{tenant.name} is already connected to Salesforce.")
            return
        login_url = SANDBOX_LOGIN_URL if options["sandbox"] else PRODUCTION_LOGIN_URL
        try:
            tokens = oauth_password_grant(
                login_url=login_url, username=options["username"], password=options["password"]
            )
            conn = connection_connect(
                tenant=tenant, acting_user=None, login_url=login_url, tokens=tokens
            )
        except ConnectError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{tenant.name} connected to org {conn.org_id} as {conn.installer_username}; "
                f"syncing every {conn.sync_interval_minutes} minutes."
            )
        )
