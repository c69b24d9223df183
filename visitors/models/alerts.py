"""Slack alerts: where to post, which arrivals to post about, and what was posted."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from salesmonk.crypto import decrypt_str, encrypt_str
from salesmonk.tenants.models import TenantOwnedModel
from visitors.models.segments import Segment
from visitors.models.tracking import Session, Visitor


class SlackWebhook(TenantOwnedModel):
    """A Slack incoming webhook (one channel). The URL is a secret: encrypted at rest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80, help_text='The channel it posts to, e.g. "#sales".')
    url_encrypted = models.TextField()
    is_active = models.BooleanField(default=True)
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
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    text = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
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
        indexes = [models.Index(fields=["tenant", "-created_at"], name="visitors_alert_log")]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.visitor_id} ({self.status})"
