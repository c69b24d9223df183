"""Every write of visitor data goes through these functions (tenant first, keyword-only)."""

from visitors.services.ingest import events_record
from visitors.services.intents import enabled_intent_kinds, intents_record
from visitors.services.people import (
    chat_message_record,
    companies_for_domains,
    meeting_record,
    visitor_identify,
    visitors_merge,
)
from visitors.services.sites import ip_ranges_load, site_create

__all__ = [
    "chat_message_record",
    "companies_for_domains",
    "enabled_intent_kinds",
    "events_record",
    "intents_record",
    "ip_ranges_load",
    "meeting_record",
    "site_create",
    "visitor_identify",
    "visitors_merge",
]
