"""Which mirrored Salesforce user each SalesMonk member is.

"Owned by me" segments and owner alerts go from a Salesforce owner to a person who can log in
here. Rows are matched automatically by email; a person can set one by hand, and a manual
choice is never overwritten by auto-matching.
"""

from __future__ import annotations

from django.db import models

from crm.models.people import User
from salesmonk.tenants.models import Membership, TenantOwnedModel


class MemberLink(TenantOwnedModel):
    id = models.BigAutoField(primary_key=True)
    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="salesforce_link"
    )
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="member_links"
    )
    is_manual = models.BooleanField(
        default=False, help_text="Chosen by a person; auto-matching by email leaves it alone."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "user"], name="crm_memberlink_user")]

    def __str__(self) -> str:
        return f"{self.membership_id} → {self.user_id or 'nobody'}"
