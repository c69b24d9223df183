"""Opportunities and the stages of their pipeline."""

from __future__ import annotations

from django.db import models

from crm.models.base import MirrorModel, mirror_fk, owner_index, remote_ref


class Stage(MirrorModel):
    """An opportunity stage (Salesforce OpportunityStage)."""

    name = models.CharField(max_length=255, blank=True, default="")
    is_closed = models.BooleanField(default=False)
    is_won = models.BooleanField(default=False)
    probability = models.PositiveSmallIntegerField(null=True, blank=True, help_text="percent")
    sort_order = models.IntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name or self.remote_id


class OpportunityStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    WON = "WON", "Won"
    LOST = "LOST", "Lost"


class Opportunity(MirrorModel):
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    pipeline = models.CharField(
        max_length=255, blank=True, default="", help_text="Record type or forecast category."
    )
    status = models.CharField(
        max_length=4, choices=OpportunityStatus.choices, default=OpportunityStatus.OPEN
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)
    stage = mirror_fk("crm.Stage", related_name="opportunities")
    stage_remote_id = remote_ref()
    owner = mirror_fk("crm.User", related_name="opportunities")
    owner_remote_id = remote_ref()
    account = mirror_fk("crm.Account", related_name="opportunities")
    account_remote_id = remote_ref()

    class Meta(MirrorModel.Meta):
        verbose_name_plural = "opportunities"
        indexes = [*MirrorModel.Meta.indexes, owner_index("crm_opportunity_owner")]

    def __str__(self) -> str:
        return self.name or self.remote_id
