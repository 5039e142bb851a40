"""The user's own writes: login bookkeeping and personal settings, each audited where it is a
choice the user made, and each one unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import User
from models.user import new_session_token
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


def start_session(session: Session, user: User) -> None:
    """Give a user who has no session token yet (a row made outside the app) one."""
    if not user.session_token:
        with unit_of_work(session):
            user.session_token = new_session_token()


def end_sessions(session: Session, user: User) -> None:
    """End every session of `user` (logout): a new token makes the old login cookies void."""
    with unit_of_work(session):
        user.session_token = new_session_token()


def change_password(session: Session, user: User, new_password: str, action: str) -> None:
    """Store the new password (Argon2id) and end every session of `user`, audited as `action`
    (`password_changed` by the user, `password_reset` by a mailed link); the audit row names
    no password, not even a hash."""
    with unit_of_work(session):
        user.password_hash = passwords.hash_password(new_password)
        user.session_token = new_session_token()
        _audit(session, user, action, None, None)


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
