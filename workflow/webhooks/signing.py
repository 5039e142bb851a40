"""Signatures per the Standard Webhooks specification, made by its reference library."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def headers(secret: str, webhook_id: str, moment: datetime, body: str) -> dict[str, str]:
    """The three headers a receiver verifies: id, timestamp (whole seconds) and signature
    (`v1,` base64 HMAC-SHA256 of `id.timestamp.body`)."""
    moment = moment.astimezone(UTC)
    signature = Webhook(secret).sign(webhook_id, moment, body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }
