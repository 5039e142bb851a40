"""The user's own writes: login bookkeeping and personal settings, each audited where it is a
choice the user made, and each one unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import User
from workflow.auth import passwords
from workflow.engine import admin_audit, clock
from workflow.engine.unit_of_work import unit_of_work


def _audit(session: Session, user: User, action: str, old: object, new: object) -> None:
    admin_audit.record(
        session,
        actor_id=user.id,
        action=action,
        object_type="user",
        object_id=str(user.id),
        data={"from": old, "to": new},
        created_at=clock.now(),
    )


def rehash_password(session: Session, user: User, password: str) -> None:
    """Store a fresh hash of the password the user just logged in with (stronger parameters)."""
    with unit_of_work(session):
        user.password_hash = passwords.hash_password(password)


def set_locale(session: Session, user: User, locale: str) -> bool:
    """Save the user's language (audited); False when it was already the one chosen."""
    if locale == user.locale:
        return False
    with unit_of_work(session):
        _audit(session, user, "set_locale", user.locale, locale)
        user.locale = locale
    return True


def save_preferences(session: Session, user: User, digest: bool, locale: str) -> list[str]:
    """Store the user's choices, one audit entry per changed setting; return what changed."""
    changed: list[str] = []
    with unit_of_work(session):
        if digest != user.digest:
            _audit(session, user, "set_digest", user.digest, digest)
            user.digest = digest
            changed.append("digest")
        if set_locale(session, user, locale):
            changed.append("locale")
    return changed
