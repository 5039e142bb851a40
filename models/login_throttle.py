"""Failed sign-in attempts, counted per account and per client address in the database, so
every worker process and every server sees the same count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class LoginThrottle(Base):
    """How often one key (an account's e-mail or a client address, hashed) failed lately, and
    until when it is refused. Rows are counters, updated in place, not a record to keep."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
