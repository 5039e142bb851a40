"""Write notifications to the outbox, in the transaction of the change that caused them."""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Callable, Iterable
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
    literal_column,
    select,
)
from sqlalchemy import Text as SqlText
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
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
    subject_da, subject_en, body_da, body_en = text_columns(subject, body)
    return {"subject": subject_da, "subject_en": subject_en, "body": body_da, "body_en": body_en}


def text_columns(subject: str | Text, body: str | Text) -> tuple[str, str | None, str, str | None]:
    """`texts` as a tuple: subject, subject_en, body, body_en."""
    if isinstance(subject, Text):
        subject_da, subject_en = subject.da, one_line(subject.en)[:300]
    else:
        subject_da, subject_en = subject, None
    body_da, body_en = (body.da, body.en) if isinstance(body, Text) else (body, None)
    return one_line(subject_da)[:300], subject_en, body_da, body_en


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
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    store_time = _time_store(connection.dialect)
    request = request_id.current()
    # One tuple a row, in _ROW_COLUMNS' order: the sweep writes ten thousand, and every
    # object more a row costs its allocation and the garbage collector's passes over it.
    rows: list[tuple[Any, ...]] = []
    keys: set[str] = set()
    default_time: datetime | None = None
    # The recipients of one deadline share its texts: their columns are made once.
    done: dict[tuple[int, int], tuple[str, str | None, str, str | None]] = {}
    stored: dict[datetime, Any] = {}
    for item in items:
        key = item["key"]
        if key in keys:
            continue
        keys.add(key)
        times = []
        for name in _TIMES:
            value = item.get(name)
            if value is None:
                # The columns' default, taken once for the batch as one flush would.
                default_time = value = default_time or utcnow()
            if value not in stored:
                stored[value] = store_time(value)
            times.append(stored[value])
        rows.append(
            (key, message_id_for(key), item["recipient_id"], item["kind"],
             *_texts_of(item["subject"], item["body"], done),
             item.get("case_id"), item.get("deadline_id"), *times, request)
        )  # fmt: skip
    if not rows:
        return 0
    if postgresql:
        return _insert_as_arrays(session, rows)
    return _insert_by_driver(session, rows)


_TIMES = ("send_after", "created_at")


def _texts_of(
    subject: str | Text,
    body: str | Text,
    done: dict[tuple[int, int], tuple[str, str | None, str, str | None]],
) -> tuple[str, str | None, str, str | None]:
    """`texts` as a tuple (subject, subject_en, body, body_en), once per subject and body
    object of a batch (`items` holds them meanwhile, so no id is reused)."""
    key = (id(subject), id(body))
    found = done.get(key)
    if found is None:
        found = done[key] = text_columns(subject, body)
    return found


def _time_store(dialect: Dialect) -> Callable[[datetime], Any]:
    """A notification time as the batch sends it: aware UTC to PostgreSQL (the parameters
    are untyped), on SQLite as the column type stores it (the driver gets it directly)."""
    if dialect.name == "postgresql":
        return _utc
    convert = Notification.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert convert is not None
    return convert


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
# A row of enqueue_many: the array columns, then the request id.
_ROW_COLUMNS = (*_ARRAY_COLUMNS, "request_id")
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


def _insert_as_arrays(session: Session, rows: list[tuple[Any, ...]]) -> int:
    """Insert `rows` (tuples of `_ROW_COLUMNS`) in one statement; return how many were new."""
    columns = list(zip(*rows, strict=True))
    params: dict[str, Any] = {
        name: BinaryArray(values) for name, values in zip(_ARRAY_COLUMNS, columns, strict=False)
    }
    params["request_id"] = rows[0][-1]
    result = session.connection().execute(_INSERT_ARRAYS, params)
    return int(result.rowcount)


# SQLite: one prepared statement run for every row by the driver's executemany, in C. Through
# SQLAlchemy's executemany each row's parameters were built and converted in Python again (a
# third of the sweep's 08:00 tick); the times are converted once per distinct value instead.
_INSERT_SQLITE = (
    sqlite_insert(Notification)
    .values({**{name: bindparam(name) for name in _ROW_COLUMNS}, "attempts": literal_column("0")})
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
)


def _insert_by_driver(session: Session, rows: list[tuple[Any, ...]]) -> int:
    """Insert `rows` (tuples of `_ROW_COLUMNS`, times converted) on SQLite; return how many
    were new."""
    connection = session.connection()
    compiled = _INSERT_SQLITE.compile(dialect=connection.dialect)
    order = compiled.positiontup
    assert order is not None and sorted(order) == sorted(_ROW_COLUMNS)
    # The compiled statement takes the table's column order.
    reorder = operator.itemgetter(*(_ROW_COLUMNS.index(name) for name in order))
    result = connection.exec_driver_sql(compiled.string, [reorder(row) for row in rows])
    return int(result.rowcount)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:  # as UTCDateTime, which these untyped parameters bypass
        raise ValueError("naive datetime given; use an aware datetime in UTC")
    return value.astimezone(UTC)
