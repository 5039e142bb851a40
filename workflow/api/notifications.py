"""The caller's own notifications through the API: list them, mark one read or unread, mark
all read. The inbox page's reads and writes (workflow.notifications.delivery), with the same
rule: a notification about a case the caller may no longer see is left out."""

from __future__ import annotations

from typing import Any

from flask import Response

from models import Notification
from workflow import policy
from workflow.api.problems import ApiProblem, json_response
from workflow.api.schema import array, integer
from workflow.api.serialize import (
    INT,
    NOTIFICATION_TEXT,
    STR,
    TIME,
    iso,
    maybe,
    notification_text,
    out,
)
from workflow.api.spec import Call, Param, Reply, operation
from workflow.notifications import delivery as notify
from workflow.web import db

TAG = "Beskeder"
NOTIFICATION = out(
    {
        "id": INT,
        "kind": {**STR, "examples": ["reminder", "transition", "overdue"]},
        **NOTIFICATION_TEXT,
        "case_id": maybe(INT),
        "created_at": TIME,
        "read_at": maybe(TIME),
    },
    "Notification",
)
INBOX = out({"unread": INT, "items": array(NOTIFICATION)}, "Inbox")
MARKED = out({"marked": INT, "unread": INT}, "MarkedRead")
UNREAD_ONLY = Param("unread", {"type": "boolean", "default": False}, "Kun ulæste beskeder.")
LIMIT = Param("limit", integer(1, 200, default=50), "Højst så mange, nyeste først.")
NOTIFICATION_LINKS = {
    "MarkUnread": {
        "operationId": "mark_notification_unread",
        "parameters": {"path.notification_id": "$response.body#/id"},
    },
    "MarkRead": {
        "operationId": "mark_notification_read",
        "parameters": {"path.notification_id": "$response.body#/id"},
    },
}


def notification_json(item: Notification) -> dict[str, Any]:
    """The notification in the request's language (the Danish, if it has no English)."""
    return {
        "id": item.id,
        "kind": item.kind,
        **notification_text(item),
        "case_id": item.case_id,
        "created_at": iso(item.created_at),
        "read_at": iso(item.read_at),
    }


def _mine(call: Call) -> Notification:
    """The caller's own notification as the inbox shows it, or 404 (as one that does not
    exist: another user's notification is not named)."""
    session = db()
    number = call.path["notification_id"]
    visible = policy.visible_cases(session, call.actor)
    found = notify.own_notification(session, call.actor.id, number, visible)
    if found is None:
        raise ApiProblem(
            "not-found",
            f"Besked nr. {number} findes ikke.",
            f"Notification {number} does not exist.",
        )
    return found


@operation(
    "/notifications", "get", tag=TAG, summary="Mine beskeder", query=(UNREAD_ONLY, LIMIT),
    ok={200: Reply("Kalderens beskeder, nyeste først, og antallet af ulæste.", INBOX)},
)  # fmt: skip
def list_notifications(call: Call) -> Response:
    """The caller's notifications in the application (as the inbox page lists them)."""
    session = db()
    visible = policy.visible_cases(session, call.actor)
    items = notify.inbox(
        session, call.actor.id, unread_only=bool(call.args.get("unread")),
        limit=call.args.get("limit", 50), visible=visible,
    )  # fmt: skip
    return json_response(
        {
            "unread": notify.unread_count(session, call.actor.id, visible),
            "items": [notification_json(item) for item in items],
        }
    )


@operation(
    "/notifications/<int:notification_id>/read", "post", tag=TAG,
    summary="Markér en besked som læst",
    ok={200: Reply("Beskeden, læst.", NOTIFICATION, links=NOTIFICATION_LINKS)},
)  # fmt: skip
def mark_notification_read(call: Call) -> Response:
    """Mark one of the caller's notifications read (a read one stays as it is)."""
    session = db()
    item = _mine(call)
    notify.mark_read(session, call.actor.id, [item.id])
    session.refresh(item)
    return json_response(notification_json(item))


@operation(
    "/notifications/<int:notification_id>/unread", "post", tag=TAG,
    summary="Markér en besked som ulæst",
    ok={200: Reply("Beskeden, ulæst igen.", NOTIFICATION, links=NOTIFICATION_LINKS)},
)  # fmt: skip
def mark_notification_unread(call: Call) -> Response:
    """Mark one of the caller's notifications unread again."""
    session = db()
    item = _mine(call)
    notify.mark_unread(session, call.actor.id, [item.id])
    session.refresh(item)
    return json_response(notification_json(item))


@operation(
    "/notifications/read-all", "post", tag=TAG, summary="Markér alle mine beskeder som læst",
    ok={200: Reply("Hvor mange der blev markeret, og hvor mange der nu er ulæste.", MARKED)},
)  # fmt: skip
def mark_all_notifications_read(call: Call) -> Response:
    """Mark every notification of the caller read."""
    session = db()
    marked = notify.mark_read(session, call.actor.id)
    visible = policy.visible_cases(session, call.actor)
    return json_response(
        {"marked": marked, "unread": notify.unread_count(session, call.actor.id, visible)}
    )
