"""CRM users, accounts (companies) and the people we match visitors to: contacts and leads."""

from __future__ import annotations

from django.db import models

from crm.models.base import LIVE, ContactPoints, MirrorModel, mirror_fk, owner_index, remote_ref


class User(MirrorModel):
    """A user of the tenant's CRM (a record owner), not someone who logs in to SalesMonk."""

    name = models.CharField(max_length=255, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta(MirrorModel.Meta):
        verbose_name = "CRM user"
        indexes = [
            *MirrorModel.Meta.indexes,
            models.Index(fields=["tenant", "email"], name="crm_user_email"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.remote_id


class Account(MirrorModel):
    """A company. `domain` is the registrable domain of `website`, the key visitors match on."""

    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    industry = models.CharField(max_length=255, blank=True, default="")
    website = models.CharField(max_length=255, blank=True, default="")
    domain = models.CharField(max_length=253, blank=True, default="")
    type = models.CharField(max_length=255, blank=True, default="", help_text='e.g. "Customer"')
    number_of_contacts = models.PositiveIntegerField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    phone_numbers = models.JSONField(default=list, blank=True)
    owner = mirror_fk("crm.User", related_name="accounts")
    owner_remote_id = remote_ref()
    created_by_salesmonk = models.BooleanField(default=False)

    class Meta(MirrorModel.Meta):
        indexes = [
            *MirrorModel.Meta.indexes,
            owner_index("crm_account_owner"),
            models.Index(fields=["tenant", "domain"], name="crm_account_domain", condition=LIVE),
        ]

    def __str__(self) -> str:
        return self.name or self.remote_id


class Contact(ContactPoints, MirrorModel):
    account = mirror_fk("crm.Account", related_name="contacts")
    account_remote_id = remote_ref()
    owner = mirror_fk("crm.User", related_name="contacts")
    owner_remote_id = remote_ref()

    class Meta(MirrorModel.Meta):
        indexes = [
            *MirrorModel.Meta.indexes,
            owner_index("crm_contact_owner"),
            models.Index(fields=["tenant", "email"], name="crm_contact_email", condition=LIVE),
            models.Index(fields=["tenant", "phone"], name="crm_contact_phone", condition=LIVE),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.remote_id


class Lead(ContactPoints, MirrorModel):
    """A prospect. A lead owned by a queue keeps `owner=None` and the queue's id in
    `owner_remote_id`; a converted lead points to the contact and account it became."""

    company = models.CharField(max_length=255, blank=True, default="")
    lead_status = models.CharField(max_length=255, blank=True, default="")
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_contact = mirror_fk("crm.Contact", related_name="converted_leads")
    converted_contact_remote_id = remote_ref()
    converted_account = mirror_fk("crm.Account", related_name="converted_leads")
    converted_account_remote_id = remote_ref()
    owner = mirror_fk("crm.User", related_name="leads")
    owner_remote_id = remote_ref()

    class Meta(MirrorModel.Meta):
        indexes = [
            *MirrorModel.Meta.indexes,
            owner_index("crm_lead_owner"),
            models.Index(fields=["tenant", "email"], name="crm_lead_email", condition=LIVE),
            models.Index(fields=["tenant", "phone"], name="crm_lead_phone", condition=LIVE),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.remote_id
