"""Alerts: level events that match a rule, pushed to webhooks (signed, retried, in order)."""
