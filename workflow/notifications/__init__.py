"""Notifications: delivery over SMTP, digests, the in-app inbox and what observers are told."""
