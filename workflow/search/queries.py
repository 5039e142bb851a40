"""Search: the documents matching a query among those the access policy lets the user see,
ranked, counted, paged and highlighted.

The policy's filter is part of the same WHERE as the match, so what a user may not see is
neither ranked, counted nor shown (a closed item's words do not even change the counts).

A search costs in proportion to the page, not to the matches: the candidates are the newest
RANKED + 1 visible matches in the index's order (document id, newest first, which the full-text
index hands out in that order), so the count stops at RANKED ("more than 1,000") and only those
candidates are ranked; snippets are made for the page of 20 only (docs/search.md, "Cost").
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
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session, aliased

from models import (
    Body,
    Case,
    FollowUpItem,
    Meeting,
    SearchDocument,
    User,
    case_national_goals,
)
from workflow import policy
from workflow.search import snippets, terms
from workflow.search.index import KINDS
from workflow.search.operations import FTS

PAGE_SIZE = 20
MAX_PAGE = 500
# How many matches are counted and ranked at most; beyond it the count reads "more than".
RANKED = 1000
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
    """A page of hits. `total` and `by_kind` count every visible match, unless `capped`: then
    there are more than RANKED, the newest RANKED of them are ranked and paged, and `total`
    and `by_kind` count those."""

    hits: list[Hit]
    total: int
    by_kind: dict[str, int] = field(default_factory=dict)
    page: int = 1
    query: list[terms.Term] = field(default_factory=list)
    capped: bool = False

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


def _visible(
    session: Session, user: User | None, doc: Any, case_visible: ColumnElement[bool]
) -> ColumnElement[bool]:
    """The documents `user` may read: those of the cases the policy shows, and agenda items
    under the meetings' rules (a closed item only to whom the policy shows closed items).

    `case_visible` says whether the user may see the document's case, joined on its key by
    `_matches` (the policy's `visible_cases`), instead of a subquery per document."""
    items = policy.visible_agenda_items(session, user, doc.body_id, doc.closed)
    # An item: the meetings' rule, and its case's if it has one; a follow-up: the register's
    # rule and its case's; anything else: its case's. (Written so the case's rule, with its
    # EXISTS, appears once in the statement.)
    return and_(
        or_(doc.kind != "item", items),
        or_(doc.kind != "follow_up", _follow_ups_readable(session, user, doc)),
        or_(and_(doc.kind == "item", doc.case_id.is_(None)), case_visible),
    )


def _follow_ups_readable(session: Session, user: User | None, doc: Any) -> ColumnElement[bool]:
    """The follow-up items the decision register lets `user` read besides the case's rule
    (`workflow.meetings.register.may_read`): their owner's, and all of a body whose register
    the user keeps (everything for whom the policy lets keep every body's)."""
    if user is None or not user.active:
        return false()
    if policy.may(user, "keep_templates", None, session):
        return true()
    kept = [body.id for body in policy.bodies_where(session, user, "keep_templates")]
    owned = doc.source_id.in_(select(FollowUpItem.id).where(FollowUpItem.owner_id == user.id))
    return or_(owned, doc.body_id.in_(kept)) if kept else owned


def _filtered(criteria: SearchFilter, doc: Any, case: Any) -> list[ColumnElement[bool]]:
    """The filters beside the text, read from the document and its joined case."""
    found: list[ColumnElement[bool]] = []
    if criteria.process:
        found.append(case.process == criteria.process)
    if criteria.state:
        found.append(case.state == criteria.state)
    if criteria.focus_area_id is not None:
        found.append(case.focus_area_id == criteria.focus_area_id)
    if criteria.national_goal_id is not None:
        found.append(
            doc.case_id.in_(
                select(case_national_goals.c.case_id).where(
                    case_national_goals.c.national_goal_id == criteria.national_goal_id
                )
            )
        )
    if criteria.body_id is not None:
        found.append(
            or_(
                doc.body_id == criteria.body_id,
                case.current_body_id == criteria.body_id,
                case.originating_body_id == criteria.body_id,
            )
        )
    if criteria.year is not None:
        start = datetime(criteria.year, 1, 1, tzinfo=UTC)
        found.append(doc.happened_at >= start)
        found.append(doc.happened_at < start.replace(year=criteria.year + 1))
    return found


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _matches(
    session: Session, query: list[terms.Term], user: User | None
) -> tuple[Select[Any], Any, Any, ColumnElement[bool]]:
    """SELECT id, kind, rank of the documents matching `query`, newest document first, each
    with its case joined (LEFT: an agenda item may have none); the documents' and the cases'
    entities the filters are to name; and whether `user` may see the joined case. The rank is
    lower-is-better (bm25) on SQLite, None on PostgreSQL (ranked later, for the page)."""
    if not _is_postgresql(session):
        # FTS5 hands out its matches in rowid order, so the newest come first without a sort,
        # and bm25 is computed only for the rows read; each case is read by its key.
        rank = func.bm25(literal_column("search_fts"), 4.0, 1.0).label("rank")
        found = (
            select(SearchDocument.id, SearchDocument.kind, rank)
            .select_from(FTS)
            .join(SearchDocument, SearchDocument.id == FTS.c.rowid)
            .where(text("search_fts MATCH :fts_query").bindparams(fts_query=fts_query(query)))
            .outerjoin(Case, Case.id == SearchDocument.case_id)
            .order_by(FTS.c.rowid.desc())
        )
        case_visible = and_(Case.id.is_not(None), policy.visible_cases(session, user))
        return found, SearchDocument, Case, case_visible
    # The matching ids sorted first, in a subquery the planner keeps; then each one's case is
    # read by its key, with the policy's rule, in a LATERAL subquery (a nested loop in id
    # order), so reading stops at the LIMIT. Joined flat, the planner hashes every case and
    # every draft's history for a common word (EXPLAIN ANALYZE: 0.7 s at 100,000 cases).
    found_doc = SearchDocument
    matched = (
        select(  # only what the filters read: the texts stay on disk
            found_doc.id, found_doc.kind, found_doc.source_id, found_doc.case_id,
            found_doc.body_id, found_doc.closed, found_doc.happened_at,
        )
        .where(_TSV.op("@@")(_tsquery(query)))
        .order_by(found_doc.id.desc())
        .offset(0)
        .subquery("matched")
    )  # fmt: skip
    doc: Any = matched.c
    seen = (
        select(Case)
        .where(Case.id == doc.case_id, policy.visible_cases(session, user))
        .limit(1)
        .lateral("seen_case")
    )
    case: Any = aliased(Case, seen)
    found = (
        select(doc.id, doc.kind, null().label("rank"))
        .select_from(matched)
        .outerjoin(seen, true())
        .order_by(doc.id.desc())
    )
    return found, doc, case, case.id.is_not(None)


def _candidates(
    session: Session,
    user: User | None,
    query: list[terms.Term],
    criteria: SearchFilter,
    kind: str = "",
) -> list[tuple[int, str, float | None]]:
    """(id, kind, rank) of the newest RANKED + 1 matches `user` may see, within the filters."""
    found, doc, case, case_visible = _matches(session, query, user)
    found = found.where(_visible(session, user, doc, case_visible), *_filtered(criteria, doc, case))
    if kind:
        found = found.where(doc.kind == kind)
    found = found.limit(RANKED + 1)
    if _is_postgresql(session):
        # Ranked in the same statement, each candidate's tsvector read by its key (lower is
        # better, as bm25).
        capped = found.subquery("candidates")
        rank = (-func.ts_rank_cd(_TSV, _tsquery(query))).label("rank")
        found = (
            select(capped.c.id, capped.c.kind, rank)
            .join(SearchDocument, SearchDocument.id == capped.c.id)
            .order_by(capped.c.id.desc())
        )
    return [(row.id, row.kind, row.rank) for row in session.execute(found)]


def _ranked_page(candidates: list[tuple[int, str, float | None]], page: int) -> list[int]:
    """The ids of one page of the candidates, best first (ties: the newest document first)."""
    first = (page - 1) * PAGE_SIZE
    ranked = sorted(candidates, key=lambda entry: (entry[2] or 0.0, -entry[0]))
    return [doc_id for doc_id, _kind, _rank in ranked[first : first + PAGE_SIZE]]


def search(session: Session, user: User | None, criteria: SearchFilter) -> Results:
    """The page of hits for `criteria`, best first (ties by newest document), with the total
    and the count per kind of hit, all within what `user` may see."""
    query = terms.parse(criteria.text)
    if not query:
        return Results([], 0, {}, 1, query)
    candidates = _candidates(session, user, query, criteria)
    capped = len(candidates) > RANKED
    candidates = candidates[:RANKED]
    by_kind: dict[str, int] = {}
    for _id, kind, _rank in candidates:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    if criteria.kind:
        if capped:  # the kind's own newest RANKED, not those among all kinds' newest
            candidates = _candidates(session, user, query, criteria, criteria.kind)
            capped = len(candidates) > RANKED
            candidates = candidates[:RANKED]
        else:
            candidates = [entry for entry in candidates if entry[1] == criteria.kind]
    page = max(1, min(criteria.page, MAX_PAGE))
    ids = _ranked_page(candidates, page)
    return Results(_hits(session, ids, query), len(candidates), by_kind, page, query, capped=capped)


def matching_ids(session: Session, user: User | None, criteria: SearchFilter) -> list[int]:
    """Every matching document's id, sorted, uncapped: what a corpus test compares."""
    query = terms.parse(criteria.text)
    if not query:
        return []
    found, doc, case, case_visible = _matches(session, query, user)
    found = found.where(_visible(session, user, doc, case_visible), *_filtered(criteria, doc, case))
    return sorted(row.id for row in session.execute(found))


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


__all__ = [
    "KINDS",
    "PAGE_SIZE",
    "RANKED",
    "Hit",
    "Results",
    "SearchFilter",
    "matching_ids",
    "search",
]
