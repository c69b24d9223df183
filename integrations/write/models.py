"""What the write-back keeps: per-tenant write settings and field maps, its runs, and the
write log (one row per record written, sent before the call and settled after it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from salesmonk.tenants.models import Tenant, TenantOwnedModel
from visitors.models import WriteIntent

SF_OBJECTS = (("Account", "Account"), ("Contact", "Contact"), ("Lead", "Lead"))


class WriteSettings(models.Model):
    """Who owns the leads we create, what LeadSource they carry, and the drain's claim."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="write_settings")
    default_lead_owner_remote_id = models.CharField(
        max_length=18, blank=True, default="", help_text="Blank: the user who connected."
    )
    lead_source = models.CharField(max_length=40, default="SalesMonk")
    # Set while a drain runs: two drains of one tenant never overlap.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set when a drain hit an API limit: not dispatched again before then.
    paused_until = models.DateTimeField(null=True, blank=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "write settings"

    def __str__(self) -> str:
        return f"Write settings of {self.tenant}"


class SyncRule(models.TextChoices):
    ALWAYS = "always", "Always overwrite"
    ONLY_BLANK = "only_blank", "Only fill blanks"
    NEVER = "never", "Never"


class FieldMapping(TenantOwnedModel):
    """A SalesMonk attribute written to a Salesforce field of one object, validated against
    the org's describe when saved."""

    id = models.BigAutoField(primary_key=True)
    object_name = models.CharField(max_length=20, choices=SF_OBJECTS)
    attribute = models.CharField(max_length=40)
    sf_field = models.CharField(max_length=80)
    rule = models.CharField(max_length=10, choices=SyncRule.choices, default=SyncRule.ALWAYS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object_name", "sf_field"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "object_name", "sf_field"], name="fieldmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attribute} → {self.object_name}.{self.sf_field} ({self.rule})"


class WriteRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PAUSED = "paused", "Paused (API budget)"
    FAILED = "failed", "Failed"
    # The worker died mid-run (its claim's heartbeat stopped): found and closed by the next
    # drain or dispatch, so no run stays "running" forever.
    ABANDONED = "abandoned", "Abandoned (worker stopped)"


class WriteRun(TenantOwnedModel):
    """One drain of a tenant's write intents (or a dry run of one)."""

    id = models.BigAutoField(primary_key=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=WriteRunStatus.choices, default=WriteRunStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    plan = models.JSONField(default=list, blank=True, help_text="Dry runs: what would be written.")
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        kind = "Dry run" if self.dry_run else "Write run"
        return f"{kind} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class WriteResult(models.TextChoices):
    SENT = "sent", "Sent (answer not recorded)"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    # The answer was lost (crash, timeout, 5xx); a later lookup by our key or marker found
    # the record (its Id is kept) or proved it absent (the intent writes it again).
    RECONCILED = "reconciled", "Reconciled after a lost answer"


# Results after which a log row never changes again.
FINAL_RESULTS = (
    WriteResult.SUCCESS,
    WriteResult.FAILED,
    WriteResult.SKIPPED,
    WriteResult.RECONCILED,
)


class WriteLog(TenantOwnedModel):
    """One record written to Salesforce. Written as SENT before the call and settled after
    it, so a crash in between leaves a trace the next run re-checks in Salesforce."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(WriteRun, on_delete=models.CASCADE, related_name="logs")
    intent = models.ForeignKey(
        "visitors.WriteIntent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_name = models.CharField(max_length=40)
    remote_id = models.CharField(max_length=18, blank=True, default="")
    operation = models.CharField(max_length=10)  # create, update, upsert
    key = models.CharField(
        max_length=120, blank=True, default="", help_text="Dedupe key: email, domain, meeting…"
    )
    fields_before = models.JSONField(default=dict, blank=True)
    fields_after = models.JSONField(default=dict, blank=True)
    result = models.CharField(max_length=10, choices=WriteResult.choices)
    error = models.TextField(blank=True, default="")
    owner_rule = models.CharField(max_length=20, blank=True, default="")
    api_call = models.PositiveSmallIntegerField(
        default=0, help_text="Which API call of the run carried it (one call, many records)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "object_name", "remote_id"], name="writelog_record"),
            models.Index(fields=["tenant", "key", "result"], name="writelog_key"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.object_name} {self.remote_id or self.key} ({self.result})"


class CreatedRecord(WriteLog):
    """Support's list of the Accounts and Leads SalesMonk created (a view of the log)."""

    class Meta:
        proxy = True
        verbose_name = "SalesMonk-created record"


class TenantWrites(Tenant):
    """Support's list of every tenant with its write enablement (a view of tenants)."""

    class Meta:
        proxy = True
        verbose_name = "write enablement"
        verbose_name_plural = "write enablement"


class FailedIntent(WriteIntent):
    """Support's view of the write outbox: failed and stuck intents, with a retry action."""

    class Meta:
        proxy = True
        verbose_name = "write intent"
