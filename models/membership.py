"""A user's role in a body: chair, vice chair, member, secretariat or observer."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_type
from models.body import Body
from models.user import User


class Role(enum.StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    MEMBER = "member"
    SECRETARIAT = "secretariat"
    OBSERVER = "observer"


class Membership(Base):
    """User × body × role. Ended memberships keep their row (until is set)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "body_id", "role", name="user_body_role"),
        Index("ix_memberships_body_role", "body_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    since: Mapped[date | None]
    until: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Who keeps the membership: NULL for an administrator, "sso:<provider>" for the single
    # sign-on mapping, which grants and ends it in step with the user's groups at every login.
    source: Mapped[str | None] = mapped_column(String(80))

    user: Mapped[User] = relationship()
    body: Mapped[Body] = relationship()
