"""Signals of the CRM mirror, for apps that keep data derived from it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent (after commit) when a read sync finished having created, updated, deleted or merged
# mirrored records. Argument: `tenant_id`.
crm_mirror_changed = Signal()
