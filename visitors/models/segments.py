"""Saved filters over visitors and companies, and the tenant's rule for "current customer"."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from salesmonk.tenants.models import Tenant, TenantOwnedModel


class CustomerRule(models.Model):
    """What makes a company a current customer, so lists can hide them. With no row the
    default applies: an account with a won opportunity."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="customer_rule")
    account_types = models.JSONField(
        default=list,
        blank=True,
        help_text='Account "Type" values that mean customer, e.g. ["Customer - Direct"].',
    )
    won_opportunity = models.BooleanField(
        default=True, help_text="An account with a won opportunity is a customer."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Customer rule of {self.tenant}"


class SegmentTarget(models.TextChoices):
    VISITORS = "visitors", "Visitors"
    COMPANIES = "companies", "Companies"


class Segment(TenantOwnedModel):
    """A named, saved filter. `filters` is validated by `visitors.segments.filters` before
    saving."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    target = models.CharField(
        max_length=10, choices=SegmentTarget.choices, default=SegmentTarget.VISITORS
    )
    filters = models.JSONField(default=dict, blank=True)
    exclude_customers = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="visitors_segment_name"),
        ]

    def __str__(self) -> str:
        return self.name
