"""API keys of the unified CRM API: one tenant each, stored as a hash and shown only once."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from salesmonk.tenants.models import TenantOwnedModel


class ApiKey(TenantOwnedModel):
    """A bearer key for `/api/crm/v1/`. Only the SHA-256 of the key is stored: the keys are
    256-bit random tokens, so a fast hash is enough and lets a request find its key with one
    indexed lookup. `prefix` (the first characters) lets people tell keys apart."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "API key"
        indexes = [models.Index(fields=["tenant", "-created_at"], name="crm_apikey_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
