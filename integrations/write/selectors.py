"""Reads of the write-back for the task, admin and customer pages.

Customer pages read only the database here (never Salesforce), in a fixed number of
queries: `write_health` for Settings → Salesforce, `visitor_write_explanation` for a
visitor. Errors reach them grouped and explained (`integrations.write.failures`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from crm.models import WritePolicy
from crm.normalize import normalize_email, normalize_phone
from crm.owners import FallbackOwnerIds
from integrations.models import ConnectionStatus, SalesforceConnection
from integrations.write.failures import FailureReason, failure_reason
from integrations.write.models import WriteLog, WriteResult, WriteRun
from integrations.write.plan import person_key
from integrations.write.policy import FLAG_LABELS, WRITE_FLAGS, write_state
from integrations.write.source import KIND_FLAGS
from salesmonk.tenants.models import Tenant
from visitors.models import IntentKind, Visitor, WriteIntent
from visitors.tracking.freemail import is_personal_email_domain


def tenants_with_pending_writes() -> list[uuid.UUID]:
    """Connected tenants with a pending intent of a kind their policy enables, except
    those paused by an API limit."""
    enabled = Q()
    for kind, flag in KIND_FLAGS.items():
        enabled |= Q(kind=kind, **{f"tenant__write_policy__{flag}": True})
    pending = WriteIntent.objects.filter(enabled, tenant_id=OuterRef("tenant_id"), status="pending")
    return list(
        SalesforceConnection.objects.filter(status=ConnectionStatus.CONNECTED)
        .filter(Exists(pending))
        .exclude(tenant__write_settings__paused_until__gt=timezone.now())
        .values_list("tenant_id", flat=True)
    )


def salesforce_users_active(*, tenant: Tenant) -> list[tuple[str, str]]:
    """(Salesforce id, "Name <email>") of the tenant's active mirrored users, by name: whom
    support may choose as an owner."""
    from crm.models import CrmUser

    rows = (
        CrmUser.objects.for_tenant(tenant)
        .filter(is_active=True, remote_was_deleted=False)
        .order_by("name", "email")
        .values_list("remote_id", "name", "email")
    )
    return [
        (rid, f"{name or email} <{email}>" if email else name or rid) for rid, name, email in rows
    ]


def write_policy_exists(*, tenant: Tenant) -> bool:
    return WritePolicy.objects.filter(tenant=tenant).exists()


def fallback_owner_ids(tenant: Tenant) -> FallbackOwnerIds:
    """The default lead owner and the installer of the tenant, in one query: the owners the
    write path hands a Lead to when no account owner is usable. Registered with
    `crm.owners` so pages can say whom a record SalesMonk creates would go to."""
    row = (
        Tenant.objects.filter(pk=tenant.pk)
        .values_list(
            "write_settings__default_lead_owner_remote_id",
            "salesforce_connection__installer_remote_id",
        )
        .first()
    )
    default_id, installer_id = row or (None, None)
    return FallbackOwnerIds(default_lead_owner_id=default_id or "", installer_id=installer_id or "")


# --- Settings → Salesforce: write health -----------------------------------------------------

HEALTH_DAYS = 7
# Distinct stored errors read for the failure groups (each is grouped in Python).
MAX_ERRORS = 200


@dataclass(frozen=True)
class WriteKind:
    flag: str
    label: str
    on: bool


@dataclass(frozen=True)
class FailureGroup:
    """Failed records sharing one reason in the last `HEALTH_DAYS` days."""

    reason: FailureReason
    records: int
    last_at: dt.datetime


@dataclass(frozen=True)
class WriteHealth:
    kinds: list[WriteKind]
    approved_at: dt.datetime | None
    last_run: WriteRun | None
    written_today: int
    written_week: int
    failures: list[FailureGroup]

    @property
    def any_enabled(self) -> bool:
        return any(k.on for k in self.kinds)

    @property
    def last_run_records(self) -> int:
        """Records the last run wrote (created, updated or recovered after a crash)."""
        counts = self.last_run.counts if self.last_run else {}
        return sum(n for key, n in counts.items() if key.endswith(".success") or key == "recovered")


def _group_failures(rows: Iterable[tuple[str, int, dt.datetime]]) -> list[FailureGroup]:
    groups: dict[FailureReason, tuple[int, dt.datetime]] = {}
    for error, records, last_at in rows:
        reason = failure_reason(error)
        seen, latest = groups.get(reason, (0, last_at))
        groups[reason] = (seen + records, max(latest, last_at))
    ordered = sorted(groups.items(), key=lambda item: (-item[1][0], item[0].title))
    return [FailureGroup(reason, n, last_at) for reason, (n, last_at) in ordered]


def write_health(*, tenant: Tenant) -> WriteHealth:
    """How writing to the tenant's Salesforce goes, from the database alone, in five
    queries: the policy, the last run, counts of records written, failed records by error
    (write log) and failures of intents that never reached a record (e.g. a meeting
    waiting for its visitor's Lead)."""
    state = write_state(tenant=tenant)
    now = timezone.now()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_ago = now - dt.timedelta(days=HEALTH_DAYS)
    logs = WriteLog.objects.for_tenant(tenant)
    written = logs.filter(result=WriteResult.SUCCESS, created_at__gte=week_ago)
    counts = written.aggregate(
        today=Count("id", filter=Q(created_at__gte=day_start)),
        week=Count("id", filter=Q(created_at__gte=week_ago)),
    )
    failed_logs = (
        logs.filter(result=WriteResult.FAILED, created_at__gte=week_ago)
        .values("error")
        .annotate(records=Count("key", distinct=True), last_at=Max("created_at"))
        .order_by("-last_at")
        .values_list("error", "records", "last_at")[:MAX_ERRORS]
    )
    has_failed_log = WriteLog.objects.filter(
        tenant=tenant, result=WriteResult.FAILED, intent__visitor_id=OuterRef("visitor_id")
    )
    failed_intents = (
        WriteIntent.objects.for_tenant(tenant)
        .filter(
            status__in=[WriteIntent.Status.PENDING, WriteIntent.Status.FAILED],
            updated_at__gte=week_ago,
        )
        .exclude(last_error="")
        .exclude(Exists(has_failed_log))
        .values("last_error")
        .annotate(records=Count("visitor", distinct=True), last_at=Max("updated_at"))
        .order_by("-last_at")
        .values_list("last_error", "records", "last_at")[:MAX_ERRORS]
    )
    return WriteHealth(
        kinds=[WriteKind(f, FLAG_LABELS[f], state.enabled[f]) for f in WRITE_FLAGS],
        approved_at=state.approved_at,  # type: ignore[arg-type]
        last_run=WriteRun.objects.for_tenant(tenant).filter(dry_run=False).first(),
        written_today=counts["today"],
        written_week=counts["week"],
        failures=_group_failures([*failed_logs, *failed_intents]),
    )


# --- A visitor: what SalesMonk wrote (or will write) for them, and why -----------------------

# Logs read per visitor: enough to find the latest of each object after retries.
VISITOR_LOGS = 50


@dataclass(frozen=True)
class Explanation:
    """The person's or the company's side. `state` is one of matched, created,
    will_create, skipped, failed; `summary` says what and why in one sentence."""

    state: str
    summary: str
    detail: str = ""
    object_name: str = ""
    remote_id: str = ""
    rule: str = ""
    reason: FailureReason | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True)
class LastWrite:
    object_name: str
    operation: str
    result: str
    at: dt.datetime
    remote_id: str
    reason: FailureReason | None


@dataclass(frozen=True)
class VisitorWrites:
    person: Explanation
    company: Explanation
    last_write: LastWrite | None

    @property
    def sides(self) -> list[tuple[str, Explanation]]:
        return [("Person", self.person), ("Company", self.company)]


def _person_rule(v: Visitor) -> str:
    """Which value found the stored person: the lead when a lead matched (and was
    converted), else the contact; email is tried before phone."""
    matched = v.crm_lead or v.crm_contact
    if matched is None:
        return ""
    if (email := normalize_email(v.email)) and matched.email == email:
        return "email"
    if (phone := normalize_phone(v.phone)) and matched.phone == phone:
        return "phone"
    return "an earlier email or phone"


def _our_create(logs: list[WriteLog], remote_id: str) -> WriteLog | None:
    """The successful create (or upsert) by which SalesMonk made this record, if it did."""
    for log in logs:
        if (
            log.remote_id == remote_id
            and log.result == WriteResult.SUCCESS
            and log.operation in ("create", "upsert")
        ):
            return log
    return None


def _from_logs(
    logs: list[WriteLog], intent: tuple[str, str] | None, *, noun: str
) -> Explanation | None:
    """Created or failed, from the newest log of the object (else a failed intent)."""
    latest = logs[0] if logs else None
    if latest is not None and latest.result == WriteResult.SUCCESS:
        if latest.operation in ("create", "upsert"):
            return Explanation(
                "created",
                f"Created by SalesMonk as {noun}.",
                object_name=latest.object_name,
                remote_id=latest.remote_id,
                at=latest.created_at,
            )
        return None
    if latest is not None and latest.result == WriteResult.FAILED:
        reason = failure_reason(latest.error)
        return Explanation(
            "failed", f"Not written: {reason.title}.", reason=reason, at=latest.created_at
        )
    if intent is not None and intent[1]:
        reason = failure_reason(intent[1])
        return Explanation("failed", f"Not written: {reason.title}.", reason=reason)
    return None


def _person(
    v: Visitor, logs: list[WriteLog], intent: tuple[str, str] | None, on: dict[str, bool]
) -> Explanation:
    record = v.crm_contact or v.crm_lead
    if record is not None:
        kind = "Contact" if v.crm_contact else "Lead"
        rule = _person_rule(v)
        converted = (
            " (their Lead was converted to this Contact)" if v.crm_contact and v.crm_lead else ""
        )
        failed = logs[0] if logs and logs[0].result == WriteResult.FAILED else None
        name = record.name or record.email
        created = _our_create(logs, record.remote_id)
        return Explanation(
            "created" if created else "matched",
            f"Created by SalesMonk as the {kind} {name}{converted}."
            if created
            else f"Matched to the {kind} {name} by {rule}{converted}.",
            detail=(
                "SalesMonk keeps its SalesMonk fields up to date."
                if on["update_people"]
                else "Updating Contacts and Leads is off, so SalesMonk leaves this record as it is."
            ),
            object_name=kind,
            remote_id=record.remote_id,
            rule=rule,
            reason=failure_reason(failed.error) if failed else None,
            at=created.created_at if created else None,
        )
    if not v.email and not v.phone:
        return Explanation(
            "skipped", "Not identified yet: there is no email or phone to look for in Salesforce."
        )
    if found := _from_logs(logs, intent, noun="a Lead"):
        return found
    by = "email or phone" if v.email and v.phone else "email" if v.email else "phone"
    if on["create_leads"]:
        return Explanation(
            "will_create",
            f"Will be created as a Lead: no Contact or Lead has this {by}, and creating Leads "
            "is on.",
            object_name="Lead",
        )
    return Explanation(
        "skipped",
        f"Not created: no Contact or Lead has this {by}, and creating Leads is off for your "
        "workspace.",
    )


def _company(
    v: Visitor, logs: list[WriteLog], intent: tuple[str, str] | None, on: dict[str, bool]
) -> Explanation:
    account = v.crm_account
    if account is not None:
        via_contact = v.crm_contact is not None and v.crm_contact.account_id == account.pk
        rule = "the Contact's Account" if via_contact else "company domain"
        domain = f" ({v.company.domain})" if v.company and not via_contact else ""
        name = account.name or account.remote_id
        if created := _our_create(logs, account.remote_id):
            return Explanation(
                "created",
                f"Created by SalesMonk as the Account {name}{domain}.",
                object_name="Account",
                remote_id=account.remote_id,
                rule=rule,
                at=created.created_at,
            )
        return Explanation(
            "matched",
            f"Matched to the Account {name} by {rule}{domain}.",
            object_name="Account",
            remote_id=account.remote_id,
            rule=rule,
        )
    if v.company is None:
        if v.email and is_personal_email_domain(v.email):
            domain = v.email.rsplit("@", 1)[-1]
            return Explanation(
                "skipped",
                f"No company: {domain} is a free-mail address, which says nothing about where "
                "they work, so no Account is matched or created.",
                rule="free-mail",
            )
        return Explanation(
            "skipped", "No company known yet: no work email, and their network did not say."
        )
    if found := _from_logs(logs, intent, noun="an Account"):
        return found
    domain = v.company.domain
    if on["create_accounts"]:
        return Explanation(
            "will_create",
            f"Will be created as an Account: no Account has the domain {domain}, and creating "
            "Accounts is on.",
            object_name="Account",
        )
    return Explanation(
        "skipped",
        f"Not created: no Account has the domain {domain}, and creating Accounts is off for "
        "your workspace.",
    )


def visitor_write_explanation(*, tenant: Tenant, visitor: Visitor) -> VisitorWrites:
    """For the person and the company: the Salesforce record matched and by which rule,
    or why it will be created, or why it was skipped or failed; and the last write. Four
    queries: the visitor with its stored match, its write logs, its intents, the policy."""
    v = (
        Visitor.objects.for_tenant(tenant)
        .filter(pk=visitor.pk)
        .select_related("company", "crm_contact", "crm_lead", "crm_account")
        .defer("crm_contact__remote_data", "crm_lead__remote_data", "crm_account__remote_data")
        .get()
    )
    keys = Q(intent__visitor_id=v.pk)
    if v.email or v.phone:
        keys |= Q(key=person_key(v)[:120], object_name__in=["Lead", "Contact"])
    if v.company is not None:
        keys |= Q(key=f"domain:{v.company.domain}"[:120], object_name="Account")
    logs = list(
        WriteLog.objects.for_tenant(tenant)
        .filter(keys)
        .order_by("-created_at", "-id")[:VISITOR_LOGS]
    )
    intents: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for kind, status, error in (
        WriteIntent.objects.for_tenant(tenant)
        .filter(visitor_id=v.pk)
        .order_by("-updated_at", "-id")
        .values_list("kind", "status", "last_error")
    ):
        if kind not in seen and status != WriteIntent.Status.DONE:
            intents[kind] = (status, error)
        seen.add(kind)
    on = write_state(tenant=tenant).enabled
    people = [log for log in logs if log.object_name in ("Lead", "Contact")]
    accounts = [log for log in logs if log.object_name == "Account"]
    last = logs[0] if logs else None
    return VisitorWrites(
        person=_person(v, people, intents.get(IntentKind.LEAD), on),
        company=_company(v, accounts, intents.get(IntentKind.ACCOUNT), on),
        last_write=LastWrite(
            object_name=last.object_name,
            operation=last.operation,
            result=last.get_result_display(),
            at=last.created_at,
            remote_id=last.remote_id,
            reason=failure_reason(last.error) if last.result == WriteResult.FAILED else None,
        )
        if last
        else None,
    )
