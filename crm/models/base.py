"""What every mirrored record has: our id, the tenant, the remote id and the raw record."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

from salesmonk.tenants.models import TenantOwnedModel

REMOTE_ID_LENGTH = 18  # Salesforce's case-safe Id


def remote_ref(help_text: str = "") -> models.CharField:
    """The raw remote id of a related record, kept even while that record is not mirrored
    (so the link can be resolved later) and after it is ("" when there is none)."""
    return models.CharField(
        max_length=REMOTE_ID_LENGTH, blank=True, default="", help_text=help_text
    )


def mirror_fk(to: str, related_name: str) -> Any:
    """A link to another mirrored record. Nullable: the parent may not be mirrored yet, and
    a mirror row must never disappear because a parent did."""
    return models.ForeignKey(
        to, null=True, blank=True, on_delete=models.SET_NULL, related_name=related_name
    )


class MirrorModel(TenantOwnedModel):
    """A record read from the tenant's CRM. Written only by `crm.services`.

    Every relation is a pair: a nullable foreign key `<rel>` to the mirrored row and the raw
    `<rel>_remote_id`. `crm.services` discovers relations from that naming convention.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    remote_id = models.CharField(max_length=REMOTE_ID_LENGTH)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="SystemModstamp of the record we read."
    )
    remote_was_deleted = models.BooleanField(default=False)
    remote_data = models.JSONField(default=dict, blank=True, help_text="The raw record we read.")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "remote_id"], name="%(app_label)s_%(class)s_remote_uniq"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "remote_updated_at"], name="%(app_label)s_%(class)s_upd"
            ),
            # The unified API pages through a tenant's records in (created_at, id) order.
            models.Index(
                fields=["tenant", "created_at", "id"], name="%(app_label)s_%(class)s_page"
            ),
        ]

    def __str__(self) -> str:
        return self.remote_id


LIVE = models.Q(remote_was_deleted=False)


def owner_index(name: str) -> models.Index:
    return models.Index(fields=["tenant", "owner"], name=name)


class ContactPoints(models.Model):
    """Addresses, emails and phones in Merge's list shape, plus the normalized columns we
    match on (`email` lower-cased, `phone` in E.164)."""

    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    title = models.CharField(max_length=255, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="")
    lead_source = models.CharField(max_length=255, blank=True, default="")
    email_addresses = models.JSONField(
        default=list, blank=True, help_text='[{"email_address": …, "email_address_type": …}]'
    )
    phone_numbers = models.JSONField(
        default=list, blank=True, help_text='[{"phone_number": …, "phone_number_type": …}]'
    )
    addresses = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"street_1", "street_2", "city", "state", "postal_code", "country", '
        '"address_type"}]',
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)
    created_by_salesmonk = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
