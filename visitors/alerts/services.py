"""Slack alerts: the settings customers change (webhooks, rules), the scan that turns visits
into deliveries, and sending a delivery.

The scan never touches ingest: a scheduled task reads, per tenant, the sessions active since
the tenant's watermark (less `SCAN_OVERLAP`, so events committed late are still seen) and
evaluates every rule for the whole batch in a fixed number of queries. A delivery's unique
key (rule, visitor, session) is the deduplication — inserts that hit it do nothing, so
rescanning the overlap is harmless. Each new delivery is queued on commit; the send task
claims it with a conditional UPDATE, so a task delivered twice never posts twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations.slack import client as slack
from salesmonk.crypto import DecryptionError
from salesmonk.retry import backoff_seconds
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.selectors import manager_membership
from salesmonk.tenants.services import audit_record
from visitors.alerts import selectors
from visitors.alerts.messages import alert_message, webhook_test_message
from visitors.models import (
    AlertDelivery,
    AlertKind,
    AlertRule,
    AlertScan,
    Segment,
    Session,
    SlackWebhook,
)
from visitors.segments.selectors import segment_visitors
from visitors.tracking.selectors import visitors_in_crm

log = logging.getLogger(__name__)

SCAN_OVERLAP = dt.timedelta(minutes=5)
# Never look further back than this: after a stopped cluster, or when a tenant's alerts are
# switched back on after a pause, visits that are long over are not announced as arrivals.
SCAN_MAX_LOOKBACK = dt.timedelta(hours=1)
SCAN_BATCH = 500
# A scan holding its claim longer than this died; the next one takes over.
SCAN_CLAIM_TTL = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
BACKOFF = dt.timedelta(minutes=1)  # doubles per attempt: 1, 2, 4, 8 minutes
# A delivery "sending" for longer than this was taken by a worker that died (a post takes at
# most the client's 15 s of timeouts); it is handed out again.
SENDING_STALE = dt.timedelta(minutes=2)
# How long a pending delivery may wait past its due time before the sweep re-queues it
# (its own task is normally already queued).
SWEEP_GRACE = dt.timedelta(minutes=1)
SEND_TASK = "visitors.alerts.tasks.alert_send"
TEST_TASK = "visitors.alerts.tasks.webhook_test"
# Below django-q2's `retry`, so a slow post is never handed to a second worker while running.
SEND_TASK_TIMEOUT = 60
SCAN_TASK_TIMEOUT = 240


# --- Settings: webhooks and rules -----------------------------------------------------------


def _same_tenant(tenant: Tenant, *objects: object) -> None:
    if any(o is not None and o.tenant_id != tenant.pk for o in objects):  # type: ignore[attr-defined]
        raise PermissionDenied("That belongs to another workspace.")


@transaction.atomic
def webhook_create(*, tenant: Tenant, acting_user: User, name: str, url: str) -> SlackWebhook:
    """Add an incoming webhook. The URL is checked against `SLACK_WEBHOOK_HOSTS` and stored
    encrypted; the audit row names the webhook, never its URL (it is a secret)."""
    manager_membership(tenant=tenant, user=acting_user, to="change alerts")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the channel it posts to, e.g. #sales."})
    try:
        url = slack.webhook_url_check(url)
    except slack.InvalidWebhookUrl as exc:
        raise ValidationError({"url": str(exc)}) from exc
    webhook = SlackWebhook(tenant=tenant, name=name[:80], created_by=acting_user)
    webhook.url = url
    webhook.save()
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="alerts.webhook_added",
        target=webhook.name,
        data={"webhook_id": str(webhook.pk)},
    )
    return webhook


@transaction.atomic
def webhook_set_active(
    *, tenant: Tenant, acting_user: User, webhook: SlackWebhook, active: bool
) -> SlackWebhook:
    """Switch a webhook off (its rules stop posting) or back on (clears the reason)."""
    manager_membership(tenant=tenant, user=acting_user, to="change alerts")
    _same_tenant(tenant, webhook)
    reason = "" if active else f"Disabled by {acting_user.email}."
    SlackWebhook.objects.for_tenant(tenant).filter(pk=webhook.pk).update(
        is_active=active, disabled_reason=reason
    )
    webhook.is_active, webhook.disabled_reason = active, reason
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="alerts.webhook_enabled" if active else "alerts.webhook_disabled",
        target=webhook.name,
        data={"webhook_id": str(webhook.pk)},
    )
    return webhook


@transaction.atomic
def webhook_delete(*, tenant: Tenant, acting_user: User, webhook: SlackWebhook) -> int:
    """Delete a webhook with the rules posting to it (and their log); returns how many rules."""
    manager_membership(tenant=tenant, user=acting_user, to="change alerts")
    _same_tenant(tenant, webhook)
    rules = AlertRule.objects.for_tenant(tenant).filter(webhook=webhook).count()
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="alerts.webhook_deleted",
        target=webhook.name,
        data={"webhook_id": str(webhook.pk), "rules_deleted": rules},
    )
    SlackWebhook.objects.for_tenant(tenant).filter(pk=webhook.pk).delete()
    return rules


@transaction.atomic
def webhook_test_queue(*, tenant: Tenant, acting_user: User, webhook: SlackWebhook) -> None:
    """Queue a test message; its result shows on the webhook (`last_test_*`)."""
    manager_membership(tenant=tenant, user=acting_user, to="change alerts")
    _same_tenant(tenant, webhook)
    SlackWebhook.objects.for_tenant(tenant).filter(pk=webhook.pk).update(
        last_test_at=timezone.now(), last_test_status="queued", last_test_error=""
    )
    webhook_id = str(webhook.pk)
    transaction.on_commit(lambda: async_task(TEST_TASK, webhook_id, timeout=SEND_TASK_TIMEOUT))


def _rule_fields(
    *, tenant: Tenant, name: str, kind: str, webhook: SlackWebhook, segment: Segment | None
) -> tuple[str, Segment | None]:
    _same_tenant(tenant, webhook, segment)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the alert a name."})
    if kind not in AlertKind.values:
        raise ValidationError({"kind": "Choose what the alert is about."})
    if kind == AlertKind.SEGMENT and segment is None:
        raise ValidationError({"segment": "Choose the segment to watch."})
    return name[:120], segment if kind == AlertKind.SEGMENT else None


@transaction.atomic
def alert_rule_create(
    *,
    tenant: Tenant,
    acting_user: User,
    name: str,
    kind: str,
    webhook: SlackWebhook,
    segment: Segment | None = None,
) -> AlertRule:
    manager_membership(tenant=tenant, user=acting_user, to="change alerts")
    name, segment = _rule_fields(
        tenant=tenant, name=name, kind=kind, webhook=webhook, segment=segment
    )
    rule = AlertRule.objects.create(
        tenant=tenant,
        name=name,
        kind=kind,
        webhook=webhook,
        segment=segment,
        created_by=acting_user,
    )
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="alerts.rule_created",
        target=rule.name,
        data={"rule_id": str(rule.pk), "kind": kind, "webhook": webhook.name},
    )
    return rule


@transaction.atomic
def alert_rule_update(
    *,
    tenant: Tenant,
    acting_user: User,
    rule: AlertRule,
    name: str,
    kind: str,
    webhook: SlackWebhook,
    segment: Segment | None,
    is_active: bool,
) -> AlertRule:
    manager_membership(tenant=tenant, user=acting_user, to="change alerts")
    _same_tenant(tenant, rule)
    name, segment = _rule_fields(
        tenant=tenant, name=name, kind=kind, webhook=webhook, segment=segment
    )
    rule.name, rule.kind, rule.webhook, rule.segment = name, kind, webhook, segment
    rule.is_active = is_active
    rule.save(update_fields=["name", "kind", "webhook", "segment", "is_active"])
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="alerts.rule_updated",
        target=rule.name,
        data={"rule_id": str(rule.pk), "kind": kind, "active": is_active},
    )
    return rule


@transaction.atomic
def alert_rule_delete(*, tenant: Tenant, acting_user: User, rule: AlertRule) -> None:
    manager_membership(tenant=tenant, user=acting_user, to="change alerts")
    _same_tenant(tenant, rule)
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="alerts.rule_deleted",
        target=rule.name,
        data={"rule_id": str(rule.pk)},
    )
    AlertRule.objects.for_tenant(tenant).filter(pk=rule.pk).delete()


# --- The scan --------------------------------------------------------------------------------


class AlertScanSkipped(Exception):
    """Another scan of this tenant is running."""


@dataclass
class ScanResult:
    sessions: int = 0
    batches: int = 0
    deliveries: list[int] = field(default_factory=list)


def alerts_scan(*, tenant: Tenant) -> ScanResult:
    """Turn the tenant's recent sessions into deliveries and queue them. Safe to run twice:
    a second scan of a tenant skips while the first holds the claim, and one after it only
    finds deliveries that already exist."""
    AlertScan.objects.bulk_create([AlertScan(tenant=tenant)], ignore_conflicts=True)
    started = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=started - SCAN_CLAIM_TTL)
    if AlertScan.objects.filter(free, tenant=tenant).update(claimed_at=started) != 1:
        raise AlertScanSkipped(f"An alert scan of {tenant.pk} is running.")
    ours = AlertScan.objects.filter(tenant=tenant, claimed_at=started)
    result = ScanResult()
    try:
        scanned_until = AlertScan.objects.values_list("scanned_until", flat=True).get(tenant=tenant)
        since = max((scanned_until or started) - SCAN_OVERLAP, started - SCAN_MAX_LOOKBACK)
        rules = selectors.active_rules(tenant=tenant)
        after = None
        while rules:
            batch = selectors.sessions_active_since(
                tenant=tenant, since=since, until=started, after=after, limit=SCAN_BATCH
            )
            if not batch:
                break
            result.sessions += len(batch)
            result.batches += 1
            result.deliveries += _deliveries_record(tenant=tenant, rules=rules, batch=batch)
            if len(batch) < SCAN_BATCH:
                break
            after = (batch[-1].last_event_at, batch[-1].pk)
    except BaseException:
        ours.update(claimed_at=None)
        raise
    ours.update(claimed_at=None, scanned_until=started)
    return result


def _matching_rules(
    *, tenant: Tenant, rules: list[AlertRule], batch: list[Session], in_crm: dict
) -> list[tuple[AlertRule, Session]]:
    """Which rule fires for which session: owner rules on the CRM answer, segment rules on
    one membership query per rule over the batch's visitors."""
    visitor_ids = {s.visitor_id for s in batch}
    members: dict[uuid.UUID, set[uuid.UUID]] = {}
    for rule in rules:
        if rule.kind == AlertKind.SEGMENT and rule.segment is not None:
            members[rule.pk] = _segment_members(tenant, rule.segment, visitor_ids)
    matches = []
    for session in batch:
        info = in_crm.get(session.visitor_id)
        for rule in rules:
            if rule.kind == AlertKind.OWNED_ACCOUNT:
                fires = info is not None and info.owner is not None
            else:
                fires = session.visitor_id in members.get(rule.pk, set())
            if fires:
                matches.append((rule, session))
    return matches


def _segment_members(
    tenant: Tenant, segment: Segment, visitor_ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Filters naming "me" match nobody here: an alert has no viewing member."""
    return set(
        segment_visitors(tenant=tenant, segment=segment, member=None)
        .filter(pk__in=visitor_ids)
        .values_list("pk", flat=True)
    )


def _deliveries_record(
    *, tenant: Tenant, rules: list[AlertRule], batch: list[Session]
) -> list[int]:
    visitors = list({s.visitor_id: s.visitor for s in batch}.values())
    in_crm = visitors_in_crm(tenant=tenant, visitors=visitors, opportunities=False)
    matches = _matching_rules(tenant=tenant, rules=rules, batch=batch, in_crm=in_crm)
    if not matches:
        return []
    done = selectors.delivery_keys(tenant=tenant, session_ids={s.pk for _, s in matches})
    matches = [(r, s) for r, s in matches if (r.pk, s.visitor_id, s.pk) not in done]
    if not matches:
        return []
    pages = selectors.session_pages(tenant=tenant, session_ids={s.pk for _, s in matches})
    owner_ids = {info.owner.pk for info in in_crm.values() if info.owner is not None}
    slack_ids = selectors.owner_slack_ids(tenant=tenant, owner_ids=owner_ids)
    now = timezone.now()
    rows = []
    for rule, session in matches:
        info = in_crm.get(session.visitor_id)
        owner = info.owner if info else None
        message = alert_message(
            rule=rule,
            visitor=session.visitor,
            in_crm=info,
            pages=pages.get(session.pk, []),
            owner_slack_id=slack_ids.get(owner.pk) if owner else None,
        )
        rows.append(
            AlertDelivery(
                tenant=tenant,
                rule=rule,
                visitor_id=session.visitor_id,
                session=session,
                text=message.text,
                blocks=message.blocks,
                next_attempt_at=now,
            )
        )
    with transaction.atomic():
        AlertDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        new_ids = list(
            AlertDelivery.objects.for_tenant(tenant)
            .filter(
                session_id__in={s.pk for _, s in matches},
                rule_id__in={r.pk for r, _ in matches},
                status=AlertDelivery.Status.PENDING,
                attempts=0,
            )
            .values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: _queue_sends(new_ids))
    return new_ids


def _queue_sends(delivery_ids: Iterable[int]) -> None:
    for delivery_id in delivery_ids:
        async_task(SEND_TASK, delivery_id, timeout=SEND_TASK_TIMEOUT)


def alert_deliveries_requeue() -> int:
    """Hand out again what was left behind: deliveries whose worker died while sending, and
    pending ones past their due time (retries after a backoff, lost tasks)."""
    now = timezone.now()
    AlertDelivery.objects.filter(
        status=AlertDelivery.Status.SENDING, claimed_at__lt=now - SENDING_STALE
    ).update(status=AlertDelivery.Status.PENDING, claimed_at=None, next_attempt_at=now)
    due = selectors.deliveries_due(before=now - SWEEP_GRACE)
    _queue_sends(due)
    return len(due)


# --- Sending ---------------------------------------------------------------------------------


def _backoff(attempts: int, retry_after: float | None) -> dt.timedelta:
    return dt.timedelta(
        seconds=backoff_seconds(attempts, first=BACKOFF.total_seconds(), at_least=retry_after)
    )


def alert_delivery_send(*, delivery_id: int) -> str:
    """Post one delivery; returns its status afterwards ("skipped" when another task has it,
    it is done, or its retry is not due). No transaction is open during the post."""
    now = timezone.now()
    claimed = (
        AlertDelivery.objects.filter(pk=delivery_id, status=AlertDelivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=AlertDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if claimed != 1:
        return "skipped"
    delivery = AlertDelivery.objects.select_related("rule__webhook").get(pk=delivery_id)
    ours = AlertDelivery.objects.filter(
        pk=delivery_id, status=AlertDelivery.Status.SENDING, claimed_at=now
    )
    webhook = delivery.rule.webhook
    if not webhook.is_active or not delivery.rule.is_active:
        what = "webhook" if not webhook.is_active else "alert"
        ours.update(status=AlertDelivery.Status.FAILED, last_error=f"The {what} is switched off.")
        return AlertDelivery.Status.FAILED
    try:
        slack.webhook_post(webhook.url, text=delivery.text, blocks=delivery.blocks)
    except slack.SlackRetryableError as exc:
        if delivery.attempts >= MAX_ATTEMPTS:
            ours.update(status=AlertDelivery.Status.FAILED, last_error=f"{exc} (gave up)")
            return AlertDelivery.Status.FAILED
        ours.update(
            status=AlertDelivery.Status.PENDING,
            claimed_at=None,
            last_error=str(exc),
            next_attempt_at=timezone.now() + _backoff(delivery.attempts, exc.retry_after),
        )
        return AlertDelivery.Status.PENDING
    except (slack.SlackPermanentError, DecryptionError) as exc:
        ours.update(status=AlertDelivery.Status.FAILED, last_error=str(exc))
        if getattr(exc, "webhook_dead", False) or isinstance(exc, DecryptionError):
            _webhook_deactivate(webhook, reason=str(exc))
        return AlertDelivery.Status.FAILED
    ours.update(status=AlertDelivery.Status.SENT, sent_at=timezone.now(), last_error="")
    return AlertDelivery.Status.SENT


def _webhook_deactivate(webhook: SlackWebhook, *, reason: str) -> None:
    """Slack says the webhook is gone: stop using it, and say why on the alerts page."""
    with transaction.atomic():
        changed = SlackWebhook.objects.filter(pk=webhook.pk, is_active=True).update(
            is_active=False, disabled_reason=reason[:255]
        )
        if changed:
            audit_record(
                tenant=webhook.tenant,
                actor=None,
                action="alerts.webhook_deactivated",
                target=webhook.name,
                data={"webhook_id": str(webhook.pk), "reason": reason[:255]},
            )
    log.warning("Slack webhook %s deactivated: %s", webhook.pk, reason)


def webhook_test_send(*, webhook_id: uuid.UUID | str) -> str:
    """Post the test message and record the result on the webhook."""
    webhook = SlackWebhook.objects.select_related("tenant").filter(pk=webhook_id).first()
    if webhook is None:
        return "skipped"
    message = webhook_test_message(webhook_name=webhook.name)
    status, error = "ok", ""
    try:
        slack.webhook_post(webhook.url, text=message.text, blocks=message.blocks)
    except (slack.SlackError, DecryptionError) as exc:
        status, error = "failed", str(exc)
        if getattr(exc, "webhook_dead", False):
            _webhook_deactivate(webhook, reason=error)
    SlackWebhook.objects.filter(pk=webhook.pk).update(
        last_test_at=timezone.now(), last_test_status=status, last_test_error=error[:255]
    )
    return status
