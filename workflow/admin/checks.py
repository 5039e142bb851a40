"""What the admin pages and the API check before an admin write: a taken e-mail or party
code, an admin taking away their own rights, a membership ended before it began, and whether
the values an edit was based on are still the stored ones (a fingerprint of them: the pages'
hidden field, the API's ETag)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Membership, Party, User
from workflow.engine.formats import ENGLISH, format_date


def fingerprint(values: dict[str, Any]) -> str:
    """A short digest of an object's audited values (changes whenever one of them does)."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def email_taken(session: Session, email: str, except_id: int | None = None) -> bool:
    """Whether another user has this e-mail address (compared without case)."""
    # The database lowers both sides: SQLite's lower() knows only A-Z, so lowering one side in
    # Python would miss the very address stored (and the insert would break its unique key).
    query = select(User.id).where(func.lower(User.email) == func.lower(email.strip()))
    if except_id is not None:
        query = query.where(User.id != except_id)
    return session.scalar(query) is not None


def party_code_taken(session: Session, code: str) -> bool:
    """Whether a party already has this code."""
    return session.scalar(select(Party.id).where(Party.code == code.strip())) is not None


def demotes_self(actor: User, user: User, is_admin: bool) -> bool:
    """Whether an admin would take away their own admin rights (another admin must)."""
    return user.id == actor.id and user.is_admin and not is_admin


def deactivates_self(actor: User, user: User, active: bool) -> bool:
    """Whether an admin would deactivate themselves (another admin must)."""
    return user.id == actor.id and not active


def ends_before_it_began(membership: Membership, until: date) -> tuple[str, str] | None:
    """Why `membership` cannot end on `until`, in Danish and English, or None if it can: the
    last day (inclusive) may not lie before its first (a one-day membership ends the day it
    began)."""
    since = membership.since
    if since is None or until >= since:
        return None
    return (
        f"Slutdatoen ({format_date(until)}) ligger før medlemskabets startdato "
        f"({format_date(since)}). Vælg en dato fra og med startdatoen.",
        f"The end date ({format_date(until, ENGLISH)}) is before the membership's start date "
        f"({format_date(since, ENGLISH)}). Choose a date on or after the start date.",
    )
