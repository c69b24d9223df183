"""Salesforce connections, sync runs, write intents and the write log."""
