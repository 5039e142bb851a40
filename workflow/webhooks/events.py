"""The event types a subscription chooses from, and the payload each delivery carries."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

CREATED = "case.created"
TRANSITIONED = "case.transitioned"
UPDATED = "case.updated"
EVENT_TYPES = (CREATED, TRANSITIONED, UPDATED)
# What each type means, for the admin page and the API's document.
DESCRIPTIONS = {
    CREATED: ("En sag er oprettet.", "A case was created."),
    TRANSITIONED: ("En sag har skiftet tilstand.", "A case changed state."),
    UPDATED: (
        "En sag er ændret uden at skifte tilstand (redigeret, bilag, høring, møde …).",
        "A case changed without changing state (edited, attachment, consultation, meeting …).",
    ),
}


def event_type(trigger: str, from_state: str | None, to_state: str) -> str:
    """The type of a case event: created, a change of state, or another change."""
    if from_state is None or trigger == "create":
        return CREATED
    if from_state != to_state:
        return TRANSITIONED
    return UPDATED


def webhook_id(event_id: int, subscription_id: int) -> str:
    """The Standard Webhooks message id: one per event × subscription, the same on retries."""
    return f"msg_{event_id}_{subscription_id}"


def payload(
    *,
    kind: str,
    event_id: int,
    seq: int,
    trigger: str,
    from_state: str | None,
    to_state: str,
    occurred_at: datetime,
    case: dict[str, Any],
    body: str,
) -> str:
    """The JSON body sent (and signed): the event, not the case's content; a receiver reads
    the case through the API with its own token (`links.case`)."""
    document = {
        "type": kind,
        "timestamp": occurred_at.isoformat(),
        "data": {
            "event_id": event_id,
            "seq": seq,
            "trigger": trigger,
            "from_state": from_state,
            "to_state": to_state,
            "body": body,
            "case": case,
            "links": {"case": f"/api/v1/cases/{case['id']}"},
        },
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
