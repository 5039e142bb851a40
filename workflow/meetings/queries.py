"""Reading meetings: the past meetings of the user's bodies, searched and a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from models import AgendaItem, Body, Meeting
from workflow.engine.clock import LOCAL_TZ

PAGE_SIZE = 20


@dataclass(frozen=True)
class PastSearch:
    """What the reader searches for: words in the title, body or items, and a date range."""

    text: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1


@dataclass(frozen=True)
class PastPage:
    meetings: Sequence[Meeting]
    total: int
    page: int
    pages: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _filtered(body_ids: list[int], search: PastSearch, now: datetime) -> Select[tuple[Meeting]]:
    query = (
        select(Meeting)
        .join(Body, Body.id == Meeting.body_id)
        .where(Meeting.body_id.in_(body_ids), Meeting.starts_at < now)
    )
    if search.text:
        pattern = _like(search.text)
        on_agenda = select(AgendaItem.meeting_id).where(
            AgendaItem.removed_at.is_(None), func.lower(AgendaItem.title).like(pattern, "\\")
        )
        query = query.where(
            or_(
                func.lower(Meeting.title).like(pattern, "\\"),
                func.lower(Meeting.location).like(pattern, "\\"),
                func.lower(Body.code).like(pattern, "\\"),
                func.lower(Body.name).like(pattern, "\\"),
                Meeting.id.in_(on_agenda),
            )
        )
    if search.since is not None:
        query = query.where(Meeting.starts_at >= datetime.combine(search.since, time(), LOCAL_TZ))
    if search.until is not None:
        end = datetime.combine(search.until + timedelta(days=1), time(), LOCAL_TZ)
        query = query.where(Meeting.starts_at < end)
    return query


def past_meetings(
    session: Session, body_ids: list[int], search: PastSearch, now: datetime
) -> PastPage:
    """The bodies' meetings that have begun, newest first, one page (paginated in the database)."""
    query = _filtered(body_ids, search, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(search.page, 1), pages)
    rows = session.scalars(
        query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return PastPage(rows, total, page, pages)
