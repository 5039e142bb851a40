"""Webhooks: a body's subscriptions, and one delivery per event × subscription with its log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type, utcnow
from models.body import Body
from models.event import CaseEvent
from models.user import User


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookSubscription(Base):
    """A receiver of a body's case events of the listed types; deleted means ended, kept for
    its delivery log."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(300), default="")
    # `whsec_` + base64 of the key. Kept readable: the HMAC needs the key itself (unlike a
    # token, which is stored as a hash). Shown to the creator once.
    secret: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    body: Mapped[Body] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def active(self) -> bool:
        return self.deleted_at is None


class WebhookDelivery(Base):
    """One event sent to one subscription: written with the event, retried until delivered or
    given up. `webhook_id` is the Standard Webhooks message id, the same on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="webhook_event_subscription"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    # The exact bytes signed and sent (JSON), fixed when the event happened.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_type(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # A sender's claim: no other sender takes the row before it runs out.
    locked_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    event: Mapped[CaseEvent] = relationship()
    subscription: Mapped[WebhookSubscription] = relationship()
    log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.attempt", back_populates="delivery"
    )


class WebhookAttempt(Base):
    """One try to deliver: when, the receiver's answer and what happens next."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt", name="webhook_delivery_attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempt: Mapped[int]
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    # Who asked: None for the scheduler, a user for a manual redelivery.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="log")

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "attempted_at": self.attempted_at.isoformat(),
            "status_code": self.status_code,
            "error": self.error,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }
