"""Slack alerts: webhooks, rules, the every-minute scan, the messages and the delivery log.
Posting goes through the one Slack client, `integrations/slack/client.py`."""
