"""Keyset pages of the web case list: a page continues after (or before) the last (first) row
of the page shown, found through the sort column's index, instead of OFFSET, which reads and
throws away every row before the page.

A cursor names the row's sort value and id, so a case changed meanwhile does not move the
page boundary. It travels in the address as URL-safe base64 of JSON; anything that does not
decode to a value the sort column can hold is no cursor (the list starts from the top).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, or_


@dataclass(frozen=True)
class Cursor:
    """A position in the list: the sort value of a row (None: no deadline) and its id."""

    value: datetime | str | int | None
    case_id: int


@dataclass(frozen=True)
class Bound:
    """A cursor's position as bound parameters (`value` None: among the rows without a
    value), so that a page's statement is built once per shape and reused with new values."""

    value: Any
    case_id: Any


def encode(value: datetime | str | int | None, case_id: int) -> str:
    """The cursor of a row, as it goes in the address."""
    plain = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([plain, case_id], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode(text: str | None, kind: type) -> Cursor | None:
    """The cursor in `text` for a sort column holding `kind` values, or None if it is none."""
    if not text or len(text) > 2000:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, case_id = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None
    if not isinstance(case_id, int) or isinstance(case_id, bool) or not 0 < case_id < 2**63:
        return None
    if value is None:
        return Cursor(None, case_id)
    try:
        if kind is datetime and isinstance(value, str):
            return Cursor(datetime.fromisoformat(value), case_id)
    except ValueError:
        return None
    if kind is str and isinstance(value, str):
        return Cursor(value, case_id)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return Cursor(value, case_id)
    return None


def beyond(
    column: SQLColumnExpression[Any],
    id_column: SQLColumnExpression[int],
    cursor: Cursor | Bound,
    *,
    descending: bool,
    nullable: bool,
) -> ColumnElement[bool]:
    """Rows after `cursor` in the list's order: by `column` (rows without a value last,
    when it may have none), then by id, both ascending or both descending. Written so the
    column's index bounds the scan (`column <= v AND ...`)."""
    later_id = id_column < cursor.case_id if descending else id_column > cursor.case_id
    if cursor.value is None:
        # Among the rows without a value, by id; nothing with a value comes after them.
        return and_(column.is_(None), later_id)
    if descending:
        bounded = and_(column <= cursor.value, or_(column < cursor.value, later_id))
    else:
        bounded = and_(column >= cursor.value, or_(column > cursor.value, later_id))
    return or_(column.is_(None), bounded) if nullable else bounded


def before(
    column: SQLColumnExpression[Any],
    id_column: SQLColumnExpression[int],
    cursor: Cursor | Bound,
    *,
    descending: bool,
    nullable: bool,
) -> ColumnElement[bool]:
    """Rows before `cursor` in the same order as `beyond` (read backwards for the page
    before)."""
    earlier_id = id_column > cursor.case_id if descending else id_column < cursor.case_id
    if cursor.value is None:
        return or_(column.is_not(None), and_(column.is_(None), earlier_id))
    if descending:
        bounded = and_(column >= cursor.value, or_(column > cursor.value, earlier_id))
    else:
        bounded = and_(column <= cursor.value, or_(column < cursor.value, earlier_id))
    return and_(column.is_not(None), bounded) if nullable else bounded
