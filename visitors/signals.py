"""Signals of visitor tracking, for the apps that act on its outbox."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit when write intents were recorded for a tenant, so the write sync can
# start now rather than at its next scheduled tick. Argument: `tenant_id`.
write_intents_recorded = Signal()
