"""Activities: tasks, engagements (calls, meetings, emails) and notes."""

from __future__ import annotations

from django.db import models

from crm.models.base import REMOTE_ID_LENGTH, MirrorModel, mirror_fk, owner_index, remote_ref
from salesmonk.tenants.models import TenantOwnedModel


class TaskStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    CLOSED = "CLOSED", "Closed"


class Task(MirrorModel):
    """A to-do. Salesforce's polymorphic WhoId lands in `contact` or `lead`, WhatId in
    `account` or `opportunity`; the sync decides which from the id."""

    subject = models.CharField(max_length=255, blank=True, default="")
    content = models.TextField(blank=True, default="")
    status = models.CharField(max_length=6, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    due_date = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    owner = mirror_fk("crm.User", related_name="tasks")
    owner_remote_id = remote_ref()
    account = mirror_fk("crm.Account", related_name="tasks")
    account_remote_id = remote_ref()
    opportunity = mirror_fk("crm.Opportunity", related_name="tasks")
    opportunity_remote_id = remote_ref()
    contact = mirror_fk("crm.Contact", related_name="tasks")
    contact_remote_id = remote_ref()
    lead = mirror_fk("crm.Lead", related_name="tasks")
    lead_remote_id = remote_ref()

    class Meta(MirrorModel.Meta):
        indexes = [*MirrorModel.Meta.indexes, owner_index("crm_task_owner")]

    def __str__(self) -> str:
        return self.subject or self.remote_id


class ActivityType(models.TextChoices):
    CALL = "CALL", "Call"
    MEETING = "MEETING", "Meeting"
    EMAIL = "EMAIL", "Email"


class EngagementType(MirrorModel):
    activity_type = models.CharField(max_length=7, choices=ActivityType.choices)
    name = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return self.name or self.activity_type


class Direction(models.TextChoices):
    INBOUND = "INBOUND", "Inbound"
    OUTBOUND = "OUTBOUND", "Outbound"


class Engagement(MirrorModel):
    """A call, meeting or email.

    Its people are `contacts`, a many-to-many through `EngagementContact`, whose rows keep
    the raw contact remote id beside a nullable link, exactly like any other relation: a
    contact mirrored later is linked by the same bulk resolution, and "engagements with
    this contact" is an indexed join on both databases (a JSON list could not be queried
    portably). `contact_remote_ids` keeps the list as read, so an unchanged record is
    recognised and its through rows are rebuilt only when the list changes.
    """

    subject = models.CharField(max_length=255, blank=True, default="")
    content = models.TextField(blank=True, default="")
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True, default="")
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    contact_remote_ids = models.JSONField(default=list, blank=True)
    contacts = models.ManyToManyField(
        "crm.Contact", through="crm.EngagementContact", related_name="engagements", blank=True
    )
    engagement_type = mirror_fk("crm.EngagementType", related_name="engagements")
    engagement_type_remote_id = remote_ref()
    owner = mirror_fk("crm.User", related_name="engagements")
    owner_remote_id = remote_ref()
    account = mirror_fk("crm.Account", related_name="engagements")
    account_remote_id = remote_ref()
    lead = mirror_fk("crm.Lead", related_name="engagements")
    lead_remote_id = remote_ref()

    class Meta(MirrorModel.Meta):
        indexes = [*MirrorModel.Meta.indexes, owner_index("crm_engagement_owner")]

    def __str__(self) -> str:
        return self.subject or self.remote_id


class EngagementContact(TenantOwnedModel):
    """One person of an engagement; `contact` is None until that contact is mirrored."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    contact = mirror_fk("crm.Contact", related_name="+")
    contact_remote_id = models.CharField(max_length=REMOTE_ID_LENGTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "contact_remote_id"], name="crm_engagementcontact_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.contact_remote_id


class Note(MirrorModel):
    """A note. Salesforce's polymorphic ParentId lands in one of the four parents."""

    title = models.CharField(max_length=255, blank=True, default="")
    content = models.TextField(blank=True, default="")
    owner = mirror_fk("crm.User", related_name="notes")
    owner_remote_id = remote_ref()
    account = mirror_fk("crm.Account", related_name="notes")
    account_remote_id = remote_ref()
    contact = mirror_fk("crm.Contact", related_name="notes")
    contact_remote_id = remote_ref()
    lead = mirror_fk("crm.Lead", related_name="notes")
    lead_remote_id = remote_ref()
    opportunity = mirror_fk("crm.Opportunity", related_name="notes")
    opportunity_remote_id = remote_ref()

    class Meta(MirrorModel.Meta):
        indexes = [*MirrorModel.Meta.indexes, owner_index("crm_note_owner")]

    def __str__(self) -> str:
        return self.title or self.remote_id
