"""Personal API tokens: issue, look up by hash, record use, revoke (never delete)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from models import ApiToken, User
from workflow.engine import admin_audit, clock
from workflow.engine.unit_of_work import unit_of_work

TOKEN_PREFIX = "afl_"
SECRET_BYTES = 32
SHOWN_PREFIX_LENGTH = 10
NAME_MAX_LENGTH = 100
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token request that cannot be carried out; the message says why, in Danish."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its plain text, which is shown once and never stored."""

    token: ApiToken
    plain: str


def hash_token(plain: str) -> str:
    """Return the sha256 hex digest under which a token is stored."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def create_token(
    session: Session, user: User, name: str = "", actor: User | None = None
) -> IssuedToken:
    """Issue a token for `user` (by `actor`, default the user), audited and committed."""
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(f"Navnet er for langt; brug højst {NAME_MAX_LENGTH} tegn.")
    if not user.active:
        raise TokenError(
            f"{user.email} er deaktiveret og kan ikke få en API-nøgle. Aktivér brugeren først."
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[:SHOWN_PREFIX_LENGTH],
        created_at=clock.now(),
    )
    with unit_of_work(session):
        session.add(token)
        session.flush()
        _audit(session, actor or user, "api_token_create", token)
    return IssuedToken(token, plain)


def revoke_token(session: Session, token: ApiToken, actor: User | None = None) -> bool:
    """Revoke `token` (audited, committed); False if it was already revoked."""
    if token.revoked_at is not None:
        return False
    with unit_of_work(session):
        token.revoked_at = clock.now()
        _audit(session, actor or token.user, "api_token_revoke", token)
    return True


# Every API call looks its token up: the statement is built once (its SQL cache key with it).
_TOKEN_BY_HASH = (
    select(ApiToken)
    .where(ApiToken.token_hash == bindparam("digest"))
    .options(joinedload(ApiToken.user))
)


def authenticate(session: Session, plain: str) -> User | None:
    """Return the active user a live token belongs to, noting when it was used; else None."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    digest = hash_token(plain)
    token = session.scalar(_TOKEN_BY_HASH, {"digest": digest})
    # The lookup is by hash; compare again in constant time so no timing tells a near miss.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None or not token.user.active:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        with unit_of_work(session):
            token.last_used_at = now
    return token.user


def tokens_of(session: Session, user: User | None = None) -> list[ApiToken]:
    """List the tokens of `user` (everyone's if None), the newest first."""
    query = select(ApiToken).options(joinedload(ApiToken.user))
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def _audit(session: Session, actor: User, action: str, token: ApiToken) -> None:
    admin_audit.record(
        session,
        actor_id=actor.id,
        action=action,
        object_type="api_token",
        object_id=str(token.id),
        data={"user_id": token.user_id, "name": token.name, "prefix": token.prefix},
        created_at=clock.now(),
    )
