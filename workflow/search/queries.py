"""Search: the documents matching a query among those the access policy lets the user see,
ranked, counted, paged and highlighted.

The policy's filter is part of the same WHERE as the match, so what a user may not see is
neither ranked, counted nor shown (a closed item's words do not even change the counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from models import Body, Case, Meeting, SearchDocument, User, case_national_goals
from workflow import policy
from workflow.search import snippets, terms
from workflow.search.index import KINDS
from workflow.search.operations import FTS

PAGE_SIZE = 20
MAX_PAGE = 500
_DANISH: ColumnElement[Any] = literal_column("'danish'::regconfig")
_TSV: ColumnElement[Any] = literal_column("search_documents.tsv")


@dataclass(frozen=True)
class SearchFilter:
    """What the user searches for, and the filters beside it (all optional but the text)."""

    text: str
    process: str = ""
    state: str = ""
    body_id: int | None = None
    focus_area_id: int | None = None
    national_goal_id: int | None = None
    year: int | None = None
    kind: str = ""
    page: int = 1


@dataclass(frozen=True)
class Hit:
    """One result: what and where it is, with the matched words marked."""

    id: int
    kind: str
    source_id: int
    title: Markup
    snippet: Markup
    happened_at: datetime
    case_id: int | None
    case_title: str
    meeting_id: int | None
    meeting_title: str
    meeting_starts_at: datetime | None
    body_code: str


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int
    by_kind: dict[str, int] = field(default_factory=dict)
    page: int = 1
    query: list[terms.Term] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _tsquery(query: list[terms.Term]) -> Any:
    parts: list[Any] = []
    for term in query:
        if term.phrase:
            parts.append(func.phraseto_tsquery(_DANISH, term.text))
        elif term.prefix:
            parts.append(func.to_tsquery(_DANISH, term.text + ":*"))
        else:
            parts.append(func.plainto_tsquery(_DANISH, term.text))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("&&")(part)
    return combined


def fts_query(query: list[terms.Term]) -> str:
    """The FTS5 MATCH expression of a query (stems only: nothing the user typed reaches it)."""
    parts = []
    for term in query:
        quoted = '"' + " ".join(term.stems) + '"'
        parts.append(quoted + "*" if term.prefix else quoted)
    return " AND ".join(parts)


def _visible(session: Session, user: User | None) -> ColumnElement[bool]:
    """The documents `user` may read: those of the cases the policy shows, and agenda items
    under the meetings' rules (a closed item only to whom the policy shows closed items)."""
    doc = SearchDocument
    # Correlated: each matching document's case is looked up by its key (an IN over the
    # visible cases would read every case first).
    case_visible = exists(
        select(Case.id).where(Case.id == doc.case_id, policy.visible_cases(session, user))
    )
    items = policy.visible_agenda_items(session, user, doc.body_id, doc.closed)
    return or_(
        and_(doc.kind == "item", items, or_(doc.case_id.is_(None), case_visible)),
        and_(doc.kind != "item", case_visible),
    )


def _filtered(criteria: SearchFilter) -> list[ColumnElement[bool]]:
    doc = SearchDocument
    found: list[ColumnElement[bool]] = []
    case_filter = []
    if criteria.process:
        case_filter.append(Case.process == criteria.process)
    if criteria.state:
        case_filter.append(Case.state == criteria.state)
    if criteria.focus_area_id is not None:
        case_filter.append(Case.focus_area_id == criteria.focus_area_id)
    if criteria.national_goal_id is not None:
        case_filter.append(
            Case.id.in_(
                select(case_national_goals.c.case_id).where(
                    case_national_goals.c.national_goal_id == criteria.national_goal_id
                )
            )
        )
    if case_filter:
        found.append(doc.case_id.in_(select(Case.id).where(*case_filter)))
    if criteria.body_id is not None:
        held = select(Case.id).where(
            or_(
                Case.current_body_id == criteria.body_id,
                Case.originating_body_id == criteria.body_id,
            )
        )
        found.append(or_(doc.body_id == criteria.body_id, doc.case_id.in_(held)))
    if criteria.year is not None:
        start = datetime(criteria.year, 1, 1, tzinfo=UTC)
        found.append(doc.happened_at >= start)
        found.append(doc.happened_at < start.replace(year=criteria.year + 1))
    return found


def _matching(session: Session, query: list[terms.Term]) -> tuple[Select[Any], Any]:
    """SELECT id, kind, rank of the matching documents, and the rank's ordering."""
    doc = SearchDocument
    if session.get_bind().dialect.name == "postgresql":
        tsquery = _tsquery(query)
        rank = func.ts_rank_cd(_TSV, tsquery).label("rank")
        base = select(doc.id, doc.kind, rank).where(_TSV.op("@@")(tsquery))
        return base, rank.desc()
    rank = func.bm25(literal_column("search_fts"), 4.0, 1.0).label("rank")
    base = (
        select(doc.id, doc.kind, rank)
        .select_from(FTS)
        .join(doc, doc.id == FTS.c.rowid)
        .where(text("search_fts MATCH :fts_query").bindparams(fts_query=fts_query(query)))
    )
    return base, rank.asc()


def search(session: Session, user: User | None, criteria: SearchFilter) -> Results:
    """The page of hits for `criteria`, best first (ties by newest document), with the total
    and the count per kind of hit, all within what `user` may see."""
    query = terms.parse(criteria.text)
    if not query:
        return Results([], 0, {}, 1, query)
    base, order = _matching(session, query)
    base = base.where(_visible(session, user), *_filtered(criteria))
    counted = base.subquery()
    by_kind = {
        kind: count
        for kind, count in session.execute(
            select(counted.c.kind, func.count()).group_by(counted.c.kind)
        )
    }
    if criteria.kind:
        base = base.where(SearchDocument.kind == criteria.kind)
    total = by_kind.get(criteria.kind, 0) if criteria.kind else sum(by_kind.values())
    page = max(1, min(criteria.page, MAX_PAGE))
    rows = session.execute(
        base.order_by(order, SearchDocument.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    ids = [row.id for row in rows]
    return Results(_hits(session, ids, query), total, by_kind, page, query)


def matching_ids(session: Session, user: User | None, criteria: SearchFilter) -> list[int]:
    """Every matching (source kind, id) as "kind:id", sorted: what a corpus test compares."""
    query = terms.parse(criteria.text)
    if not query:
        return []
    base, _order = _matching(session, query)
    base = base.where(_visible(session, user), *_filtered(criteria))
    return sorted(row.id for row in session.execute(base))


def _hits(session: Session, ids: list[int], query: list[terms.Term]) -> list[Hit]:
    if not ids:
        return []
    docs = {
        d.id: d for d in session.scalars(select(SearchDocument).where(SearchDocument.id.in_(ids)))
    }
    case_ids = {d.case_id for d in docs.values() if d.case_id is not None}
    meeting_ids = {d.meeting_id for d in docs.values() if d.meeting_id is not None}
    cases = {
        row.id: row.title
        for row in session.execute(select(Case.id, Case.title).where(Case.id.in_(case_ids)))
    }
    meetings = {
        row.id: row
        for row in session.execute(
            select(Meeting.id, Meeting.title, Meeting.starts_at, Body.code)
            .join(Body, Body.id == Meeting.body_id)
            .where(Meeting.id.in_(meeting_ids))
        )
    }
    hits = []
    for doc_id in ids:
        doc = docs[doc_id]
        meeting = meetings.get(doc.meeting_id) if doc.meeting_id is not None else None
        case_title = cases.get(doc.case_id, "") if doc.case_id is not None else ""
        hits.append(
            Hit(
                id=doc.id,
                kind=doc.kind,
                source_id=doc.source_id,
                title=snippets.highlight(doc.title or case_title, query, whole=True),
                snippet=snippets.highlight(doc.body, query),
                happened_at=doc.happened_at,
                case_id=doc.case_id,
                case_title=case_title,
                meeting_id=doc.meeting_id,
                meeting_title=meeting.title if meeting else "",
                meeting_starts_at=meeting.starts_at if meeting else None,
                body_code=meeting.code if meeting else "",
            )
        )
    return hits


__all__ = ["KINDS", "PAGE_SIZE", "Hit", "Results", "SearchFilter", "matching_ids", "search"]
