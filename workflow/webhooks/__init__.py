"""Webhooks: a body's subscriptions to its case events, signed per Standard Webhooks and
delivered from the outbox by the scheduler (docs/webhooks.md)."""
