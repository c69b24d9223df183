"""Tracking: sites and their keys, the ingest endpoint and its hot path (payload, group
writer, sessions), visitors and their identities, companies (from IP and email domain) and
the write intents recorded for the outbox. Everything else in the app reads what this writes."""
