"""The identities a user signs in with at an organisation's identity provider (issue 18)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.user import User


class ExternalIdentity(Base):
    """One provider's stable subject (OIDC `sub`, SAML NameID) for one user.

    Matched on (provider, subject), never on the e-mail alone: an address can be given to
    someone else, a subject cannot.
    """

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_external_identities_provider_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SeenAssertion(Base):
    """A SAML assertion already used to sign in, kept until it expires, so a copy of it is
    refused on every server (replay protection shared through the database)."""

    __tablename__ = "sso_seen_assertions"

    assertion_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
