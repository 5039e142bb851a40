"""Lists for the API: the cases filter and opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, load_only

from models import Body, Case, Deadline, case_national_goals
from workflow.api.problems import ApiProblem
from workflow.api.schema import INT32_MAX
from workflow.cases.queries import open_deadline
from workflow.engine import clock, values

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# A cursor is opaque, but a bare id is accepted too (the page after that id, newest first;
# `0` is an empty page): a client may then start from an id it knows.
CURSOR_SCHEMA = {
    "type": "string",
    "maxLength": 500,
    "minLength": 1,
    "pattern": "^[A-Za-z0-9_-]+$",
    "examples": ["WzEyXQ", "12"],
}
CURSOR_DESCRIPTION = (
    "'next_cursor' fra det forrige svar (uigennemsigtig), eller et id: siden med de "
    "ældre elementer end det id."
)


def encode_cursor(*values: Any) -> str:
    """Pack the position after the last item into an opaque string."""
    raw = json.dumps(list(values), separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """Unpack a cursor from `encode_cursor`; answer 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        values = None
    if not isinstance(values, list):
        raise ApiProblem(
            "bad-request",
            "Cursoren er ugyldig. Brug værdien af 'next_cursor' fra det forrige svar uændret.",
            "The cursor is invalid. Pass 'next_cursor' from the previous response unchanged.",
            errors=[
                {"field": "cursor", "message": "Ugyldig cursor.", "message_da": "Ugyldig cursor.",
                 "message_en": "Invalid cursor."}
            ],
        )  # fmt: skip
    return values


def cursor_id(cursor: str | None) -> int | None:
    """The id a single-id cursor points after, or None for the first page."""
    if cursor is None:
        return None
    if cursor.isdigit() and cursor.isascii():
        return min(int(cursor), INT32_MAX + 1)
    values = decode_cursor(cursor)
    if len(values) != 1 or not isinstance(values[0], int) or isinstance(values[0], bool):
        decode_cursor("")
    value: int = values[0]
    return max(0, min(value, INT32_MAX + 1))


@dataclass(frozen=True)
class CaseFilter:
    """The case list's filters, as the web list offers them, plus free text and a time."""

    process: str | None = None
    state: str | None = None
    body: str | None = None
    focus_area: int | None = None
    national_goal: int | None = None
    overdue: bool | None = None
    q: str | None = None
    updated_since: datetime | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def filtered_cases(session: Session, f: CaseFilter) -> Select[tuple[Case]]:
    """Select the cases matching every given filter."""
    query = select(Case)
    if f.process:
        query = query.where(Case.process == f.process)
    if f.state:
        query = query.where(Case.state == f.state)
    if f.body:
        body_id = session.scalar(select(Body.id).where(Body.code == f.body))
        query = query.where(
            or_(Case.current_body_id == body_id, Case.originating_body_id == body_id)
        )
    if f.focus_area is not None:
        query = query.where(Case.focus_area_id == f.focus_area)
    if f.national_goal is not None:
        query = query.where(
            exists().where(
                case_national_goals.c.case_id == Case.id,
                case_national_goals.c.national_goal_id == f.national_goal,
            )
        )
    if f.overdue is not None:
        late = exists().where(
            Deadline.case_id == Case.id, open_deadline(), Deadline.due_at < clock.now()
        )
        query = query.where(late if f.overdue else ~late)
    if f.q:
        pattern = _like(f.q)
        conditions: list[ColumnElement[bool]] = [
            func.lower(Case.title).like(pattern, escape="\\"),
            func.lower(Case.summary).like(pattern, escape="\\"),
            func.lower(func.coalesce(Case.esdh_case_number, "")).like(pattern, escape="\\"),
        ]
        if (case_id := values.parse_id(f.q)) is not None:
            conditions.append(Case.id == case_id)
        query = query.where(or_(*conditions))
    if f.updated_since is not None:
        query = query.where(Case.updated_at >= f.updated_since)
    return query


def case_page(
    session: Session,
    f: CaseFilter,
    limit: int,
    after_id: int | None,
    visible: ColumnElement[bool],
) -> tuple[list[tuple[Case, datetime | None]], str | None]:
    """Return one page of the visible matching cases, the newest first, each with its next
    deadline, and the next cursor."""
    query = filtered_cases(session, f).where(visible)
    if after_id is not None:
        query = query.where(Case.id < after_id)
    # One statement by the primary key's order; only the columns a summary shows (the long
    # texts and the fields' JSON stay in the database), the next deadline as the engine keeps
    # it on the case.
    cases = list(
        session.scalars(query.options(*_SUMMARY_LOADING).order_by(Case.id.desc()).limit(limit + 1))
    )
    more = len(cases) > limit
    found = [(case, case.next_due_at) for case in cases[:limit]]
    return found, encode_cursor(found[-1][0].id) if more else None


# What `serialize.case_summary` reads of a case and its bodies; built once, as options are
# immutable and building them costs more than the rows they load.
_BODY_COLUMNS = (Body.id, Body.code, Body.name)
_SUMMARY_LOADING = (
    load_only(
        Case.id,
        Case.process,
        Case.process_version,
        Case.state,
        Case.version,
        Case.title,
        Case.originating_body_id,
        Case.current_body_id,
        Case.focus_area_id,
        Case.created_at,
        Case.updated_at,
        Case.state_entered_at,
        Case.next_due_at,
    ),
    joinedload(Case.current_body).load_only(*_BODY_COLUMNS),
    joinedload(Case.originating_body).load_only(*_BODY_COLUMNS),
)
