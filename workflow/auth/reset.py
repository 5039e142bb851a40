"""Password reset by e-mail: a signed, expiring link that works once.

The link carries the user's id and a fingerprint of the user's current password hash, signed
with the app's secret key (itsdangerous) and stamped with the engine clock. Setting a new
password changes the hash, so the link (and every other link sent before) dies with its first
use; a link older than `LINK_LIFETIME` is refused. The mail goes through the notification
outbox like every other mail, so it is delivered, retried and logged by the same SMTP path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import User
from workflow.engine import clock
from workflow.engine.mail_text import EMPTY, bilingual, join, same
from workflow.engine.outbox import enqueue
from workflow.engine.unit_of_work import unit_of_work

LINK_LIFETIME_SECONDS = 3600
SALT = "aftaleflow.password-reset"
# Mailed at once even to digest users and never listed in the app (see the outbox delivery).
KIND = "password_reset"


class _ClockSigner(TimestampSigner):
    """Stamps and checks ages with the engine clock, so the demo and tests control time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT, signer=_ClockSigner)


def _fingerprint(user: User) -> str:
    # A digest, not the hash itself: the link must not carry the password hash.
    return hashlib.sha256((user.password_hash or "").encode("utf-8")).hexdigest()[:32]


def make_token(secret_key: str, user: User) -> str:
    """The token for the link sent to `user`, valid until the password changes or it expires."""
    return _serializer(secret_key).dumps({"u": user.id, "f": _fingerprint(user)})


def user_of(session: Session, secret_key: str, token: str) -> User | None:
    """The active user a valid, unused, unexpired token belongs to, else None."""
    if len(token) > 500:
        return None
    try:
        data = _serializer(secret_key).loads(token, max_age=LINK_LIFETIME_SECONDS)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user_id, fingerprint = data.get("u"), data.get("f")
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        return None
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(_fingerprint(user).encode(), fingerprint.encode()):
        return None
    return user


def find_active_user(session: Session, email: str) -> User | None:
    """The active user with this e-mail (any case), else None."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    return user if user is not None and user.active else None


def send_link(session: Session, user: User, link: str) -> None:
    """Put the reset mail for `user` in the outbox (committed)."""
    minutes = LINK_LIFETIME_SECONDS // 60
    body = join(
        "\n",
        [
            bilingual("Goddag %(name)s", name=user.name),
            EMPTY,
            bilingual(
                "Nogen (forhåbentlig dig) har bedt om at nulstille din adgangskode til Aftaleflow."
            ),
            bilingual("Åbn linket herunder, og vælg en ny adgangskode:"),
            EMPTY,
            same(link),
            EMPTY,
            bilingual(
                "Linket virker én gang og i %(minutes)s minutter. Har du ikke bedt om det, kan "
                "du se bort fra mailen: din adgangskode er ikke ændret.",
                minutes=minutes,
            ),
        ],
    )
    with unit_of_work(session):
        enqueue(
            session,
            key=f"{KIND}:{user.id}:{secrets.token_hex(16)}",
            recipient_id=user.id,
            kind=KIND,
            subject=bilingual("Nulstil din adgangskode til Aftaleflow"),
            body=body,
            created_at=clock.now(),
            send_after=clock.now(),
        )
