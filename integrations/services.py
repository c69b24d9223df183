"""Connecting and disconnecting a tenant's Salesforce org.

Connecting ends the same way whichever OAuth grant produced the tokens: we look up the user
who authorized us, refuse anyone who is not a Salesforce administrator (SalesMonk reads the
whole org and, once enabled, writes to it), store the tokens encrypted, record an audit
event, and schedule the read sync once the transaction commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task
from simple_salesforce.format import format_soql

from crm import services as crm_services
from integrations import schedules
from integrations.models import ConnectionStatus, SalesforceConnection, SyncState
from integrations.salesforce.client import SalesforceClient, SalesforceError
from integrations.salesforce.transport import SessionRejected, build_session
from integrations.write.fieldmaps import missing_salesmonk_fields
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.services import audit_record

log = logging.getLogger(__name__)

DESCRIBE_REFRESH_TASK = "integrations.tasks.describe_refresh"
DESCRIBED_OBJECTS = ["Account", "Contact", "Lead"]


class ConnectError(Exception):
    """Connecting failed; the message is meant for the person connecting."""


@dataclass(frozen=True)
class Installer:
    remote_id: str
    username: str
    name: str
    email: str
    profile: str
    is_admin: bool


def _token_request(login_url: str, data: dict[str, str]) -> dict[str, Any]:
    response = build_session().post(
        f"{login_url.rstrip('/')}/services/oauth2/token",
        data={
            **data,
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": settings.SALESFORCE_CLIENT_SECRET,
        },
    )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        detail = (
            body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
        )
        raise ConnectError(f"Salesforce did not grant access: {detail}.")
    return body


def oauth_exchange_code(*, login_url: str, code: str, redirect_uri: str) -> dict[str, Any]:
    """The web-server flow's last step: an authorization code for tokens (with refresh)."""
    return _token_request(
        login_url,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
    )


def oauth_password_grant(*, login_url: str, username: str, password: str) -> dict[str, Any]:
    """For support and development: Salesforce issues no refresh token with this grant, so
    the connection needs reconnecting when the session expires."""
    return _token_request(
        login_url, {"grant_type": "password", "username": username, "password": password}
    )


def _installer(client: SalesforceClient, user_id: str) -> Installer:
    rows = client.query_all(
        format_soql(
            "SELECT Id, Username, Name, Email, Profile.Name, Profile.PermissionsModifyAllData "
            "FROM User WHERE Id = {}",
            user_id,
        )
    )
    if not rows:
        raise ConnectError("Salesforce did not tell us which user authorized SalesMonk.")
    row = rows[0]
    profile = row.get("Profile") or {}
    return Installer(
        remote_id=row["Id"],
        username=row.get("Username") or "",
        name=row.get("Name") or "",
        email=row.get("Email") or "",
        profile=profile.get("Name") or "",
        is_admin=bool(profile.get("PermissionsModifyAllData")),
    )


def connection_connect(
    *, tenant: Tenant, acting_user: User | None, login_url: str, tokens: dict[str, Any]
) -> SalesforceConnection:
    """Finish connecting with the tokens of any OAuth grant; refuses non-administrators."""
    parts = tokens.get("id", "").rstrip("/").rsplit("/", 2)
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise ConnectError("Salesforce's answer did not say which org and user connected.")
    org_id, user_id = parts[1], parts[2]
    probe = SalesforceConnection(
        tenant=tenant,
        login_url=login_url,
        instance_url=tokens["instance_url"],
        org_id=org_id,
    )
    probe.access_token = tokens["access_token"]
    try:
        installer = _installer(SalesforceClient(probe, purpose="read"), user_id)
    except SalesforceError as exc:
        raise ConnectError(f"Could not read the connecting user from Salesforce: {exc}") from exc
    if not installer.is_admin:
        raise ConnectError(
            f"{installer.username or 'This user'} is not a Salesforce administrator "
            f"(profile: {installer.profile or 'unknown'}). A Salesforce administrator must "
            "connect SalesMonk, because it reads your whole org and can write to it."
        )
    with transaction.atomic():
        conn, created = SalesforceConnection.objects.select_for_update().get_or_create(
            tenant=tenant, defaults={"login_url": login_url}
        )
        previous_org = conn.org_id
        if previous_org and previous_org != org_id:
            # Another org: nothing read from the old one stays live, and the next sync
            # starts from scratch.
            sync_states_reset(tenant=tenant)
            crm_services.mirror_forget(tenant=tenant)
            # What the old org's describes said is not true of this one.
            conn.salesmonk_fields_missing = None
            conn.describe_checked_at = None
        conn.login_url = login_url
        conn.instance_url = tokens["instance_url"]
        conn.access_token = tokens["access_token"]
        if tokens.get("refresh_token") or previous_org != org_id:
            conn.refresh_token = tokens.get("refresh_token", "")
        conn.org_id = org_id
        conn.installer_remote_id = installer.remote_id
        conn.installer_username = installer.username
        conn.installer_name = installer.name
        conn.installer_email = installer.email
        conn.installer_is_admin = installer.is_admin
        conn.status = ConnectionStatus.CONNECTED
        conn.last_error = ""
        conn.last_error_at = None
        conn.connected_at = timezone.now()
        conn.save()
        audit_record(
            tenant=tenant,
            actor=acting_user,
            action="salesforce.connected" if created else "salesforce.reconnected",
            target=installer.username,
            data={
                "org_id": org_id,
                "previous_org_id": previous_org if previous_org != org_id else None,
                "instance_url": conn.instance_url,
                "sandbox": conn.is_sandbox,
            },
        )
        transaction.on_commit(lambda: schedules.schedule_read_sync(conn))
        transaction.on_commit(lambda: async_task(DESCRIBE_REFRESH_TASK, str(tenant.pk)))
    return conn


def connection_describe_refresh(*, tenant: Tenant) -> bool:
    """Ask the org which SalesMonk custom fields it lacks and store the answer on the
    connection, so Settings → Salesforce reads it from the database instead of calling
    Salesforce while a person waits. Runs in the background (on connect, after each read
    sync); describes come from the client's hourly cache when it has them. A failure keeps
    the previous answer and its time (the page shows when it was checked). True when
    stored."""
    conn = SalesforceConnection.objects.filter(tenant=tenant).first()
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        return False
    try:
        describes = SalesforceClient(conn, purpose="read").describe_many(DESCRIBED_OBJECTS)
    except (SalesforceError, SessionRejected):
        log.info("Could not describe the org of tenant %s", tenant.pk, exc_info=True)
        return False
    SalesforceConnection.objects.filter(pk=conn.pk, org_id=conn.org_id).update(
        salesmonk_fields_missing=missing_salesmonk_fields(describes),
        describe_checked_at=timezone.now(),
    )
    return True


def sync_states_reset(*, tenant: Tenant) -> int:
    """Forget where the read sync stands: the next run reads every object in full."""
    deleted, _ = SyncState.objects.for_tenant(tenant).delete()
    return deleted


def connection_disconnect(*, tenant: Tenant, acting_user: User | None) -> SalesforceConnection:
    """Forget the tokens (revoking them at Salesforce when possible) and stop syncing.
    The mirrored data stays until the tenant reconnects or is deleted."""
    conn = SalesforceConnection.objects.get(tenant=tenant)
    token = conn.refresh_token or conn.access_token
    if token:
        try:
            build_session().post(
                f"{conn.login_url.rstrip('/')}/services/oauth2/revoke", data={"token": token}
            )
        except Exception:  # revocation is a courtesy; forgetting the token is what matters
            log.warning("Token revocation failed for tenant %s", tenant.pk, exc_info=True)
    with transaction.atomic():
        conn.access_token = ""
        conn.refresh_token = ""
        # A sync still running notices at its next page (it holds the claim until then).
        conn.status = ConnectionStatus.DISCONNECTED
        conn.save()
        audit_record(
            tenant=tenant, actor=acting_user, action="salesforce.disconnected", target=conn.org_id
        )
        transaction.on_commit(lambda: schedules.unschedule_read_sync(tenant))
    return conn
