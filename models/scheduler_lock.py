"""The sweeper's lease and progress: one named row elects the sweeper and records its watermark."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SchedulerLock(Base):
    """A lease held by one scheduler process until `expires_at`, and how far it has swept.

    On SQLite the lease elects the single sweeper; on PostgreSQL an advisory lock does and the
    row only carries the progress. `swept_until` and `last_deadline_id` let each sweep look at
    what became due since the previous one instead of every open deadline.
    """

    __tablename__ = "scheduler_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    swept_until: Mapped[datetime | None]
    last_deadline_id: Mapped[int] = mapped_column(default=0)
    full_sweep_at: Mapped[datetime | None]
    # How long the last run took (seconds), and the last few runs, newest first: what the
    # operations page and /metrics show. `swept_until` of the sweep's row is the heartbeat.
    last_duration: Mapped[float | None]
    recent: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
