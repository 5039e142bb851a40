"""Single sign-on's reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ExternalIdentity


def linked_providers(session: Session, user_id: int) -> list[str]:
    """The keys of the providers a user has signed in with, in the order first used."""
    return list(
        session.scalars(
            select(ExternalIdentity.provider)
            .where(ExternalIdentity.user_id == user_id)
            .order_by(ExternalIdentity.id)
        )
    )
