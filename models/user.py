"""People who use Aftaleflow."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.party import Party


def new_session_token() -> str:
    """A fresh random session token (see `User.session_token`)."""
    return secrets.token_urlsafe(32)


class User(Base):
    """A person with a login; what they may do follows from their memberships."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Deactivated, never deleted: the audit trail keeps pointing at the person.
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(8), default="da")
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    digest: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the id kept in the login cookie: a new token (at logout, password change or
    # reset) ends every session that carries the old one, copied cookies included. Rows made
    # outside the ORM get "", which no session accepts until a login sets a token.
    session_token: Mapped[str] = mapped_column(
        String(64), default=new_session_token, server_default=""
    )

    party: Mapped[Party | None] = relationship()

    # Flask-Login protocol, kept here so the model needs no web import.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # Flask-Login's "alternative id": the loader accepts it only while the token is current.
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"
