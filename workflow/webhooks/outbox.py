"""Write webhook deliveries in the transaction of the case event that causes them.

A listener on every session's flush: for each case event just inserted, one delivery row per
active subscription of the case's originating or current body that wants the event's type.
The rows are written on the flush's own connection, so they commit or roll back with the
event; the unique (event, subscription) pair makes a second row impossible. Events written
around the ORM (a reorganisation's bulk insert) send no webhooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, UOWTransaction

from models import Body, Case, CaseEvent, WebhookDelivery, WebhookSubscription
from models.base import utcnow
from workflow.engine.core import sealed_unsubscribed
from workflow.webhooks import events


def deliveries_for(session: Session, written: Iterable[CaseEvent]) -> list[dict[str, Any]]:
    """The delivery rows for `written` (events with ids), read on the session's connection."""
    written = [e for e in written if e.id is not None]
    if not written:
        return []
    connection = session.connection()
    subscriptions = connection.execute(
        select(
            WebhookSubscription.id, WebhookSubscription.body_id, WebhookSubscription.event_types
        ).where(WebhookSubscription.deleted_at.is_(None))
    ).all()
    if not subscriptions:
        return []
    case_ids = sorted({e.case_id for e in written})
    cases = {
        row.id: row
        for row in connection.execute(
            select(
                Case.id, Case.title, Case.process, Case.state, Case.version,
                Case.originating_body_id, Case.current_body_id,
            ).where(Case.id.in_(case_ids))
        )
    }  # fmt: skip
    body_ids = {c.originating_body_id for c in cases.values()} | {
        c.current_body_id for c in cases.values()
    }
    codes = {
        row.id: row.code
        for row in connection.execute(select(Body.id, Body.code).where(Body.id.in_(body_ids)))
    }
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for item in written:
        case = cases.get(item.case_id)
        if case is None:
            continue
        kind = events.event_type(item.trigger, item.from_state, item.to_state)
        bodies = {case.originating_body_id, case.current_body_id}
        for sub_id, body_id, wanted in subscriptions:
            if body_id not in bodies or kind not in (wanted or []):
                continue
            case_view = {
                "id": case.id, "title": case.title, "process": case.process,
                "state": case.state, "version": case.version,
                "originating_body": codes.get(case.originating_body_id),
                "current_body": codes.get(case.current_body_id),
            }  # fmt: skip
            rows.append(
                {
                    "webhook_id": events.webhook_id(item.id, sub_id),
                    "event_id": item.id,
                    "subscription_id": sub_id,
                    "event_type": kind,
                    "payload": events.payload(
                        kind=kind,
                        event_id=item.id,
                        seq=item.seq,
                        trigger=item.trigger,
                        from_state=item.from_state,
                        to_state=item.to_state,
                        occurred_at=item.created_at,
                        case=case_view,
                        body=codes.get(body_id, ""),
                    ),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
    return rows


@event.listens_for(Session, "after_flush")
def _write_deliveries(session: Session, _flush: UOWTransaction) -> None:
    written = [obj for obj in session.new if isinstance(obj, CaseEvent)]
    if not written:
        return
    # An event sealed when no subscription was active (read with its chain's head, in this
    # transaction) wants no delivery; unless this very flush writes a subscription.
    if not any(isinstance(o, WebhookSubscription) for o in (*session.new, *session.dirty)):
        written = [e for e in written if not sealed_unsubscribed(session, e)]
        if not written:
            return
    rows = deliveries_for(session, written)
    if rows:
        session.connection().execute(insert(WebhookDelivery.__table__), rows)  # type: ignore[arg-type]
