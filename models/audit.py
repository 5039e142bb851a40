"""Audit log of administrative changes (users, bodies, memberships, definitions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class AdminAuditEntry(Base):
    """One administrative change: who changed which object, and how.

    The entries form one chain like a case's events: `seq` counts from 1 and `hash` seals the
    entry with the previous entry's hash (workflow.engine.chain). Written only through
    workflow.engine.admin_audit.record, never updated or deleted.
    """

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The request or job that wrote the entry (workflow.engine.request_id); not sealed.
    request_id: Mapped[str | None] = mapped_column(String(64))
