"""Settings → Salesforce shows how writing goes (kinds on/off, the last run, records written,
failures grouped by reason with a hint) and what the org's describes said, read from the
database alone: the page never calls Salesforce, even while it is failing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import SalesforceConnection
from integrations.tasks import describe_refresh, read_sync
from integrations.tests.writes import enable, visitor
from integrations.write.engine import write_sync_run
from integrations.write.models import WriteLog, WriteResult, WriteRun, WriteRunStatus
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.errors import error_for_humans
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import IntentKind, WriteIntent

pytestmark = pytest.mark.django_db

PAGE = reverse("settings_salesforce")

ERRORS = {
    "required_field": "REQUIRED_FIELD_MISSING: Required fields are missing: [Country]",
    "validation_rule": "FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone needs a country code",
    "duplicate_rule": "DUPLICATES_DETECTED: Use one of these records?",
    "record_locked": "[{'errorCode': 'UNABLE_TO_LOCK_ROW', 'message': 'unable to obtain "
    "exclusive access to this record'}]",
    "no_permission": "INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on object id",
    "invalid_email": "INVALID_EMAIL_ADDRESS: Email: invalid email address: bob@",
    "other": "SalesforceRequestError: STRING_TOO_LONG: Company: data value too large: "
    "<html><body>x</body></html>",
}
HINTS = {
    "required_field": "Your org requires Country on this record",
    "validation_rule": "A validation rule in your org says: “Phone needs a country code”",
    "duplicate_rule": "Your org&#x27;s duplicate rules refused the record.",
    "record_locked": "SalesMonk retries it automatically.",
    "no_permission": "The Salesforce user who connected SalesMonk may not create or edit",
    "invalid_email": "Salesforce refused the visitor&#x27;s email address as not valid",
    "other": "Company: data value too large: the answer was a web page instead of a message.",
}


def log(tenant: Tenant, run: WriteRun, result: str, *, key: str, error: str = "") -> WriteLog:
    return WriteLog.objects.create(
        tenant=tenant,
        run=run,
        object_name="Lead",
        operation="create",
        key=key,
        result=result,
        error=error,
    )


def run_of(tenant: Tenant, **fields: object) -> WriteRun:
    return WriteRun.objects.create(tenant=tenant, **fields)


def failure_rows(body: str) -> dict[str, str]:
    """Reason kind → the row's text, tags stripped."""
    rows = re.findall(r'data-testid="failure-(\w+)">(.*?)</tr>', body, flags=re.S)
    return {kind: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip() for kind, text in rows}


def test_each_failure_reason_has_its_hint_and_never_a_class_name_or_html(
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
    outsider: Membership,
) -> None:
    tenant = owner.tenant
    enable(tenant)
    run = run_of(tenant, status=WriteRunStatus.SUCCEEDED)
    for n, error in enumerate(ERRORS.values()):
        log(tenant, run, WriteResult.FAILED, key=f"email:p{n}@x.example", error=error)
    # The same record failing again with the same error is one record, not two.
    log(tenant, run, WriteResult.FAILED, key="email:p0@x.example", error=ERRORS["required_field"])
    log(tenant, run, WriteResult.FAILED, key="email:q@x.example", error=ERRORS["required_field"])
    # Another tenant's failures never show here.
    theirs = run_of(outsider.tenant)
    log(outsider.tenant, theirs, WriteResult.FAILED, key="email:o@o.example", error="X_Y: Globex")

    body = owner_client.get(PAGE).content.decode()

    rows = failure_rows(body)
    assert set(rows) == set(ERRORS)
    for kind, hint in HINTS.items():
        assert hint in re.search(rf'failure-{kind}">(.*?)</tr>', body, flags=re.S).group(1)
    assert rows["required_field"].startswith("Required field missing: Country Your org")
    assert " 2 " in rows["required_field"]  # two records: p0 (twice) and q
    assert " 1 " in rows["no_permission"]
    assert "Globex" not in body
    for leak in ("SalesforceRequestError", "<html>", "&lt;html", "errorCode"):
        assert leak not in body


def test_a_failure_with_no_record_attempted_comes_from_the_intent(
    connected: SalesforceConnection, owner: Membership, owner_client: Client
) -> None:
    tenant = owner.tenant
    enable(tenant)
    v = visitor(tenant, email="wait@d.example", last="Wait", kinds=(IntentKind.MEETING,))
    WriteIntent.objects.filter(visitor=v).update(
        last_error="The visitor's Lead was not written: REQUIRED_FIELD_MISSING: "
        "Required fields are missing: [State]",
        attempts=1,
    )

    rows = failure_rows(owner_client.get(PAGE).content.decode())

    assert list(rows) == ["required_field"]
    assert rows["required_field"].startswith("Required field missing: State Your org requires")


def test_records_written_today_and_in_the_last_seven_days(
    connected: SalesforceConnection, owner: Membership, owner_client: Client
) -> None:
    tenant = owner.tenant
    enable(tenant, "create_leads")
    run = run_of(tenant, status=WriteRunStatus.SUCCEEDED)
    now = timezone.now()
    ages = {"a": 0, "b": 0, "c": 3, "d": 6, "e": 8, "f": 30}
    for name, days in ages.items():
        entry = log(tenant, run, WriteResult.SUCCESS, key=f"email:{name}@x.example")
        WriteLog.objects.filter(pk=entry.pk).update(created_at=now - dt.timedelta(days=days))
    log(tenant, run, WriteResult.SKIPPED, key="email:s@x.example")
    log(tenant, run, WriteResult.FAILED, key="email:f@x.example", error=ERRORS["invalid_email"])

    body = owner_client.get(PAGE).content.decode()

    assert 'data-testid="written-today">2<' in body
    assert 'data-testid="written-week">4<' in body


def test_writes_off_shows_every_kind_off_and_no_health(
    connected: SalesforceConnection, owner_client: Client
) -> None:
    body = owner_client.get(PAGE).content.decode()

    assert "Writing to Salesforce is off — contact support to enable it." in body
    for label in (
        "Create Accounts",
        "Create Leads",
        "Update Contacts and Leads",
        "Log meetings (Events)",
        "Log chats (Notes)",
    ):
        assert f'<span class="badge">Off</span> {label}<' in body
    assert 'data-testid="write-health"' not in body


def test_a_real_drain_shows_its_run_its_records_and_an_invalid_email(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
) -> None:
    tenant = owner.tenant
    enable(tenant, "create_leads")
    visitor(tenant, email="good@d.example", last="Good", kinds=(IntentKind.LEAD,))
    visitor(tenant, email="bad@@d.example", last="Bad", kinds=(IntentKind.LEAD,))

    run = write_sync_run(tenant=tenant)

    assert run.status == WriteRunStatus.SUCCEEDED
    body = owner_client.get(PAGE).content.decode()
    last_run = re.sub(
        r"\s+", " ", re.search(r'last-write-run">(.*?)</dd>', body, flags=re.S).group(1)
    )
    assert "Succeeded" in last_run
    assert "· 1 record written ·" in last_run
    assert f"{run.api_calls} API call" in last_run
    assert 'data-testid="written-today">1<' in body
    assert list(failure_rows(body)) == ["invalid_email"]


def test_the_page_never_calls_salesforce_even_while_it_fails(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
) -> None:
    """The describe is stored in the background; once Salesforce fails, the page still
    answers from the database (the emulator sees no request) and the refresh keeps the last
    answer and its time."""
    assert describe_refresh(str(owner.tenant.pk)) == {"described": True}
    connected.refresh_from_db()
    checked_at = connected.describe_checked_at
    assert (connected.salesmonk_fields_missing, checked_at is not None) == ({}, True)

    cache.clear()  # no describe left in the client's cache either
    sf_settings.control.fault(error_rate=1.0, error_status=503, latency_ms=2000)
    sf_settings.control.reset_counters()
    before = sf_settings.counters()

    started = timezone.now()
    body = owner_client.get(PAGE).content.decode()
    elapsed = (timezone.now() - started).total_seconds()

    seen = sf_settings.counters()
    assert seen["by_kind"] == {}  # the emulator saw no request at all
    assert seen == before
    assert elapsed < 2  # one emulator call alone would take 2 seconds
    assert "All SalesMonk custom fields are present." in body
    assert 'data-testid="fields-checked-at">Checked' in body

    assert describe_refresh(str(owner.tenant.pk)) == {"described": False}
    assert sf_settings.counters()["by_kind"]  # calls under faults are seen and counted
    connected.refresh_from_db()
    assert (connected.salesmonk_fields_missing, connected.describe_checked_at) == ({}, checked_at)


def test_read_sync_stores_the_fields_the_org_lacks(
    sf_settings: EmulatedOrg, connected: SalesforceConnection, owner: Membership
) -> None:
    SalesforceConnection.objects.filter(pk=connected.pk).update(
        salesmonk_fields_missing=None, describe_checked_at=None
    )

    result = read_sync(str(owner.tenant.pk))

    assert result["described"] is True
    connected.refresh_from_db()
    assert connected.salesmonk_fields_missing == {}
    assert connected.describe_checked_at is not None


def test_not_checked_yet_is_said_plainly(
    connected: SalesforceConnection, owner_client: Client
) -> None:
    body = owner_client.get(PAGE).content.decode()
    assert "Not checked yet: SalesMonk reads your org's fields in the background" in body


def test_query_count_does_not_grow_with_failures_or_logs(
    connected: SalesforceConnection,
    owner: Membership,
    owner_client: Client,
    django_assert_num_queries,
) -> None:
    tenant = owner.tenant
    enable(tenant)
    run = run_of(tenant, status=WriteRunStatus.SUCCEEDED, counts={"Lead.create.success": 3})
    log(tenant, run, WriteResult.FAILED, key="email:one@x.example", error=ERRORS["other"])
    # session, user, membership, connection, sync run, usage, policy, write run, counts,
    # failed logs, failed intents.
    with django_assert_num_queries(11):
        owner_client.get(PAGE)
    for n, error in enumerate([*ERRORS.values()] * 5):
        log(tenant, run, WriteResult.FAILED, key=f"email:{n}@x.example", error=error)
        log(tenant, run, WriteResult.SUCCESS, key=f"email:ok{n}@x.example")
    with django_assert_num_queries(11):
        body = owner_client.get(PAGE).content.decode()
    assert len(failure_rows(body)) == len(ERRORS)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("SalesforceRequestError: INVALID_FIELD: No such column", "INVALID_FIELD: No such column"),
        ("KeyError: 'Id'", "An unexpected error occurred. It is logged for SalesMonk support."),
        ("Could not reach Slack (ConnectionError).", "Could not reach Slack."),
        (
            "Slack refused the webhook (404 <!DOCTYPE html><html><body>Gone</body></html>).",
            "Slack refused the webhook (404: the answer was a web page instead of a message).",
        ),
        ("404 <!DOCTYPE html><html>", "404: the answer was a web page instead of a message."),
        ("", ""),
    ],
)
def test_the_humanizer(raw: str, shown: str) -> None:
    assert error_for_humans(raw) == shown


def test_long_errors_are_cut_at_a_word() -> None:
    shown = error_for_humans("word " * 200)
    assert len(shown) <= 300
    assert shown.endswith("word…")
