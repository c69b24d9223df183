"""Which writes to the tenant's Salesforce are enabled: the switch support staff turn on
after consulting the customer (the write-back work adds the admin action and its audit).

Tracking reads it to decide which write intents to record; with no row, nothing is written.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from salesmonk.tenants.models import Tenant


class WritePolicy(models.Model):
    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="write_policy")
    create_accounts = models.BooleanField(default=False)
    create_leads = models.BooleanField(default=False)
    update_people = models.BooleanField(
        default=False, help_text="Update SalesMonk fields (sessions, last seen, UTM) on people."
    )
    log_meetings = models.BooleanField(default=False)
    log_chats = models.BooleanField(default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "write policies"

    def __str__(self) -> str:
        return f"Write policy of {self.tenant}"
