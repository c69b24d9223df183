"""Salesforce connections, API usage, and the runs and watermarks of the read sync."""

from __future__ import annotations

import uuid

from django.db import models

from salesmonk.crypto import decrypt_str, encrypt_str
from salesmonk.tenants.models import Tenant, TenantOwnedModel

PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_LOGIN_URL = "https://test.salesforce.com"


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
    DISCONNECTED = "disconnected", "Disconnected"


class PipelineSource(models.TextChoices):
    """What SalesMonk shows as an opportunity's "pipeline"."""

    RECORD_TYPE = "record_type", "Opportunity record type"
    FORECAST_CATEGORY = "forecast_category", "Forecast category"


class SalesforceConnection(models.Model):
    """A tenant's link to its Salesforce org. Tokens are encrypted at rest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="salesforce_connection"
    )
    login_url = models.URLField(default=PRODUCTION_LOGIN_URL)
    instance_url = models.URLField(blank=True)
    org_id = models.CharField(max_length=18, blank=True)
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    # The Salesforce user who connected: the default owner of what SalesMonk creates.
    installer_remote_id = models.CharField(max_length=18, blank=True)
    installer_username = models.CharField(max_length=255, blank=True)
    installer_name = models.CharField(max_length=255, blank=True)
    installer_email = models.EmailField(blank=True)
    installer_is_admin = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    api_daily_budget = models.PositiveIntegerField(
        default=10_000, help_text="Most Salesforce API calls SalesMonk may make per UTC day."
    )
    read_reserve_percent = models.PositiveSmallIntegerField(
        default=20, help_text="Share of the daily budget kept for writes: reads stop before it."
    )
    sync_interval_minutes = models.PositiveSmallIntegerField(default=5)
    pipeline_source = models.CharField(
        max_length=20, choices=PipelineSource.choices, default=PipelineSource.RECORD_TYPE
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    # What the org's describes said, stored so pages never call Salesforce: object name →
    # SalesMonk custom fields it lacks (null: not checked yet). Refreshed in the background
    # on connect and after every read sync (`services.connection_describe_refresh`).
    salesmonk_fields_missing = models.JSONField(null=True, blank=True)
    describe_checked_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    # Set while a sync runs, cleared when it ends: two syncs of one tenant never overlap.
    sync_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant__name"]

    def __str__(self) -> str:
        return f"Salesforce for {self.tenant} ({self.get_status_display()})"

    @property
    def access_token(self) -> str:
        return decrypt_str(self.access_token_encrypted) if self.access_token_encrypted else ""

    @access_token.setter
    def access_token(self, value: str) -> None:
        self.access_token_encrypted = encrypt_str(value) if value else ""

    @property
    def refresh_token(self) -> str:
        return decrypt_str(self.refresh_token_encrypted) if self.refresh_token_encrypted else ""

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = encrypt_str(value) if value else ""

    @property
    def is_sandbox(self) -> bool:
        return self.login_url.rstrip("/") == SANDBOX_LOGIN_URL


class ApiUsageDay(TenantOwnedModel):
    """Salesforce API calls SalesMonk made for a tenant on one UTC day, and what the org said
    of its whole allocation (`Sforce-Limit-Info`) at the last call."""

    day = models.DateField()
    calls = models.PositiveIntegerField(default=0)
    read_calls = models.PositiveIntegerField(default=0)
    org_used = models.PositiveIntegerField(null=True, blank=True)
    org_limit = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="api_usage_one_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.calls} calls"


class SyncKind(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PAUSED = "paused", "Paused (API budget)"
    FAILED = "failed", "Failed"


class SyncRun(TenantOwnedModel):
    """One read sync of a tenant: what it did per object, what it cost, how it ended."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=12, choices=SyncKind.choices)
    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-started_at"], name="syncrun_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class SyncState(TenantOwnedModel):
    """Where the read sync of one Salesforce object stands for a tenant.

    The watermark is the (SystemModstamp, Id) of the last row mirrored: the next incremental
    read asks for `SystemModstamp >= watermark` and skips ids up to the tie-break, so rows
    sharing a timestamp at a page boundary are never lost.
    """

    object_name = models.CharField(max_length=80)
    watermark = models.DateTimeField(null=True, blank=True)
    watermark_id = models.CharField(max_length=18, blank=True)
    # End of the last getUpdated/getDeleted window checked: the next poll starts there.
    changes_checked_until = models.DateTimeField(null=True, blank=True)
    # Set while a full read of the object is under way (it may span runs).
    full_started_at = models.DateTimeField(null=True, blank=True)
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    fields = models.JSONField(default=list, blank=True, help_text="Fields read, from describe.")

    class Meta:
        ordering = ["object_name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "object_name"], name="syncstate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.object_name} @ {self.watermark}"


from integrations.write.models import (  # noqa: E402, F401  (the write-back's models)
    CreatedRecord,
    FailedIntent,
    FieldMapping,
    TenantWrites,
    WriteLog,
    WriteRun,
    WriteSettings,
)
