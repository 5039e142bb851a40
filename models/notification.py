"""The notification outbox: written with the change that caused it, delivered afterwards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.user import User


class Notification(Base):
    """One message to one user; the idempotency key makes creating it twice impossible."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "ix_notifications_pending",
            "send_after",
            sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
        Index("ix_notifications_recipient_unread", "recipient_id", "read_at"),
        # The given-up deliveries: few among many, read by the dashboards, /metrics and the
        # operations page.
        Index(
            "ix_notifications_failed",
            "failed_at",
            sqlite_where=text("failed_at IS NOT NULL"),
            postgresql_where=text("failed_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Unique through the idempotency key it is derived from (migration 0025).
    message_id: Mapped[str] = mapped_column(String(200))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The same in English (migration 0029), for a recipient who reads English; None on a
    # notification written before, or without a translation: the Danish is used.
    subject_en: Mapped[str | None] = mapped_column(String(300))
    body_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    # The request or job whose change caused the notification (workflow.engine.request_id).
    request_id: Mapped[str | None] = mapped_column(String(64))

    recipient: Mapped[User] = relationship()

    def in_english(self, locale: str) -> bool:
        """Whether the notification reads in English for a reader of `locale`: the reader
        reads English and it was written in English too (one written before: Danish)."""
        return locale == "en" and self.subject_en is not None and self.body_en is not None

    def subject_in(self, locale: str) -> str:
        """The subject in the reader's language ("da" or "en"), else in Danish."""
        return self.subject_en if self.in_english(locale) and self.subject_en else self.subject

    def body_in(self, locale: str) -> str:
        """The body in the reader's language ("da" or "en"), else in Danish."""
        return self.body_en if self.in_english(locale) and self.body_en is not None else self.body
