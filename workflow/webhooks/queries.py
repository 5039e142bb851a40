"""Reads of the webhooks: the subscriptions a user may keep and their delivery logs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Body, DeliveryStatus, User, WebhookDelivery, WebhookSubscription
from workflow import policy


def kept_bodies(session: Session, user: User) -> list[Body]:
    """The active bodies whose webhooks the user may keep."""
    return policy.bodies_where(session, user, "keep_webhooks")


def subscriptions(
    session: Session, user: User, *, include_deleted: bool = False
) -> list[WebhookSubscription]:
    """The subscriptions of the active bodies the user keeps (every one's for an admin),
    newest first."""
    query = select(WebhookSubscription).options(selectinload(WebhookSubscription.body))
    if not include_deleted:
        query = query.where(WebhookSubscription.deleted_at.is_(None))
    kept = [b.id for b in kept_bodies(session, user)]
    query = query.where(WebhookSubscription.body_id.in_(kept))
    return list(session.scalars(query.order_by(WebhookSubscription.id.desc())))


def subscription(session: Session, user: User, subscription_id: int) -> WebhookSubscription | None:
    """The subscription if it exists and the user may keep its body's webhooks."""
    found = session.get(WebhookSubscription, subscription_id)
    if found is None or not policy.may(user, "keep_webhooks", found.body, session):
        return None
    return found


def deliveries(
    session: Session,
    subscription: WebhookSubscription,
    *,
    status: str | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """The subscription's deliveries (of one status, if given), newest first, with their
    attempts."""
    query = (
        select(WebhookDelivery)
        .options(selectinload(WebhookDelivery.log))
        .where(WebhookDelivery.subscription_id == subscription.id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == DeliveryStatus(status))
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def delivery(session: Session, user: User, delivery_id: int) -> WebhookDelivery | None:
    """The delivery if it exists and the user may keep its subscription's body's webhooks."""
    found = session.get(WebhookDelivery, delivery_id)
    if found is None or not policy.may(user, "keep_webhooks", found.subscription.body, session):
        return None
    return found
