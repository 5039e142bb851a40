"""Write notifications to the outbox, in the transaction of the change that caused them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    bindparam,
    cast,
    column,
    func,
    literal,
    select,
)
from sqlalchemy import Text as SqlText
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from models import Membership, Notification, Role
from models.base import utcnow
from workflow.engine import request_id, session_cache
from workflow.engine.db import BinaryArray
from workflow.engine.mail_text import Text

MAIL_DOMAIN = "aftaleflow.local"
CHAIRS_AND_SECRETARIAT = (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARIAT)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """`text` as one line: control characters (CR and LF among them) and runs of white space
    become single spaces, so a case title can never start a new mail header."""
    # Printable text has no white space but the ASCII space: the common case, answered
    # without the regular expression (the sweep writes thousands of subjects).
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(_CONTROL_CHARACTERS.sub(" ", text).split())


def texts(subject: str | Text, body: str | Text) -> dict[str, str | None]:
    """A notification's subject and body columns: the Danish, and the English beside it when
    the text was written in both languages (`mail_text`); the subject as one short line."""
    if isinstance(subject, Text):
        subject_da, subject_en = subject.da, one_line(subject.en)[:300]
    else:
        subject_da, subject_en = subject, None
    body_da, body_en = (body.da, body.en) if isinstance(body, Text) else (body, None)
    return {
        "subject": one_line(subject_da)[:300],
        "subject_en": subject_en,
        "body": body_da,
        "body_en": body_en,
    }


def message_id_for(key: str) -> str:
    """Derive a stable Message-ID from the idempotency key, so a resend carries the same one."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MAIL_DOMAIN}>"


def members_of(session: Session, body_id: int, roles: Iterable[Role] | None = None) -> list[int]:
    """Return the ids of active users with one of `roles` (all roles if None) in the body."""
    if roles is None:
        found = session_cache.read(session, _MEMBERS, {"body_id": body_id}).scalars()
    else:
        params = {"body_id": body_id, "roles": list(roles)}
        found = session_cache.read(session, _MEMBERS_IN_ROLES, params).scalars()
    return sorted(set(found))


# Built once: every transition asks who to tell. Of the table's columns, run by
# session_cache.read: half the Python of a read of mapped attributes.
_KEY_EXISTS = select(Notification.id).where(Notification.idempotency_key == bindparam("key"))
_MEMBERSHIPS = Membership.__table__.c
_MEMBERS = select(_MEMBERSHIPS.user_id).where(
    _MEMBERSHIPS.body_id == bindparam("body_id"), _MEMBERSHIPS.active.is_(True)
)
_MEMBERS_IN_ROLES = _MEMBERS.where(_MEMBERSHIPS.role.in_(bindparam("roles", expanding=True)))


def enqueue(
    session: Session,
    *,
    key: str,
    recipient_id: int,
    kind: str,
    subject: str | Text,
    body: str | Text,
    case_id: int | None = None,
    deadline_id: int | None = None,
    send_after: datetime | None = None,
    created_at: datetime | None = None,
) -> Notification | None:
    """Add one notification unless its idempotency key exists already; return it if added.
    A `Text` subject or body is stored in Danish and English (the recipient's language is
    chosen when it is sent or shown)."""
    existing = session.scalar(_KEY_EXISTS, {"key": key})
    if existing is not None:
        return None
    notification = Notification(
        idempotency_key=key,
        message_id=message_id_for(key),
        recipient_id=recipient_id,
        kind=kind,
        **texts(subject, body),
        case_id=case_id,
        deadline_id=deadline_id,
        request_id=request_id.current(),
    )
    if send_after is not None:
        notification.send_after = send_after
    if created_at is not None:
        notification.created_at = created_at
    session.add(notification)
    return notification


def notification_row(
    *,
    key: str,
    recipient_id: int,
    kind: str,
    subject: str | Text,
    body: str | Text,
    case_id: int | None,
    created_at: datetime,
) -> dict[str, Any]:
    """One new notification as a row for a bulk insert (the key must be new: it names an
    event being written); sent from `created_at` on."""
    return {
        "idempotency_key": key,
        "message_id": message_id_for(key),
        "recipient_id": recipient_id,
        "kind": kind,
        **texts(subject, body),
        "case_id": case_id,
        "deadline_id": None,
        "send_after": created_at,
        "created_at": created_at,
        "request_id": request_id.current(),
    }


def insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert notification rows (`notification_row`) in one statement, skipping any whose
    idempotency key is stored already (ON CONFLICT DO NOTHING, SQLite and PostgreSQL alike)
    instead of looking each key up first."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Notification)
    session.execute(statement.on_conflict_do_nothing(index_elements=["idempotency_key"]), rows)


def enqueue_many(session: Session, items: list[dict[str, Any]]) -> int:
    """Add many notifications (each the keyword arguments of `enqueue`) at once, skipping
    those whose idempotency key exists already (ON CONFLICT DO NOTHING: no look-ups first).
    Return how many were added."""
    rows: list[dict[str, Any]] = []
    keys: set[str] = set()
    default_time: datetime | None = None
    # The recipients of one deadline share its texts: their columns are made once.
    columns: dict[tuple[int, int], dict[str, str | None]] = {}
    for item in items:
        key = item["key"]
        if key in keys:
            continue
        keys.add(key)
        row = {
            "idempotency_key": key,
            "message_id": message_id_for(key),
            "recipient_id": item["recipient_id"],
            "kind": item["kind"],
            **_texts_of(item["subject"], item["body"], columns),
            "case_id": item.get("case_id"),
            "deadline_id": item.get("deadline_id"),
        }
        for name in ("send_after", "created_at"):
            value = item.get(name)
            if value is None:
                # The columns' default, taken once for the batch as one flush would.
                default_time = value = default_time or utcnow()
            row[name] = value
        rows.append(row)
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _insert_as_arrays(session, rows)
    # RETURNING the ids of the rows added: SQLAlchemy sends each thousand rows as one
    # multi-row INSERT with its statement compiled once ("insertmanyvalues"), and the count
    # needs no look-ups of existing keys.
    statement = (
        sqlite_insert(Notification)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Notification.id)
    )
    request = request_id.current()
    for row in rows:
        row["request_id"] = request
    return len(session.connection().execute(statement, rows).all())


def _texts_of(
    subject: str | Text, body: str | Text, done: dict[tuple[int, int], dict[str, str | None]]
) -> dict[str, str | None]:
    """`texts`, once per subject and body object of a batch (`items` holds them meanwhile,
    so no id is reused)."""
    key = (id(subject), id(body))
    found = done.get(key)
    if found is None:
        found = done[key] = texts(subject, body)
    return found


# The columns a batch gives per row, each sent to PostgreSQL as one array. The parameters are
# untyped on purpose: the CAST types them in SQL, and SQLAlchemy's ARRAY would copy each list
# element by element (and lose the BinaryArray that psycopg sends in binary).
_ARRAY_COLUMNS: dict[str, TypeEngine[Any]] = {
    "idempotency_key": String(),
    "message_id": String(),
    "recipient_id": Integer(),
    "kind": String(),
    "subject": String(),
    "subject_en": String(),
    "body": SqlText(),
    "body_en": SqlText(),
    "case_id": Integer(),
    "deadline_id": Integer(),
    "send_after": DateTime(timezone=True),
    "created_at": DateTime(timezone=True),
}
_NEW_ROWS = (
    func.unnest(*(cast(bindparam(name), ARRAY(kind)) for name, kind in _ARRAY_COLUMNS.items()))
    .table_valued(*(column(name, kind) for name, kind in _ARRAY_COLUMNS.items()))
    .render_derived(name="new_rows")
)
# One statement for the whole batch: INSERT … SELECT FROM unnest(one array per column). A
# multi-row VALUES list of 10,000 rows has 100,000 parameters, and psycopg parses a statement
# with more than 50 parameters afresh on every execution, in Python (about a second of CPU for
# the sweep's 10,000 reminders); this statement has thirteen and is parsed once.
_INSERT_ARRAYS = (
    postgresql_insert(Notification)
    .from_select(
        [*_ARRAY_COLUMNS, "attempts", "request_id"],
        select(*_NEW_ROWS.c, literal(0, Integer()), cast(bindparam("request_id"), String())),
    )
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    # How many were new: an INSERT's rowcount is otherwise lost when the cursor is closed.
    .execution_options(preserve_rowcount=True)
)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:  # as UTCDateTime, which these untyped parameters bypass
        raise ValueError("naive datetime given; use an aware datetime in UTC")
    return value.astimezone(UTC)


def _insert_as_arrays(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert `rows` (all of `_ARRAY_COLUMNS`) in one statement; return how many were new."""
    params: dict[str, Any] = {
        name: BinaryArray(row[name] for row in rows) for name in _ARRAY_COLUMNS
    }
    for name in ("send_after", "created_at"):
        params[name] = BinaryArray(_utc(value) for value in params[name])
    params["request_id"] = request_id.current()
    result = session.connection().execute(_INSERT_ARRAYS, params)
    return int(result.rowcount)
