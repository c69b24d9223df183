"""Slack: the incoming-webhook client that alerts post through."""
