"""Slack alerts: where to post, which arrivals to post about, and what was posted."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from salesmonk.crypto import decrypt_str, encrypt_str
from salesmonk.tenants.models import Tenant, TenantOwnedModel
from visitors.models.segments import Segment
from visitors.models.tracking import Session, Visitor


class SlackWebhook(TenantOwnedModel):
    """A Slack incoming webhook (one channel). The URL is a secret: encrypted at rest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80, help_text='The channel it posts to, e.g. "#sales".')
    url_encrypted = models.TextField()
    is_active = models.BooleanField(default=True)
    # Why it stopped posting, shown on the alerts page (e.g. Slack said the webhook is gone).
    disabled_reason = models.CharField(max_length=255, blank=True, default="")
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_status = models.CharField(max_length=8, blank=True, default="")
    last_test_error = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return decrypt_str(self.url_encrypted) if self.url_encrypted else ""

    @url.setter
    def url(self, value: str) -> None:
        self.url_encrypted = encrypt_str(value) if value else ""


class AlertKind(models.TextChoices):
    OWNED_ACCOUNT = "owned_account", "An account with an owner visits (mention the owner)"
    SEGMENT = "segment", "A visitor in a segment arrives"


class AlertRule(TenantOwnedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules"
    )
    webhook = models.ForeignKey(SlackWebhook, on_delete=models.CASCADE, related_name="rules")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="segment") | models.Q(segment__isnull=False),
                name="visitors_alertrule_segment_needed",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(TenantOwnedModel):
    """One alert about one visitor's session. The unique key is the deduplication: a rule
    posts about a visitor at most once per session, however many events the session has."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    text = models.TextField(blank=True, default="")
    # The Slack message as built when the visit was seen (later changes do not rewrite it).
    blocks = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    # A pending delivery waits until then before its next attempt (backoff, Retry-After).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a send task took it (status "sending"); a stale claim means that worker died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "visitor", "session"], name="visitors_alert_once_per_session"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="visitors_alert_log"),
            models.Index(fields=["rule", "-created_at"], name="visitors_alert_rule_recent"),
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="visitors_alert_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.visitor_id} ({self.status})"


class AlertScan(models.Model):
    """Where a tenant's alert scan got to. Each scan reads the sessions active since
    `scanned_until` (less an overlap, so events committed late are still seen) and moves it to
    the time the scan started; `claimed_at` keeps two scans of one tenant from running at once."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="alert_scan")
    scanned_until = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Alert scan of {self.tenant_id} until {self.scanned_until}"
