"""The support tools: connect and sync commands, schedules, and the read-only admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

from integrations.models import SalesforceConnection, SyncRun
from integrations.schedules import READ_SYNC_TASK
from integrations.services import DESCRIBE_REFRESH_TASK
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import Membership, User

pytestmark = pytest.mark.django_db


def test_connect_command_connects_an_administrator(
    sf_settings: EmulatedOrg, owner: Membership, outsider: Membership
) -> None:
    out = StringIO()
    call_command(
        "connect_salesforce",
        tenant=owner.tenant.slug,
        username=sf_settings.username,
        password=sf_settings.password,
        stdout=out,
    )
    assert f"connected to org {sf_settings.org_id}" in out.getvalue()
    assert SalesforceConnection.objects.get().tenant == owner.tenant

    call_command(
        "connect_salesforce",
        tenant=owner.tenant.slug,
        username=sf_settings.username,
        password=sf_settings.password,
        if_not_connected=True,
        stdout=out,
    )
    assert "already connected" in out.getvalue()


def test_connect_command_refuses_a_non_administrator(
    sf_settings: EmulatedOrg, owner: Membership
) -> None:
    with pytest.raises(CommandError, match="not a Salesforce administrator"):
        call_command(
            "connect_salesforce",
            tenant=owner.tenant.slug,
            username=sf_settings.rep_username,
            password=sf_settings.password,
        )
    assert not SalesforceConnection.objects.exists()


def test_sync_command_reports_counts(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    sf_settings.control.seed(size=3)
    out, err = StringIO(), StringIO()
    call_command(
        "sync_salesforce",
        tenant=owner.tenant.slug,
        objects="Account,Contact",
        stdout=out,
        stderr=err,
    )
    assert "sync succeeded: 4 API calls" in out.getvalue()
    assert "Account" in out.getvalue()
    run = SyncRun.objects.get()
    assert set(run.counts) == {"Account", "Contact"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tenant": "nope"}, "No tenant with slug 'nope'"),
        ({"objects": "Account,Widget"}, "Unknown object(s) Widget"),
    ],
)
def test_sync_command_errors(
    connected: SalesforceConnection, owner: Membership, options: dict, message: str
) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("sync_salesforce", **{"tenant": owner.tenant.slug, **options})


def test_schedules_command(connected: SalesforceConnection) -> None:
    out = StringIO()
    call_command("salesforce_schedules", stdout=out)
    assert out.getvalue().splitlines() == [
        "1 tenant schedule(s) in place, 0 stale removed.",
        "Write drain scheduled every minute.",
    ]


def test_staff_see_connections_without_tokens_and_can_queue_a_sync(
    connected: SalesforceConnection,
) -> None:
    staff = User.objects.create_user(
        "support@salesmonk.example", "pw", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(staff)

    page = client.get(
        reverse("admin:integrations_salesforceconnection_change", args=[connected.pk])
    )
    assert page.status_code == 200
    assert connected.access_token not in page.content.decode()
    assert connected.access_token_encrypted not in page.content.decode()
    # Read from the connection row (the background refresh has not run): no describe call.
    assert "not checked yet" in page.content.decode()

    response = client.post(
        reverse("admin:integrations_salesforceconnection_changelist"),
        {"action": "sync_now", "_selected_action": [str(connected.pk)]},
        follow=True,
    )
    assert "Queued 1 sync(s); skipped 0." in response.content.decode()
    queued = sorted(q.func() for q in OrmQ.objects.all())
    assert queued == [DESCRIBE_REFRESH_TASK, READ_SYNC_TASK]  # connecting queued the first
