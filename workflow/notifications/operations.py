"""The notifications' writes made by people: an admin sends a notification given up on again.

Delivery itself (workflow.notifications.delivery) records its own outcomes; this is the one
human decision about the outbox, so it is checked by the policy and audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Notification, User
from workflow import policy
from workflow.engine import admin_audit, clock
from workflow.engine.errors import WorkflowError
from workflow.engine.unit_of_work import unit_of_work
from workflow.notifications.delivery import CANCELLED_PREFIX


class NotificationNotFound(WorkflowError):
    """No notification has this id."""

    def __init__(self) -> None:
        super().__init__(
            "Beskeden findes ikke. Genindlæs overblikket.",
            "The notification does not exist. Reload the overview.",
        )


class NotRetryable(WorkflowError):
    """The notification is not one given up on (sent, on its way, or withdrawn)."""


def _values(item: Notification) -> dict[str, Any]:
    return {
        "attempts": item.attempts,
        "failed_at": item.failed_at.isoformat() if item.failed_at else None,
        "last_error": item.last_error,
        "send_after": item.send_after.isoformat(),
    }


def retry_delivery(session: Session, actor: User, notification_id: int) -> Notification:
    """Put a notification given up on back in the outbox with a fresh count of attempts, due
    now (audited with its attempts and last error). It is still the same row, with the same
    Message-ID: clicking twice, or two admins at once, sends it once."""
    policy.require(actor, "retry_delivery", None, session)
    with unit_of_work(session):
        item = session.get(Notification, notification_id)
        if item is None:
            raise NotificationNotFound
        if item.sent_at is not None:
            raise NotRetryable(
                "Beskeden er allerede leveret og sendes ikke igen.",
                "The notification has been delivered already; it is not sent again.",
            )
        if item.failed_at is None:
            raise NotRetryable(
                "Beskeden er allerede på vej og bliver forsøgt sendt igen automatisk.",
                "The notification is on its way already and is retried automatically.",
            )
        if (item.last_error or "").startswith(CANCELLED_PREFIX):
            raise NotRetryable(
                "Beskeden blev trukket tilbage, fordi fristen blev ændret, og sendes ikke.",
                "The notification was withdrawn because its deadline changed; it is not sent.",
            )
        if not item.recipient.active:
            raise NotRetryable(
                f"Modtageren {item.recipient.name} er deaktiveret. Genaktivér brugeren under "
                "Administration → Brugere, og prøv igen.",
                f"The recipient {item.recipient.name} is deactivated. Reactivate the user under "
                "Administration → Users, and try again.",
            )
        before = _values(item)
        now = clock.now()
        changed = session.execute(
            update(Notification)
            .where(
                Notification.id == item.id,
                Notification.failed_at == item.failed_at,
                Notification.sent_at.is_(None),
            )
            .values(failed_at=None, attempts=0, send_after=now, locked_until=None)
            .execution_options(synchronize_session="fetch")
        )
        if not getattr(changed, "rowcount", 0):
            raise NotRetryable(
                "Beskeden er allerede sat til at blive sendt igen.",
                "The notification has been put back in the outbox already.",
            )
        session.refresh(item)
        admin_audit.record(
            session,
            actor_id=actor.id,
            action="notification_retried",
            object_type="notification",
            object_id=item.id,
            data={"before": before, "after": _values(item)},
            created_at=now,
        )
    return item
