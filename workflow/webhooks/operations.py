"""The webhooks' writes made by people: subscribe, unsubscribe, redeliver (checked by the
policy, audited on the admin chain)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from models import Body, DeliveryStatus, User, WebhookDelivery, WebhookSubscription
from workflow import policy
from workflow.engine import admin_audit, clock
from workflow.engine.errors import WorkflowError
from workflow.engine.unit_of_work import unit_of_work
from workflow.engine.values import InvalidValue, single_line
from workflow.webhooks import events, signing, targets


class WebhookRefused(WorkflowError):
    """A subscription or delivery request that cannot be carried out, and why."""

    default_rule = "valid_webhook"


def _checked_types(event_types: Sequence[str]) -> list[str]:
    chosen = [t for t in events.EVENT_TYPES if t in set(event_types)]
    unknown = sorted(set(event_types) - set(events.EVENT_TYPES))
    if unknown or not chosen:
        listed = ", ".join(events.EVENT_TYPES)
        raise WebhookRefused(
            f"Vælg mindst én hændelsestype blandt: {listed}.",
            f"Choose at least one event type among: {listed}.",
            rule="known_event_type",
        )
    return chosen


def subscribe(
    session: Session,
    actor: User,
    body: Body,
    *,
    url: str,
    event_types: Sequence[str],
    description: str = "",
) -> WebhookSubscription:
    """Subscribe a receiver to the body's case events; its secret is on the returned row (show
    it once)."""
    policy.require(actor, "keep_webhooks", body, session)
    try:
        address = targets.receiver_url(url)
        note = single_line(description.strip(), 300)
    except InvalidValue as bad:
        raise WebhookRefused(bad.message_da, bad.message_en, rule="safe_receiver") from None
    chosen = _checked_types(event_types)
    with unit_of_work(session):
        subscription = WebhookSubscription(
            body_id=body.id, url=address, event_types=chosen, description=note,
            secret=signing.new_secret(), created_by_id=actor.id, created_at=clock.now(),
        )  # fmt: skip
        session.add(subscription)
        session.flush()
        admin_audit.record(
            session, actor_id=actor.id, action="webhook_subscribe",
            object_type="webhook_subscription", object_id=str(subscription.id),
            data={"body": body.code, "url": address, "event_types": chosen},
            created_at=clock.now(),
        )  # fmt: skip
    return subscription


def unsubscribe(session: Session, actor: User, subscription: WebhookSubscription) -> None:
    """End a subscription: nothing more is written for it (its log stays; pending deliveries
    are given up at their next attempt)."""
    policy.require(actor, "keep_webhooks", subscription.body, session)
    with unit_of_work(session):
        if subscription.deleted_at is None:
            subscription.deleted_at = clock.now()
            admin_audit.record(
                session, actor_id=actor.id, action="webhook_unsubscribe",
                object_type="webhook_subscription", object_id=str(subscription.id),
                data={"body": subscription.body.code, "url": subscription.url},
                created_at=clock.now(),
            )  # fmt: skip


def redeliver(session: Session, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again at the next run, with a fresh count of attempts and the same
    message id (a receiver that has it already recognises it)."""
    subscription = delivery.subscription
    policy.require(actor, "keep_webhooks", subscription.body, session)
    if subscription.deleted_at is not None:
        raise WebhookRefused(
            "Abonnementet er slettet; dets leverancer sendes ikke igen.",
            "The subscription was deleted; its deliveries are not sent again.",
            rule="active_subscription",
        )
    with unit_of_work(session):
        before = delivery.status.value
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = clock.now()
        delivery.locked_until = None
        delivery.failed_at = None
        admin_audit.record(
            session, actor_id=actor.id, action="webhook_redeliver",
            object_type="webhook_delivery", object_id=str(delivery.id),
            data={"webhook_id": delivery.webhook_id, "status_before": before},
            created_at=clock.now(),
        )  # fmt: skip
    return delivery
