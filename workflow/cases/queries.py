"""Read-side queries of the web pages: the dashboard's sections, a case's timeline, lists."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    Row,
    Select,
    Subquery,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models import (
    Body,
    BodyKind,
    Case,
    CaseEvent,
    CaseExpense,
    Consultation,
    Deadline,
    DeadlineKind,
    FocusArea,
    Meeting,
    MeetingStatus,
    Membership,
    NationalGoal,
    Party,
    Role,
    User,
    case_national_goals,
)
from workflow.cases import keyset
from workflow.consultations import operations as consultations
from workflow.engine import core as engine
from workflow.engine import session_cache
from workflow.engine.calendar import local_date
from workflow.engine.db import written
from workflow.engine.definitions import ProcessDefinition, TransitionSpec
from workflow.engine.formandskab import PROPOSED, side_of
from workflow.engine.processes import registry
from workflow.implementation.operations import INDICATOR_VALUES_TRIGGER
from workflow.web import i18n
from workflow.web.i18n import _, _l, label, pick

CHAIR_ROLES = (Role.CHAIR, Role.VICE_CHAIR)
ROLE_LABELS = {
    Role.CHAIR: _l("Formand"),
    Role.VICE_CHAIR: _l("Næstformand"),
    Role.MEMBER: _l("Medlem"),
    Role.SECRETARIAT: _l("Sekretariat"),
    Role.OBSERVER: _l("Observatør"),
}
# Decisions are usually recorded shortly after the meeting; older meetings clutter the select.
DECISION_MEETING_LOOKBACK = timedelta(days=180)
CASE_LIST_LIMIT = 200
PAGE_SIZE = 25
EXPORT_LIMIT = 10_000
# The front page shows the first few rows of each section and links to the full list (the
# case list filtered to the section, `afsnit=`): nobody reads hundreds of rows there, and each
# row costs the page its rendering (and, in "Vores sager", the next step's guards).
DECISIONS_SHOWN = 10
OUR_CASES_SHOWN = 10
OVERDUE_SHOWN = 10
THIS_WEEK_SHOWN = 10
MATERIAL_SHOWN = 10
LATER_SHOWN = 10
ELSEWHERE_SHOWN = 10
# A section's total is counted up to this many ("over 50" beyond; the full list counts on):
# the count reads ids by index but checks each case's visibility (about 25 µs a case on
# SQLite: counting the secretariat's 20,000 overdue deadlines would cost half a second), and
# beyond about 100 rows per body PostgreSQL turns the per-body index scans into bitmap scans
# of every open case of the bodies (0.6 ms at 51, 330 ms at 101, at 100,000 cases).
SECTION_COUNT_CAP = 50

# The front page's sections that the case list can be filtered to (`/sager?afsnit=…`): the
# same criteria, for the same user, so "Se alle" lists exactly the section's cases.
TO_DECIDE = "til-beslutning"
OUR_CASES = "vores-sager"
OVERDUE = "overskredne-frister"
THIS_WEEK = "frister-7-dage"
MATERIAL = "materialefrister"
LATER = "senere-frister"
ELSEWHERE = "venter-hos-andre"
SECTION_LABELS = {
    TO_DECIDE: _l("Til beslutning hos dit formandskab"),
    OUR_CASES: _l("Åbne sager rejst af dine samordningsudvalg"),
    OVERDUE: _l("Med overskredne frister i organer, du er sekretariat for"),
    THIS_WEEK: _l("Med frister de næste 7 dage i organer, du er sekretariat for"),
    MATERIAL: _l("Med kommende materialefrister i organer, du er sekretariat for"),
    LATER: _l("Med opfølgning og senere frister i organer, du er sekretariat for"),
    ELSEWHERE: _l("Fra organer, du er sekretariat for, hos et andet organ"),
}
DEADLINE_SECTIONS = (OVERDUE, THIS_WEEK, MATERIAL, LATER)

T = TypeVar("T")


@dataclass(frozen=True)
class Section(Generic[T]):
    """The first rows of a front-page section and how many there are in all."""

    rows: list[T]
    total: int  # exact up to SECTION_COUNT_CAP
    more_than_cap: bool = False

    @property
    def more(self) -> bool:
        """Whether the section has rows it does not show."""
        return self.more_than_cap or self.total > len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class Roles:
    """The bodies in which the user has each role the front page has a section for."""

    chaired: frozenset[int]
    chaired_codes: frozenset[str]
    committees: frozenset[int]
    secretariats: frozenset[int]


def roles_of(memberships: Sequence[Membership]) -> Roles:
    """The user's bodies by role, from their active memberships."""
    return Roles(
        chaired=frozenset(m.body_id for m in memberships if m.role in CHAIR_ROLES),
        chaired_codes=frozenset(m.body.code for m in memberships if m.role in CHAIR_ROLES),
        committees=frozenset(
            m.body_id for m in memberships if m.body.kind == BodyKind.COORDINATION_COMMITTEE
        ),
        secretariats=frozenset(m.body_id for m in memberships if m.role == Role.SECRETARIAT),
    )


@dataclass(frozen=True)
class CaseRow:
    """A case as a list shows it: its state's label and its next open deadline."""

    case: Case
    process_title: str
    state_label: str
    next_deadline: datetime | None

    # What a table of cases shows of the case, named as ListRow names it (one table for both).
    @property
    def id(self) -> int:
        return self.case.id

    @property
    def version(self) -> int:
        return self.case.version

    @property
    def title(self) -> str:
        return self.case.title

    @property
    def origin_code(self) -> str:
        return self.case.originating_body.code

    @property
    def origin_name(self) -> str:
        return self.case.originating_body.name

    @property
    def body_code(self) -> str:
        return self.case.current_body.code

    @property
    def body_name(self) -> str:
        return self.case.current_body.name


@dataclass(frozen=True)
class ShownDeadline:
    """What the deadline board shows of a deadline: read as plain values, not as objects of
    the session (a board shows 40 of them)."""

    id: int
    kind: DeadlineKind
    due_at: datetime
    meeting_id: int | None


@dataclass(frozen=True)
class ShownCase:
    """What the deadline board shows of a deadline's case."""

    id: int
    title: str


@dataclass(frozen=True)
class OverdueRow:
    """An open deadline that has passed, with the case it belongs to."""

    deadline: ShownDeadline
    case: ShownCase
    state_label: str
    days_overdue: int


@dataclass(frozen=True)
class DecisionRow:
    """A case before a body the user chairs, and the decision form to open."""

    row: ListRow
    trigger: str
    trigger_label: str


@dataclass(frozen=True)
class OurCaseRow:
    """A case of the user's committee: where it is, its next step and what blocks that."""

    row: CaseRow
    next_step: str | None
    blockers: list[str]


@dataclass(frozen=True)
class DeadlineRow:
    """An open deadline with its case and, for material deadlines, the meeting."""

    deadline: ShownDeadline
    case: ShownCase
    state_label: str
    meeting: Meeting | None


@dataclass(frozen=True)
class MeetingMaterial:
    """A coming meeting of the secretariat's body and the material due for it."""

    meeting: Meeting
    rows: list[DeadlineRow]


@dataclass(frozen=True)
class Board:
    """The secretariat's deadline board: the first rows of each section and their totals."""

    overdue: Section[OverdueRow]
    this_week: Section[DeadlineRow]
    material: Section[DeadlineRow]
    waiting_elsewhere: Section[ListRow]
    later: Section[DeadlineRow]

    @property
    def per_meeting(self) -> list[MeetingMaterial]:
        """The material deadlines shown, by meeting, the earliest meeting first."""
        meetings: dict[int, MeetingMaterial] = {}
        for row in self.material:
            if row.meeting is not None:
                meetings.setdefault(row.meeting.id, MeetingMaterial(row.meeting, [])).rows.append(
                    row
                )
        return sorted(meetings.values(), key=lambda m: (m.meeting.starts_at, m.meeting.id))


@dataclass(frozen=True)
class Dashboard:
    """What the front page shows; a section is None when the user has no role for it."""

    memberships: list[Membership]
    to_decide: Section[DecisionRow] | None
    our_cases: Section[OurCaseRow] | None
    board: Board | None
    # Proposals of another co-chair awaiting this user's consent (seed 000 l.83-85).
    awaiting_consent: list[PendingProposal] | None = None


@dataclass(frozen=True)
class PendingProposal:
    """A co-chair's decision proposed to the chairmanship, awaiting the other co-chair."""

    case: Case
    trigger: str
    action: str
    proposed_by: str
    proposed_at: datetime


PROPOSALS_LIMIT = 50


def awaiting_consent(
    session: Session, user: User, chaired: set[int], visible: ColumnElement[bool]
) -> list[PendingProposal]:
    """The proposals in the user's chaired bodies that the user, as the other co-chair, may
    consent to: made in the case's current stay in its state, by someone else, from the other
    side where the sides are known."""
    if not chaired:
        return []
    rows = session.execute(_proposals(visible, PROPOSALS_LIMIT), {"user_id": user.id}).all()
    mine = side_of(user)
    found: list[PendingProposal] = []
    for event, case in rows:
        data = event.data or {}
        if data.get("body_id") not in chaired:
            continue
        if mine is not None and data.get("side") == mine:
            continue
        transition = engine.definition_of(case).transition(str(data.get("proposed_trigger")))
        if transition is None:
            continue
        who = event.actor.name if event.actor is not None else "?"
        found.append(
            PendingProposal(case, transition.trigger, label(transition), who, event.created_at)
        )
    return found


@lru_cache(maxsize=1024)
def _proposals(visible: ColumnElement[bool], limit: int) -> Select[tuple[CaseEvent, Case]]:
    # Kept per access rule (itself kept per standing), the user bound when it runs. So that
    # PostgreSQL keeps one generic plan for it, nothing bound may move its estimate: the
    # trigger is written into the SQL (bound, the generic plan counted 9,900 events of it
    # rather than 150), the actor compared through coalesce (the same test, but estimated
    # alike for every user; by the user's own share of the events, the chair's custom plans
    # came out cheaper). Else every view planned it anew: 0.4 ms of a chair's front page.
    return (
        select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.trigger == written(PROPOSED),
            CaseEvent.created_at >= Case.state_entered_at,
            CaseEvent.from_state == Case.state,
            func.coalesce(CaseEvent.actor_id, CaseEvent.actor_id) != bindparam("user_id"),
            visible,
        )
        .order_by(CaseEvent.created_at)
        .limit(limit)
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a case's history, in words."""

    event: CaseEvent
    who: str
    what: str
    from_label: str | None
    to_label: str
    detail: str
    meeting: Meeting | None
    # How the event relates to its meeting: "decided" (a decision taken there), "agenda"
    # (put on its agenda: no decision), "minutes" (noted in its minutes), or "related".
    meeting_role: str = "related"
    # The event's comment as the reader reads it: an automatic route's reason in their
    # language (its English is stored with the event); what people wrote, as written.
    comment: str | None = None
    # What the event recorded, as (label, value) in words: the transition's declared fields
    # (a KKR dialogue's date, participants and outcome; the budget adoptions), or the indicator
    # values of a plan's yearly follow-up.
    recorded: list[tuple[str, str]] = field(default_factory=list)


Definitions = dict[tuple[str, int], ProcessDefinition]


def open_deadline() -> ColumnElement[bool]:
    """The condition for a deadline that is neither met nor cancelled."""
    return and_(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))


def definitions(session: Session) -> Definitions:
    """Return every stored process definition version, keyed by (name, version)."""
    return registry.stored(session)


def open_case_condition(known: Definitions) -> ColumnElement[bool]:
    """The condition for a case that is not in a final state of the version it follows."""
    clauses = []
    for (name, version), definition in known.items():
        open_states = [written(s.name) for s in definition.states.values() if not s.final]
        clauses.append(
            and_(
                Case.process == written(name),
                Case.process_version == written(version),
                Case.state.in_(open_states),
            )
        )
    return or_(*clauses) if clauses else false()


def _with_next_deadline(query: Select[tuple[Case]]) -> Select[tuple[Case, datetime | None]]:
    # cases.next_due_at is the earliest open deadline, kept by workflow.engine.deadlines.
    return (
        query.add_columns(Case.next_due_at)
        .options(joinedload(Case.current_body), joinedload(Case.originating_body))
        .order_by(Case.next_due_at.is_(None), Case.next_due_at, Case.id)
    )


def case_rows(
    session: Session,
    query: Select[tuple[Case]],
    known: Definitions | None = None,
    *,
    goals: bool = False,
) -> list[CaseRow]:
    """Run a case query and describe each case with its state label and next deadline."""
    known = known if known is not None else definitions(session)
    full = _with_next_deadline(query)
    if goals:
        # The guards read a case's national goals; load them all in one statement.
        full = full.options(selectinload(Case.national_goals))
    rows: list[CaseRow] = []
    for case, due_at in session.execute(full).unique():
        definition = known[(case.process, case.process_version)]
        state = definition.states[case.state]
        rows.append(
            CaseRow(case, pick(definition.title, definition.title_en), label(state), due_at)
        )
    return rows


def active_memberships(session: Session, user: User) -> list[Membership]:
    """List the user's active memberships of active bodies, by body code."""
    return list(session.scalars(_ACTIVE_MEMBERSHIPS, {"user_id": user.id}))


# Every front page reads them: built once (its SQL cache key with it).
_ACTIVE_MEMBERSHIPS = (
    select(Membership)
    .join(Membership.body)
    .where(Membership.user_id == bindparam("user_id"), Membership.active.is_(True), Body.active)
    .options(joinedload(Membership.body))
    .order_by(Body.code, Membership.role)
)


def dashboard(
    session: Session, user: User, now: datetime, visible: ColumnElement[bool]
) -> Dashboard:
    """Gather the front page's sections for `user`, according to their roles, of the cases
    `visible` to them (the access policy's clause, `workflow.policy.visible_cases`)."""
    memberships = active_memberships(session, user)
    roles = roles_of(memberships)
    known = definitions(session)
    to_decide = our_cases = board = None
    if roles.chaired:
        found, total, more = _section_found(
            session, TO_DECIDE, roles, visible, known, DECISIONS_SHOWN
        )
        to_decide = Section(decisions_for(found, roles.chaired_codes, known), total, more)
    if roles.committees:
        found, total, more = _section_found(
            session, OUR_CASES, roles, visible, known, OUR_CASES_SHOWN
        )
        # The next step's guards read the whole case: the rows shown are loaded as objects.
        ours = _case_rows_by_id(session, [row.id for row in found], known, goals=True)
        our_cases = Section([_with_blockers(row, known) for row in ours], total, more)
    if roles.secretariats:
        board = deadline_board(session, roles, now, visible, known)
    proposals = (
        awaiting_consent(session, user, set(roles.chaired), visible) if roles.chaired else None
    )
    return Dashboard(memberships, to_decide, our_cases, board, proposals)


def _written_ids(ids: Iterable[int]) -> list[ColumnElement[Any]]:
    # A reader's bodies, written into a statement kept per reader (see _section_rows).
    return [written(body_id) for body_id in sorted(ids)]


def _chair_decides(
    known: Definitions, chaired: frozenset[int], chaired_codes: frozenset[str]
) -> ColumnElement[bool]:
    """The open cases (before a body in `chaired`, which the caller tests) in a state where
    its chair has an action: the test of `decisions_for` in SQL, so that the section's first
    rows, its count and its full list agree. Only the open states of each version are
    listed: the same cases as `open_case_condition` and this, in half the SQL."""
    clauses = []
    for (name, version), definition in known.items():
        always: set[str] = set()
        if_originating: set[str] = set()
        for state, spec in definition.states.items():
            if spec.final:
                continue
            for transition in definition.transitions_from(state):
                if transition.automatic_only:
                    continue
                for ref in transition.allowed:
                    if ref.role not in ("chair", "vice_chair"):
                        continue
                    # The case is before a chaired body, so "current" always holds.
                    if ref.body == "current" or ref.body in chaired_codes:
                        always.add(state)
                    elif ref.body == "originating":
                        if_originating.add(state)
        if_originating -= always
        states: list[ColumnElement[bool]] = []
        if always:
            states.append(Case.state.in_([written(s) for s in sorted(always)]))
        if if_originating:
            states.append(
                and_(
                    Case.state.in_([written(s) for s in sorted(if_originating)]),
                    Case.originating_body_id.in_(_written_ids(chaired)),
                )
            )
        if states:
            clauses.append(
                and_(
                    Case.process == written(name),
                    Case.process_version == written(version),
                    or_(*states),
                )
            )
    return or_(*clauses) if clauses else false()


Moment = datetime | ColumnElement[datetime]


def _deadline_conditions(
    section: str,
    body_ids: frozenset[int],
    now: Moment,
    week_end: Moment,
    body: ColumnElement[Any] | None = None,
) -> list[ColumnElement[bool]]:
    """Which open deadlines of `body_ids` (or of `body`, a column: one body of them at a
    time) a deadline section of the board shows (`now` and `week_end`, a week later, given
    or bound at execution: `NOW`, `WEEK_END`)."""
    # The bodies are written into the SQL, not bound: the board's statement is kept per
    # reader's bodies (_deadline_ids), and every bound value, an IN list above all, is
    # handled anew on each execution.
    if body is not None:
        of_body = Deadline.body_id == body
    elif len(body_ids) == 1:
        of_body = Deadline.body_id == written(min(body_ids))
    else:
        of_body = Deadline.body_id.in_(_written_ids(body_ids))
    conditions = [open_deadline(), of_body]
    if section == OVERDUE:
        return [*conditions, Deadline.due_at < now]
    if section == THIS_WEEK:
        return [*conditions, Deadline.due_at >= now, Deadline.due_at < week_end]
    if section == MATERIAL:
        # A material deadline falls before its meeting (workflow.engine.deadlines), so one
        # still ahead belongs to a coming meeting: the few coming meetings lead the database
        # to their deadlines by index (ordered by meeting, see _first_deadlines), instead of
        # every deadline ahead in due order. The due time is compared through coalesce (it
        # is never empty) for SQLite, whose statistics count every deadline without a
        # meeting under one key and so would rather walk the due index over them all.
        # So is the body (a deadline without one matches no body either way): through the
        # open deadlines' (body, due) index SQLite would read every open deadline of the
        # bodies for the few of the coming meetings (0.1 -> 27 ms).
        coming = select(Meeting.id).where(Meeting.starts_at >= now)
        return [
            open_deadline(),
            func.coalesce(Deadline.body_id, written(0)).in_(_written_ids(body_ids)),
            func.coalesce(Deadline.due_at, now) >= now,
            Deadline.kind == written(DeadlineKind.MATERIAL),
            Deadline.meeting_id.in_(coming),
        ]
    if section == LATER:
        return [
            *conditions,
            Deadline.due_at >= week_end,
            Deadline.kind.in_([written(DeadlineKind.FOLLOW_UP), written(DeadlineKind.STATE)]),
        ]
    raise ValueError(section)


def section_condition(
    section: str, roles: Roles, now: datetime, known: Definitions
) -> ColumnElement[bool]:
    """The cases of a front-page section (`SECTION_LABELS`) for a user with `roles`: the
    dashboard shows the first of them and the case list (`afsnit=`) all of them."""
    if section in DEADLINE_SECTIONS:
        week_end = now + timedelta(days=7)
        matching = select(Deadline.case_id).where(
            *_deadline_conditions(section, roles.secretariats, now, week_end)
        )
        return Case.id.in_(matching)
    return _case_condition(section, roles, known)


def _case_condition(
    section: str, roles: Roles, known: Definitions, body: ColumnElement[Any] | None = None
) -> ColumnElement[bool]:
    """The cases of a section read from the cases themselves (no deadline of their own): of
    all the reader's bodies of the section, or of one (`body`, compared with the section's
    body column, `_CASE_SECTION_BODY`)."""
    column, bodies = _CASE_SECTION_BODY[section](roles)
    of_body = column.in_(_written_ids(bodies)) if body is None else column == body
    if section == TO_DECIDE:
        return and_(of_body, _chair_decides(known, roles.chaired, roles.chaired_codes))
    if section == OUR_CASES:
        return and_(of_body, open_case_condition(known))
    if section == ELSEWHERE:
        return and_(
            of_body,
            Case.current_body_id.not_in(_written_ids(roles.secretariats)),
            open_case_condition(known),
        )
    raise ValueError(section)


# The moments the board's statements compare with, bound when they run: the statements are
# built once per reader's standing (below) and keep their SQL cache key.
NOW: BindParameter[datetime] = bindparam("now", type_=Deadline.due_at.type)
WEEK_END: BindParameter[datetime] = bindparam("week_end", type_=Deadline.due_at.type)


@dataclass(frozen=True)
class Versions:
    """The stored process versions a statement is built from, compared by their names,
    numbers and checksums (a version's source never changes once stored), carrying the
    definitions themselves for the builder."""

    key: tuple[tuple[str, int, str], ...]
    known: Definitions = field(compare=False, hash=False)


def versions_of(known: Definitions) -> Versions:
    """`known` as a key for the statements built from it."""
    return Versions(tuple((name, number, d.sha256) for (name, number), d in known.items()), known)


# The front page's sections are read by statements that depend only on the reader's roles,
# the access rule (`policy.visible_cases`, itself kept per standing) and the stored versions:
# each is built once for them and kept, so SQLAlchemy walks their large conditions for a
# cache key once, not on every view (about 5 ms a page at 100,000 cases). A membership, a
# new visibility rule or a published version gives other arguments, so a new statement.
_SECTION_STATEMENTS = 1024
_CASE_SECTION_BODY = {
    TO_DECIDE: lambda roles: (Case.current_body_id, roles.chaired),
    OUR_CASES: lambda roles: (Case.originating_body_id, roles.committees),
    ELSEWHERE: lambda roles: (Case.originating_body_id, roles.secretariats),
}


def _section_firsts(
    section: str,
    roles: Roles,
    visible: ColumnElement[bool],
    known: Definitions,
    limit: int,
    with_deadline: bool,
    lateral: bool,
) -> Subquery:
    """The ids (and next deadlines) of each of the reader's bodies' first `limit` cases of a
    section: those with a deadline, earliest first, or those without, by number, each body's
    read in that order from its (body, next_due_at) index, so the database never sorts every
    matching case. The cases without a deadline are asked for only when those with one do
    not fill the count (closed cases have none, so that part of an index is mostly cases a
    section leaves out).

    On PostgreSQL each of the bodies (constants) leads a LATERAL subquery of its cases: the
    section's large condition is then written, parsed and planned once, not once per body
    (PostgreSQL plans every statement anew: psycopg's prepared statements do not outlive the
    rollback that ends a read); SQLite, which has no LATERAL, reads a UNION ALL of the
    bodies' parts."""
    _column, bodies = _CASE_SECTION_BODY[section](roles)

    def first_cases(
        body: ColumnElement[Any], limit: int | None
    ) -> Select[tuple[int, datetime | None]]:
        query = select(Case.id, Case.next_due_at).where(
            _case_condition(section, roles, known, body), visible
        )
        if with_deadline:
            query = query.where(Case.next_due_at.is_not(None))
            order: tuple[Any, ...] = (Case.next_due_at, Case.id)
        else:
            query = query.where(Case.next_due_at.is_(None))
            order = (Case.id,)
        return query if limit is None else query.order_by(*order).limit(limit)

    if lateral:
        # The bodies as a UNION ALL of constants: a VALUES construct is compiled anew on every
        # execution (SQLAlchemy does not cache it).
        each = union_all(
            *(select(written(body_id).label("id")) for body_id in sorted(bodies))
        ).subquery("reader_body")
        first = first_cases(each.c.id, limit).lateral("first_cases")
        return (
            select(first.c.id, first.c.next_due_at)
            .select_from(each.join(first, true()))
            .order_by(first.c.next_due_at, first.c.id)
            .limit(limit)
            .subquery()
        )
    # SQLite: the bodies' parts as a compound ordered and cut off as a whole, each part
    # giving its cases in the order of its body's index: SQLite merges them as they come and
    # stops at `limit`, reading about that many cases in all, not `limit` from every body.
    both = union_all(*(first_cases(written(body_id), limit=None) for body_id in sorted(bodies)))
    order = both.selected_columns
    return both.order_by(order.next_due_at, order.id).limit(limit).subquery()


@lru_cache(maxsize=_SECTION_STATEMENTS)
def _section_rows(
    section: str,
    roles: Roles,
    visible: ColumnElement[bool],
    versions: Versions,
    cap: int,
    shown: int,
    with_deadline: bool,
    dialect: str,
) -> Select[Any]:
    """A case section's first `shown` rows, as the columns a list shows, each with how many
    of its first cases there are up to past the count `cap` (`total`): the rows and the
    count in one statement."""
    capped = _section_firsts(
        section, roles, visible, versions.known, cap + 1, with_deadline, dialect == "postgresql"
    )
    # Counted before the rows shown are cut off, and only those read.
    counted = (
        select(capped.c.id, capped.c.next_due_at, func.count().over().label("total"))
        .order_by(capped.c.next_due_at, capped.c.id)
        .limit(shown)
        .subquery()
    )
    return (
        select(counted.c.total, *_LIST_COLUMNS)
        .select_from(counted)
        .join(Case, Case.id == counted.c.id)
        .join(_ORIGIN_BODY, _ORIGIN_BODY.id == Case.originating_body_id)
        .join(_CURRENT_BODY, _CURRENT_BODY.id == Case.current_body_id)
        .order_by(counted.c.next_due_at, counted.c.id)
    )


# The rows shown, by id: the same statement for every reader and section.
_CASES_BY_ID = _with_next_deadline(
    select(Case).where(Case.id.in_(bindparam("ids", expanding=True)))
)
_CASES_BY_ID_WITH_GOALS = _CASES_BY_ID.options(selectinload(Case.national_goals))


def _case_rows_by_id(
    session: Session, ids: Sequence[int], known: Definitions, *, goals: bool = False
) -> list[CaseRow]:
    if not ids:
        return []
    statement = _CASES_BY_ID_WITH_GOALS if goals else _CASES_BY_ID
    rows: dict[int, CaseRow] = {}
    for case, due_at in session.execute(statement, {"ids": list(ids)}).unique():
        definition = known[(case.process, case.process_version)]
        state = definition.states[case.state]
        rows[case.id] = CaseRow(
            case, pick(definition.title, definition.title_en), label(state), due_at
        )
    return [rows[case_id] for case_id in ids if case_id in rows]


def _section_found(
    session: Session,
    section: str,
    roles: Roles,
    visible: ColumnElement[bool],
    known: Definitions,
    shown: int,
) -> tuple[list[Row[Any]], int, bool]:
    """A case section's first `shown` rows (`_LIST_COLUMNS`), its count up to the cap, and
    whether there are more. Those with a deadline first: they alone usually pass the cap,
    without walking the closed cases (no deadline) that lead the body's index on SQLite. (A
    plain count with LIMIT lets PostgreSQL combine bitmaps of every open case of the
    bodies: 8-40 ms.)"""
    versions = versions_of(known)
    dialect = session.get_bind().dialect.name

    def first_rows(with_deadline: bool) -> list[Row[Any]]:
        statement = _section_rows(
            section, roles, visible, versions, SECTION_COUNT_CAP, shown, with_deadline, dialect
        )
        return list(session.execute(statement))

    found = first_rows(with_deadline=True)
    total = found[0].total if found else 0
    if total <= SECTION_COUNT_CAP:
        without = first_rows(with_deadline=False)
        total += without[0].total if without else 0
        found += without[: shown - len(found)]
    return found, min(total, SECTION_COUNT_CAP), total > SECTION_COUNT_CAP


def _case_section(
    session: Session,
    section: str,
    roles: Roles,
    visible: ColumnElement[bool],
    known: Definitions,
    shown: int,
) -> Section[ListRow]:
    found, total, more = _section_found(session, section, roles, visible, known, shown)
    labels = _Labels(known)
    return Section([labels.list_row(row) for row in found], total, more)


def decisions_for(
    found: Sequence[Row[Any]], chaired_codes: frozenset[str], known: Definitions
) -> list[DecisionRow]:
    """Keep the cases (`_LIST_COLUMNS`) a chair can act on, each with its first decision (or
    other) action."""
    labels = _Labels(known)
    decisions: list[DecisionRow] = []
    for row in found:
        definition = known[(row.process, row.process_version)]
        body_codes = {"current": row.body_code, "originating": row.origin_code}
        chair_actions = [
            t
            for t in definition.transitions_from(row.state)
            if not t.automatic_only
            and any(
                ref.role in ("chair", "vice_chair")
                and body_codes.get(ref.body, ref.body) in chaired_codes
                for ref in t.allowed
            )
        ]
        if chair_actions:
            first = next((t for t in chair_actions if t.decision), chair_actions[0])
            decisions.append(DecisionRow(labels.list_row(row), first.trigger, label(first)))
    return decisions


def next_step(definition: ProcessDefinition, state: str) -> TransitionSpec | None:
    """The transition a case in `state` most likely takes next: the first forward one."""
    return next(
        (
            t
            for t in definition.transitions_from(state)
            if not t.automatic_only and not t.is_self_loop
        ),
        None,
    )


def _with_blockers(row: CaseRow, known: Definitions) -> OurCaseRow:
    definition = known[(row.case.process, row.case.process_version)]
    step = next_step(definition, row.case.state)
    if step is None:
        return OurCaseRow(row, None, [])
    # The rules that would refuse the next step now; a form's own fields are not blockers.
    failures = engine.check(row.case, step.trigger, None)
    blockers = [
        pick(f.message, f.message_en)
        for f in failures
        if not f.rule.startswith("field:") and f.rule != "decision_at_meeting"
    ]
    return OurCaseRow(row, label(step), blockers)


def deadline_board(
    session: Session,
    roles: Roles,
    now: datetime,
    visible: ColumnElement[bool],
    known: Definitions | None = None,
) -> Board:
    """Overdue, due this week, material per coming meeting, later, and cases waiting
    elsewhere, of the bodies the user is secretariat for and the `visible` cases (a deadline
    of the body can outlive the case's visibility: a follow-up stays open when the case goes
    back to a draft of another body). The deadline sections' first rows, as far as the count
    cap, are read and counted in one statement, each from the open deadlines' index in its own
    order, which gives only the rows shown, with their cases."""
    known = known if known is not None else definitions(session)
    found = _first_deadlines(
        session, roles, visible, {"now": now, "week_end": now + timedelta(days=7)}, known
    )
    overdue = found[OVERDUE]
    today = local_date(now)
    return Board(
        overdue=Section(
            [
                OverdueRow(
                    row.deadline,
                    row.case,
                    row.state_label,
                    (today - local_date(row.deadline.due_at)).days,
                )
                for row in overdue
            ],
            overdue.total,
            overdue.more_than_cap,
        ),
        this_week=found[THIS_WEEK],
        material=found[MATERIAL],
        waiting_elsewhere=_case_section(session, ELSEWHERE, roles, visible, known, ELSEWHERE_SHOWN),
        later=found[LATER],
    )


DEADLINE_SHOWN = {OVERDUE: OVERDUE_SHOWN, THIS_WEEK: THIS_WEEK_SHOWN, MATERIAL: MATERIAL_SHOWN,
                  LATER: LATER_SHOWN}  # fmt: skip


@lru_cache(maxsize=_SECTION_STATEMENTS)
def _deadline_ids(
    body_ids: frozenset[int], visible: ColumnElement[bool], cap: int, dialect: str
) -> Select[Any]:
    """The first deadlines of each deadline section: one statement, built once per bodies,
    access rule and database (`NOW` and `WEEK_END` bound), each section read up to past the
    count cap and counted (`total`), and only the rows it shows sent, with their deadline and
    case (`section`, `total`, the keys it is shown in, then the columns the board shows): the
    counted rows are not sent, nor read again by id.

    The overdue are read body by body from the open deadlines' (body, due) index and merged:
    in due order over every body, the secretariat's first 51 of the bench data lie past 2,400
    other bodies' (4 ms of SQLite, 12 ms of PostgreSQL). On SQLite so are this week's and the
    later deadlines: through that index for all the bodies at once (`body_id IN`), SQLite read
    every later deadline of the bodies and sorted them (5,900 of them: 20 ms). On PostgreSQL
    this week's and the later deadlines are read in one walk of the open deadlines' due index,
    where the bodies' deadlines lie close together: per body, PostgreSQL's incremental sort
    reads at least 32 deadlines of each (twice the buffers). The material is led from the
    coming meetings (`_deadline_conditions`).

    On PostgreSQL the moments are compared through scalar subqueries (`_moments`), so that
    the statement is planned once per connection, not on every view; its nine copies of the
    visibility rule (one per body and section) then cost nothing per view. (Before, each body
    led a LATERAL subquery of its first overdue deadlines, to plan the rule once, but that
    read the cap from every body: 306 deadlines and their cases for 51, 1,264 buffers; merged,
    808.) Each section's read carries the columns shown there (`_shown_deadlines`)."""
    postgresql = dialect == "postgresql"
    now, week_end = _moments(postgresql)
    parts = []
    for section in DEADLINE_SECTIONS:
        part: Select[Any] | CompoundSelect[Any]
        if (
            section == MATERIAL
            or (section != OVERDUE and postgresql)
            # A compound of one part, itself ordered and cut off, is no SQL to PostgreSQL.
            or (len(body_ids) == 1 and postgresql)
        ):
            part = _deadline_part(section, body_ids, visible, (now, week_end), cap, postgresql)
        else:
            # The bodies' parts as a compound ordered and cut off as a whole, each in its
            # body's index order: the database merges them as they come and stops past the
            # cap. PostgreSQL is given each part's order and cap too, which it needs to
            # merge them (Merge Append) rather than sort them all.
            both = union_all(
                *(
                    _deadline_part(
                        section,
                        frozenset({body}),
                        visible,
                        (now, week_end),
                        cap if postgresql else None,
                        postgresql,
                    )
                    for body in sorted(body_ids)
                )
            )
            order = both.selected_columns
            part = both.order_by(order.key0, order.id).limit(written(cap + 1))
        parts.append(_shown_deadlines(section, part, carried=postgresql))
    return union_all(*parts)  # type: ignore[return-value]


def _moments(postgresql: bool) -> tuple[ColumnElement[datetime], ColumnElement[datetime]]:
    """`NOW` and `WEEK_END` as the board's statement compares with them. On PostgreSQL, as
    scalar subqueries (`(SELECT $1)`), whose values the planner does not look at: its plan
    for the statement is then the same for every moment (each section is read in index order
    up to the cap whatever the moment), so once psycopg has prepared the statement,
    PostgreSQL keeps that plan (a generic plan) instead of planning the statement anew on
    every view (2 ms). With the values visible the plans it made for them looked cheaper
    than the generic one, so it planned every execution."""
    if not postgresql:
        return NOW, WEEK_END
    return select(NOW).scalar_subquery(), select(WEEK_END).scalar_subquery()


def _shown_deadlines(
    section: str, first: Select[Any] | CompoundSelect[Any], *, carried: bool
) -> Select[Any]:
    """A section's first deadlines (`first`: id and keys, and the columns shown when
    `carried`) counted before the rows shown are cut off, with what the board shows of them.

    On PostgreSQL the columns shown come along from the section's read of the deadline and
    its case (which it reads anyway, for the visibility rule): 8 % fewer buffers than joining
    the rows shown to their deadline and case again. On SQLite, whose look-ups by key cost
    little, the join is 10 % quicker than carrying the columns through the merge of the
    bodies' parts."""
    part = first.subquery()
    keys = (part.c.key0, part.c.key1, part.c.key2)
    counted = (
        select(
            *keys,
            *(_shown_of(part) if carried else [part.c.id]),
            func.count().over().label("total"),
        )
        .order_by(*keys, part.c.id)
        .limit(written(DEADLINE_SHOWN[section]))
        .subquery()
    )
    shown = select(
        written(DEADLINE_SECTIONS.index(section)).label("section"),
        counted.c.total,
        *(counted.c[f"key{n}"] for n in range(3)),
    )
    if carried:
        return shown.add_columns(*_shown_of(counted))
    return (
        shown.add_columns(*_SHOWN_DEADLINE_COLUMNS.values())
        .select_from(counted)
        .join(Deadline, Deadline.id == counted.c.id)
        .join(Case, Case.id == Deadline.case_id)
    )


# What the board shows of a deadline and its case, by the names a section's read gives them.
_SHOWN_DEADLINE_COLUMNS: dict[str, Any] = {
    "id": Deadline.id,
    "kind": Deadline.kind,
    "due_at": Deadline.due_at,
    "meeting_id": Deadline.meeting_id,
    "case_id": Deadline.case_id,
    "title": Case.title,
    "process": Case.process,
    "process_version": Case.process_version,
    "state": Case.state,
}


def _shown_of(part: Subquery) -> list[ColumnElement[Any]]:
    return [part.c[name] for name in _SHOWN_DEADLINE_COLUMNS]


def _deadline_part(
    section: str,
    body_ids: frozenset[int],
    visible: ColumnElement[bool],
    moments: tuple[Moment, Moment],
    cap: int | None,
    carried: bool,
    body: ColumnElement[Any] | None = None,
) -> Select[Any]:
    """A deadline section's deadlines of `body_ids` (or of `body`, a column) (the first, past
    the count `cap`, when given), with the keys it is shown in (`key0`-`key2`), in that
    order, and when `carried` the columns the board shows of the deadline and its case."""
    query = select(Deadline.id).join(Case, Case.id == Deadline.case_id)
    # The material is shown by meeting: read it in meeting order, from the coming meetings;
    # the others by due time.
    if section == MATERIAL:
        query = query.join(Meeting, Meeting.id == Deadline.meeting_id)
        keys: tuple[Any, ...] = (Meeting.starts_at, Meeting.id, Deadline.due_at)
        order: tuple[Any, ...] = (*keys, Deadline.id)
    else:
        keys = (Deadline.due_at, written(0), Deadline.due_at)
        order = (Deadline.due_at, Deadline.id)
    query = query.add_columns(*(key.label(f"key{n}") for n, key in enumerate(keys)))
    if carried:
        query = query.add_columns(
            *(
                column.label(name)
                for name, column in _SHOWN_DEADLINE_COLUMNS.items()
                if name != "id"
            )
        )
    query = query.where(*_deadline_conditions(section, body_ids, *moments, body), visible)
    return query if cap is None else query.order_by(*order).limit(written(cap + 1))


# The meetings of the material shown: the same statement for every reader.
_MEETINGS_BY_ID = (
    select(Meeting)
    .where(Meeting.id.in_(bindparam("ids", expanding=True)))
    .options(joinedload(Meeting.body))
)


def _first_deadlines(
    session: Session,
    roles: Roles,
    visible: ColumnElement[bool],
    moments: dict[str, datetime],
    known: Definitions,
) -> dict[str, Section[DeadlineRow]]:
    found: dict[str, list[Row[Any]]] = {section: [] for section in DEADLINE_SECTIONS}
    for row in session.execute(
        _deadline_ids(
            roles.secretariats, visible, SECTION_COUNT_CAP, session.get_bind().dialect.name
        ),
        moments,
    ):
        found[DEADLINE_SECTIONS[row[0]]].append(row)
    meeting_ids = sorted({row[8] for rows in found.values() for row in rows if row[8] is not None})
    meetings = (
        {m.id: m for m in session.scalars(_MEETINGS_BY_ID, {"ids": meeting_ids})}
        if meeting_ids
        else {}
    )
    board: dict[str, Section[DeadlineRow]] = {}
    for section, rows in found.items():
        shown: list[DeadlineRow] = []
        # In the section's order: its keys, then the deadline's id.
        for row in sorted(rows, key=lambda row: (*row[2:5], row[5])):
            deadline_id, kind, due_at, meeting_id, case_id, title, *at = row[5:]
            definition = known.get((at[0], at[1]))
            state = definition.states.get(at[2]) if definition else None
            shown.append(
                DeadlineRow(
                    ShownDeadline(deadline_id, kind, due_at, meeting_id),
                    ShownCase(case_id, title),
                    label(state) if state else at[2],
                    meetings.get(meeting_id) if meeting_id is not None else None,
                )
            )
        total = rows[0].total if rows else 0
        board[section] = Section(shown, min(total, SECTION_COUNT_CAP), total > SECTION_COUNT_CAP)
    return board


# The case page's statements, built once with the case as a parameter: building a statement
# and its SQL cache key costs about as much as running it on every page view.
_CASE_PAGE = (
    select(
        Case,
        # Whether the case has expenses or a consultation: a case without (most) needs no
        # statement of its own for either.
        exists().where(CaseExpense.case_id == Case.id).label("has_expenses"),
        exists().where(Consultation.case_id == Case.id).label("has_consultation"),
    )
    .where(Case.id == bindparam("case_id"))
    .options(
        # With the bodies' former names, which name them as they were on a closed case's
        # days; joined, like the national goals, not a statement each: a case has a few goals
        # at most and a body a few former names.
        joinedload(Case.current_body).joinedload(Body.former_names),
        joinedload(Case.originating_body).joinedload(Body.former_names),
        joinedload(Case.focus_area),
        joinedload(Case.national_goals),
    )
)
_CASE_EXPENSES = (
    select(CaseExpense)
    .join(CaseExpense.party)
    .where(CaseExpense.case_id == bindparam("case_id"))
    .options(joinedload(CaseExpense.party))
    .order_by(Party.name)
)
_CASE_DEADLINES = (
    select(Deadline)
    .where(Deadline.case_id == bindparam("case_id"), open_deadline())
    .order_by(Deadline.due_at, Deadline.id)
)
# Each event with its actor's name (not the whole user) and the meeting it names, if any.
_CASE_EVENTS = (
    select(CaseEvent, User.name, Meeting)
    .outerjoin(User, User.id == CaseEvent.actor_id)
    .outerjoin(Meeting, Meeting.id == CaseEvent.meeting_id)
    .where(CaseEvent.case_id == bindparam("case_id"))
    .order_by(CaseEvent.seq)
)


# Where the session keeps a case's expenses (workflow.engine.session_cache).
_EXPENSES_KEY = "cases.expenses"


def find_case(session: Session, case_id: int) -> Case | None:
    """Load a case with what its page shows."""
    row = session.execute(_CASE_PAGE, {"case_id": case_id}).unique().first()
    if row is None:
        return None
    case, has_expenses, has_consultation = row
    if not has_expenses:
        session_cache.remember(session, (_EXPENSES_KEY, case.id), [])
    if not has_consultation:
        session_cache.remember(session, (consultations.CURRENT_KEY, case.id), None)
    return cast(Case, case)


def case_expenses(session: Session, case: Case) -> list[CaseExpense]:
    """List the case's extra expenses per party, by party name."""
    return session_cache.cached(
        session,
        (_EXPENSES_KEY, case.id),
        lambda: list(session.scalars(_CASE_EXPENSES, {"case_id": case.id})),
    )


def case_deadlines(session: Session, case: Case) -> list[Deadline]:
    """List the case's open deadlines, the nearest first."""
    return list(session.scalars(_CASE_DEADLINES, {"case_id": case.id}))


_DECISION_MEETINGS = (
    select(Meeting)
    .where(
        Meeting.body_id == bindparam("body_id"),
        Meeting.status != MeetingStatus.CANCELLED,
        Meeting.starts_at >= bindparam("since"),
        or_(Meeting.starts_at <= bindparam("now"), Meeting.status.in_(engine.HELD_STATUSES)),
    )
    .order_by(Meeting.starts_at, Meeting.id)
)


def decision_meetings(session: Session, body_id: int, now: datetime) -> list[Meeting]:
    """List the meetings a decision of the body can be recorded on: recent ones that have
    taken place or are in progress (a coming meeting gets the case on its agenda instead)."""
    since = now - DECISION_MEETING_LOOKBACK
    return list(
        session.scalars(_DECISION_MEETINGS, {"body_id": body_id, "since": since, "now": now})
    )


ROLE_WORDS = {
    "chair": _l("som formandskab"),
    "vice_chair": _l("som næstformand"),
    "member": _l("som medlem"),
    "secretariat": _l("som sekretariat"),
    "admin": _l("som administrator"),
}
# Events that are not transitions of the process: written by workflow/*.py through
# engine.append_event (grep 'trigger=' there when adding one).
SPECIAL_TRIGGERS = {
    "create": _l("Sagen blev oprettet"),
    "edit": _l("Sagens oplysninger blev ændret"),
    "migrate_version": _l("Sagen blev flyttet til en ny version af processen"),
    "deadline_overdue": _l("En frist blev overskredet"),
    "deadline_escalated": _l("En overskredet frist blev eskaleret"),
    "material_deadline_moved": _l("Materialefristen blev flyttet med mødet"),
    "added_to_agenda": _l("Sat på dagsordenen"),
    "meeting_outcome": _l("Mødets beslutning blev noteret i referatet"),
    "follow_up_added": _l("En opfølgning blev tilføjet"),
    "follow_up_done": _l("En opfølgning blev afsluttet"),
    "attachment_added": _l("Et bilag blev tilføjet"),
    "consultation_started": _l("En høring blev sendt ud"),
    "consultation_answered": _l("Et høringssvar blev modtaget"),
    "consultation_no_answer": _l("En part svarer ikke på høringen"),
    "implementation_units": _l("Implementeringsenhederne blev fastlagt"),
    "implementation_report": _l("En enhed rapporterede om implementeringen"),
    "indicator_linked": _l("En indikator blev knyttet til sagen"),
    "indicator_unlinked": _l("En indikator blev fjernet fra sagen"),
    "indicator_values_recorded": _l("Indikatorværdierne for planåret blev registreret"),
    "plan_item_added": _l("En indsats blev føjet til planen"),
    "plan_item_changed": _l("En indsats i planen blev ændret"),
    "next_step_requested": _l("Der blev bedt om sagens næste skridt"),
    "formandskab_proposed": _l(
        "En medformand foreslog en formandskabsbeslutning; den anden medformand skal give samtykke"
    ),
    "material_reminder_sent": _l("Der blev mindet om sagens materiale"),
}


# What a meeting named by an event that is not a decision means for the case.
MEETING_ROLES = {"added_to_agenda": "agenda", "meeting_outcome": "minutes"}


FIELD_WORDS = {
    "title": _l("titel"),
    "summary": _l("resumé"),
    "focus_area_id": _l("fokusområde"),
    "national_goals": _l("nationale mål"),
    "expenses": _l("merudgifter pr. part"),
    "plan_year": _l("planår"),
    "principled": _l("principiel"),
    "political": _l("politisk karakter"),
    "interface_change": _l("snitflade"),
    "cost_driving": _l("merudgifter"),
    "large_task": _l("større opgave"),
    "business_case": _l("businesscase"),
    "financing_proposal": _l("finansieringsforslag"),
    "role_distribution": _l("rolle- og opgavefordeling"),
    "general_practice_role": _l("almen praksis' rolle"),
    "triple_aim_quality": _l("Triple Aim: kvalitet"),
    "triple_aim_economy": _l("Triple Aim: økonomi"),
    "triple_aim_experience": _l("Triple Aim: borgerens oplevelse"),
    "triple_aim_population": _l("Triple Aim: befolkningens sundhed"),
    "esdh_case_number": _l("ESDH-sagsnummer"),
    "received_on": _l("modtaget"),
    "sent_on": _l("afsendt"),
    "journal_description": _l("journalbeskrivelse"),
}


def _event_detail(event: CaseEvent) -> str:
    data = event.data or {}
    parts: list[str] = []
    role = str(data.get("role", "")).partition("@")[0]
    if role in ROLE_WORDS:
        parts.append(str(ROLE_WORDS[role]))
    if data.get("on_behalf_of_body"):
        parts.append(_("formandskabsbeslutning på organets vegne"))
    if event.trigger == "edit" and data.get("fields"):
        changed = ", ".join(str(FIELD_WORDS.get(f, f)) for f in data["fields"])
        parts.append(_("ændret: %(fields)s", fields=changed))
    if event.trigger == "migrate_version":
        parts.append(
            _(
                "fra version %(old)s til %(new)s",
                old=data.get("from_version"),
                new=data.get("to_version"),
            )
        )
    return ", ".join(parts)


def _field_words(spec_type: str, value: Any) -> str:
    if spec_type == "date":
        try:
            return i18n.format_date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if spec_type == "bool":
        return _("Ja") if value is True else _("Nej")
    return str(value)


def _indicator_value_words(row: dict[str, Any]) -> str:
    if row.get("value") is None:
        return str(_("ingen værdi"))
    number = i18n.format_number(Decimal(str(row["value"])))
    return f"{number} {row.get('unit') or ''}".strip()


def recorded_values(event: CaseEvent, transition: TransitionSpec | None) -> list[tuple[str, str]]:
    """What the event recorded, in words: its transition's declared fields (not the comment,
    shown as such, nor a meeting or body chosen, named elsewhere) or a plan's indicator values."""
    data = event.data or {}
    if event.trigger == INDICATOR_VALUES_TRIGGER:
        rows = data.get("indicator_values") or []
        return [
            (f"{row.get('code')} {row.get('name')}", _indicator_value_words(row))
            for row in rows
            if isinstance(row, dict)
        ]
    if transition is None:
        return []
    return [
        (label(spec), _field_words(spec.type, data[spec.name]))
        for spec in transition.fields
        if spec.name in data
        and spec.type in ("text", "date", "int", "choice", "bool")
        and spec.name != "comment"
    ]


def _label_in(spec: i18n.Labelled, english: bool) -> str:
    """`label(spec)` for a reader whose language is known already."""
    return spec.label_en if english and spec.label_en else spec.label


def _timeline_entry(
    event: CaseEvent,
    definition: ProcessDefinition,
    meeting: Meeting | None,
    actor_name: str | None,
    english: bool,
) -> TimelineEntry:
    transition = definition.transition(event.trigger)
    special = SPECIAL_TRIGGERS.get(event.trigger)
    if special is not None:
        what = str(special)
    elif transition:
        what = _label_in(transition, english)
    else:
        # An event without a label is still named in words, never by its key.
        what = _("Sagen blev ændret")
    if actor_name is not None:
        who = actor_name
    elif (event.data or {}).get("automatic"):
        who = _("Automatisk (efter processens regler)")
    else:
        who = _("Systemet")
    from_state = definition.states.get(event.from_state or "")
    to_state = definition.states.get(event.to_state)
    if transition is not None and transition.decision:
        meeting_role = "decided"
    else:
        meeting_role = MEETING_ROLES.get(event.trigger, "related")
    return TimelineEntry(
        event=event,
        who=who,
        what=what,
        from_label=_label_in(from_state, english) if from_state else event.from_state,
        to_label=_label_in(to_state, english) if to_state else event.to_state,
        detail=_event_detail(event),
        meeting=meeting,
        meeting_role=meeting_role,
        comment=_comment_of(event),
        recorded=recorded_values(event, transition),
    )


def _comment_of(event: CaseEvent) -> str | None:
    data = event.data or {}
    english = data.get("reason_en")
    if event.comment and data.get("automatic") and isinstance(english, str) and english:
        return pick(event.comment, english)
    return event.comment


def timeline(session: Session, case: Case, definition: ProcessDefinition) -> list[TimelineEntry]:
    """Describe every event of the case, oldest first (one statement)."""
    english = i18n.is_english()
    return [
        _timeline_entry(event, definition, meeting, actor_name, english)
        for event, actor_name, meeting in session.execute(_CASE_EVENTS, {"case_id": case.id})
    ]


# The case page's events, open deadlines and expenses in one statement, not one each (every
# statement is a round trip to PostgreSQL and some 170 Python calls through the ORM): the
# parts name their rows by id, each joined to its table (and the event's actor and meeting,
# the expense's party) only on its own part's rows; each part comes in the order it had when
# read alone: the events by number, the deadlines by due time, the expenses by party name.
_EVENT_PART, _DEADLINE_PART, _EXPENSE_PART = range(3)


def _record_part(part: int, order: Any, record_id: Any) -> Select[Any]:
    return select(
        literal_column(str(part), Integer).label("part"),
        order.label("seq"),
        record_id.label("record_id"),
    )


_CASE_ID = bindparam("case_id", type_=Integer)
_CASE_RECORD_IDS = union_all(
    _record_part(_EVENT_PART, CaseEvent.seq, CaseEvent.id).where(CaseEvent.case_id == _CASE_ID),
    _record_part(_DEADLINE_PART, literal_column("0", Integer), Deadline.id).where(
        Deadline.case_id == _CASE_ID, open_deadline()
    ),
    _record_part(_EXPENSE_PART, literal_column("0", Integer), CaseExpense.id).where(
        CaseExpense.case_id == _CASE_ID
    ),
).subquery("case_records")


def _of_part(part: int) -> ColumnElement[bool]:
    return _CASE_RECORD_IDS.c.part == literal_column(str(part), Integer)


_CASE_RECORDS = (
    select(_CASE_RECORD_IDS.c.part, CaseEvent, User.name, Meeting, Deadline, CaseExpense, Party)
    .select_from(_CASE_RECORD_IDS)
    .outerjoin(
        CaseEvent,
        and_(_of_part(_EVENT_PART), CaseEvent.id == _CASE_RECORD_IDS.c.record_id),
    )
    .outerjoin(User, User.id == CaseEvent.actor_id)
    .outerjoin(Meeting, Meeting.id == CaseEvent.meeting_id)
    .outerjoin(
        Deadline, and_(_of_part(_DEADLINE_PART), Deadline.id == _CASE_RECORD_IDS.c.record_id)
    )
    .outerjoin(
        CaseExpense,
        and_(_of_part(_EXPENSE_PART), CaseExpense.id == _CASE_RECORD_IDS.c.record_id),
    )
    .outerjoin(Party, Party.id == CaseExpense.party_id)
    .options(contains_eager(CaseExpense.party))
    .order_by(
        _CASE_RECORD_IDS.c.part,
        _CASE_RECORD_IDS.c.seq,
        Deadline.due_at,
        Deadline.id,
        Party.name,
    )
)


@dataclass(frozen=True)
class CaseRecords:
    """What the case page shows of a case besides its fields."""

    timeline: list[TimelineEntry]
    # Its open deadlines, the nearest first (as `case_deadlines`).
    deadlines: list[Deadline]
    # Its extra expenses per party, by party name (as `case_expenses`).
    expenses: list[CaseExpense]


def case_records(session: Session, case: Case, definition: ProcessDefinition) -> CaseRecords:
    """The case's timeline (as `timeline`), open deadlines and expenses, in one statement;
    the expenses kept on the session as `case_expenses` keeps them."""
    english = i18n.is_english()
    timeline: list[TimelineEntry] = []
    deadlines: list[Deadline] = []
    expenses: list[CaseExpense] = []
    for part, event, actor_name, meeting, deadline, expense, _party in session.execute(
        _CASE_RECORDS, {"case_id": case.id}
    ):
        if part == _EVENT_PART:
            timeline.append(_timeline_entry(event, definition, meeting, actor_name, english))
        elif part == _DEADLINE_PART:
            deadlines.append(deadline)
        else:
            expenses.append(expense)
    session_cache.remember(session, (_EXPENSES_KEY, case.id), expenses)
    # `next_due_at` is the earliest open deadline, kept in step by every flush that writes
    # one (engine.deadlines): the page shows none for a case without one, as it always has.
    return CaseRecords(timeline, deadlines if case.next_due_at is not None else [], expenses)


@dataclass(frozen=True)
class CaseFilter:
    """The case list's filters, sort order and page, as parsed from the address."""

    process: str = ""
    state: str = ""
    body_id: int | None = None
    focus_area_id: int | None = None
    national_goal_id: int | None = None
    overdue: bool = False
    text: str = ""
    sort: str = "aendret"
    descending: bool = True
    after: str = ""  # the cursor (keyset.encode) of the row the page continues after
    before: str = ""  # or of the row the page ends before (the page before)
    section: str = ""  # a front-page section (SECTION_LABELS) ...
    # ... and its cases for the reader (`section_condition`), resolved where the reader is known
    section_clause: ColumnElement[bool] | None = field(default=None, compare=False)


# The list counts the matching cases up to this many and says "over 1.000" beyond: the count
# visits every matching case up to the cap on every page view (10,000 of them cost more than
# the rest of the page), and past a thousand the exact figure does not change what one does.
COUNT_CAP = 1_000


@dataclass(frozen=True)
class CasePage:
    """One page of the filtered case list and the cursors of the pages around it."""

    rows: list[ListRow]
    total: int  # exact up to COUNT_CAP
    more_than_cap: bool  # more than COUNT_CAP cases match
    next_cursor: str | None
    previous_cursor: str | None


def _next_due() -> ColumnElement[Any]:
    return Case.__table__.c.next_due_at


SORT_COLUMNS = {
    "nr": lambda: Case.id,
    "titel": lambda: Case.title,
    "aendret": lambda: Case.updated_at,
    "oprettet": lambda: Case.created_at,
    "frist": _next_due,
}
# What each sort column holds (a cursor's value must be one) and whether it may be empty.
SORT_KINDS: dict[str, tuple[type, bool]] = {
    "nr": (int, False),
    "titel": (str, False),
    "aendret": (datetime, False),
    "oprettet": (datetime, False),
    "frist": (datetime, True),
}


def _param(name: str, value: Any, column: Any) -> Any:
    """A named parameter holding `value`, typed as `column`: the statement built with it can be
    kept and run again with other values (see `list_cases`)."""
    return bindparam(name, value, type_=column.type)


class _not_indexed(FunctionElement[str]):
    """A process column that SQLite's planner may not read through an index (its no-op unary `+`, as
    SQLite documents for this); the plain column on PostgreSQL."""

    type = Case.__table__.c.process.type
    name = "not_indexed"
    inherit_cache = True


@compiles(_not_indexed)
def _not_indexed_plain(element: _not_indexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(_not_indexed, "sqlite")
def _not_indexed_sqlite(element: _not_indexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return "+" + compiler.process(column, **kw)


def _by_next_due(criteria: CaseFilter) -> bool:
    """Whether the list is read in the order of the next_due_at index (0028's, which holds the
    process and the access rule's columns): the overdue cases, of a process or of all, with
    neither a state nor a body, whose own indexes are the better way in."""
    return criteria.overdue and not criteria.state and criteria.body_id is None


def filtered_cases(
    criteria: CaseFilter, now: datetime, visible: ColumnElement[bool]
) -> Select[tuple[Case]]:
    """The cases matching `criteria` among the `visible` ones (workflow.policy), unordered.

    Every value is a named parameter, so the statement's shape depends only on which filters
    are set (`_shape`) and the same statement can be run with another request's values."""
    query = select(Case).where(visible)
    if criteria.process:
        # A process's overdue cases through the next_due_at index, which holds the process too.
        # Without ANALYZE's statistics SQLite took the (process, state) index for the equality,
        # read every case of the process and sorted the overdue ones (40 ms against 0.5 ms at
        # 60,000 cases).
        process = _not_indexed(Case.process) if _by_next_due(criteria) else Case.process
        query = query.where(process == _param("process", criteria.process, Case.process))
    if criteria.state:
        query = query.where(Case.state == _param("state", criteria.state, Case.state))
    if criteria.body_id is not None:
        body = _param("body_id", criteria.body_id, Case.current_body_id)
        query = query.where(or_(Case.current_body_id == body, Case.originating_body_id == body))
    if criteria.focus_area_id is not None:
        focus = _param("focus_area_id", criteria.focus_area_id, Case.focus_area_id)
        query = query.where(Case.focus_area_id == focus)
    if criteria.national_goal_id is not None:
        goal_column = case_national_goals.c.national_goal_id
        goal = _param("national_goal_id", criteria.national_goal_id, goal_column)
        query = query.where(
            Case.id.in_(select(case_national_goals.c.case_id).where(goal_column == goal))
        )
    if criteria.overdue:
        # The earliest open deadline has passed exactly when some open deadline has.
        query = query.where(Case.next_due_at < _param("now", now, Case.next_due_at))
    if criteria.section_clause is not None:
        query = query.where(criteria.section_clause)
    if criteria.text.strip():
        pattern = _param("pattern", _pattern(criteria.text), Case.title)
        query = query.where(
            or_(Case.title.ilike(pattern, escape="\\"), Case.summary.ilike(pattern, escape="\\"))
        )
    return query


def _pattern(text: str) -> str:
    return "%" + _escape_like(text.strip()) + "%"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ordered(
    query: Select[Any], criteria: CaseFilter, *, backwards: bool = False, valued: bool = False
) -> Select[Any]:
    """`query` in the list's order (`backwards`: reversed); `valued`: every row of it has a
    value in the sort column."""
    column = SORT_COLUMNS.get(criteria.sort, SORT_COLUMNS["aendret"])()
    descending = criteria.descending != backwards
    primary = column.desc() if descending else column.asc()
    tie = _tie(criteria, backwards)
    # Cases without a deadline go last whichever way the list is sorted. Overdue cases all
    # have one: ordered by the column alone, the next_due_at index gives the order.
    if criteria.sort == "frist" and not criteria.overdue and not valued:
        empty_last = column.is_(None).desc() if backwards else column.is_(None)
        return query.order_by(empty_last, primary, tie)
    return query.order_by(primary, tie)


@dataclass(frozen=True)
class ListRow:
    """A case as the case list shows it, read as plain columns (no ORM objects): its process
    and state in the reader's language, both bodies' codes and names, its next deadline."""

    id: int
    version: int
    title: str
    process_title: str
    state_label: str
    origin_code: str
    origin_name: str
    body_code: str
    body_name: str
    next_deadline: datetime | None


_ORIGIN_BODY = aliased(Body, name="origin_body")
_CURRENT_BODY = aliased(Body, name="current_body")
# The columns a row of a list shows (the case list, the front page's case sections).
_LIST_COLUMNS = (
    Case.id,
    Case.version,
    Case.title,
    Case.process,
    Case.process_version,
    Case.state,
    Case.next_due_at,
    _ORIGIN_BODY.code.label("origin_code"),
    _ORIGIN_BODY.name.label("origin_name"),
    _CURRENT_BODY.code.label("body_code"),
    _CURRENT_BODY.name.label("body_name"),
)
_CASE_TABLE = Case.__table__
_ORIGIN_TABLE = Body.__table__.alias("origin_body")
_CURRENT_TABLE = Body.__table__.alias("current_body")


class _Labels:
    """Rows of `_LIST_COLUMNS` as ListRows: each process's title and state's label in the
    reader's language, looked up once per process, version and state."""

    def __init__(self, known: Definitions) -> None:
        self.known = known
        self.english = i18n.is_english()
        self.labels: dict[tuple[str, int, str], tuple[str, str]] = {}

    def list_row(self, row: Row[Any]) -> ListRow:
        key = (row.process, row.process_version, row.state)
        if key not in self.labels:
            definition = self.known[(row.process, row.process_version)]
            spec = definition.states[row.state]
            english = self.english
            self.labels[key] = (
                (definition.title_en if english and definition.title_en else definition.title),
                (spec.label_en if english and spec.label_en else spec.label),
            )
        process_title, state_label = self.labels[key]
        return ListRow(
            row.id,
            row.version,
            row.title,
            process_title,
            state_label,
            row.origin_code,
            row.origin_name,
            row.body_code,
            row.body_name,
            row.next_due_at,
        )


@dataclass(frozen=True)
class _ListStatements:
    """The statements of one shape of the list, kept with the access rule they were built on."""

    visible: ColumnElement[bool]
    count: Select[tuple[int]]
    # The page's ids and sort values, read part after part until the page is full (see
    # `_page_parts`).
    pages: tuple[Select[Any], ...]
    # The same parts with each case's row and the list's count (`_with_rows`).
    rows: tuple[Select[Any], ...]


_LISTED = _CASE_TABLE.alias("listed")


def _with_rows(
    part: Select[Any], count: Select[tuple[int]], criteria: CaseFilter, backwards: bool
) -> Select[Any]:
    """A part of the page (`part`: ids and sort values in the list's order) with each case's
    row (`_LIST_ROWS`' columns) and the list's capped count: one statement where there were
    three (count, ids, rows). The part is read as it was, through the sort column's index,
    and joined to its cases by id; the count is a subquery run once."""
    page = part.subquery("page")
    page_id, page_value = list(page.c)[:2]
    descending = criteria.descending != backwards
    return (
        select(
            page_id.label("id"),
            page_value.label("sort_value"),
            *(_LISTED.c[name] for name in ("version", "title", "process", "process_version")),
            *(_LISTED.c[name] for name in ("state", "next_due_at")),
            _ORIGIN_TABLE.c.code.label("origin_code"),
            _ORIGIN_TABLE.c.name.label("origin_name"),
            _CURRENT_TABLE.c.code.label("body_code"),
            _CURRENT_TABLE.c.name.label("body_name"),
            count.scalar_subquery().label("total"),
        )
        .join_from(page, _LISTED, _LISTED.c.id == page_id)
        .join(_ORIGIN_TABLE, _ORIGIN_TABLE.c.id == _LISTED.c.originating_body_id)
        .join(_CURRENT_TABLE, _CURRENT_TABLE.c.id == _LISTED.c.current_body_id)
        .order_by(
            page_value.desc() if descending else page_value.asc(),
            page_id.desc() if descending else page_id.asc(),
        )
    )


# Statements by shape (which filters are set, the order, the kind of cursor) and access rule:
# a statement built once keeps its SQL cache key, which is otherwise walked anew on every
# request (the access rule alone is a large condition). The rules are kept per standing by
# workflow.policy, so a few hundred shapes cover every reader and filter in use.
_LIST_STATEMENTS: OrderedDict[tuple[Any, ...], _ListStatements] = OrderedDict()
_LIST_STATEMENTS_KEPT = 256


def _list_statements(
    criteria: CaseFilter,
    now: datetime,
    visible: ColumnElement[bool],
    cursor: keyset.Cursor | None,
    backwards: bool,
    nullable: bool,
) -> _ListStatements:
    shape = (
        id(visible),
        bool(criteria.process),
        bool(criteria.state),
        criteria.body_id is not None,
        criteria.focus_area_id is not None,
        criteria.national_goal_id is not None,
        criteria.overdue,
        bool(criteria.text.strip()),
        criteria.sort,
        criteria.descending,
        None if cursor is None else (backwards, cursor.value is None),
        nullable,
    )
    kept = _LIST_STATEMENTS.get(shape) if criteria.section_clause is None else None
    if kept is not None and kept.visible is visible:
        _LIST_STATEMENTS.move_to_end(shape)
        return kept
    query = filtered_cases(criteria, now, visible)
    counted = query.with_only_columns(Case.id)
    if _by_next_due(criteria):
        # Counted in the order of the next_due_at index, which holds the columns of
        # `overskredet=1&proces=` and of the access rule: unordered, SQLite counts through the
        # (process, state) index and reads each of the process's cases for its deadline (12 ->
        # 2 ms). Not with a state or a body, whose own indexes SQLite takes anyway: ordered, it
        # sorted every match before counting (a forum's overdue cases 2.7 -> 13 ms, a state's
        # 1.3 -> 20).
        counted = counted.order_by(Case.next_due_at)
    capped = counted.limit(bindparam("count_limit")).subquery()
    count = select(func.count()).select_from(capped)
    keyed = query.with_only_columns(Case.id, _sort_column(criteria))
    if nullable:
        pages = _page_parts(keyed, criteria, cursor, backwards)
    else:
        if cursor is not None:
            keyed = keyed.where(_edge(criteria, cursor, backwards, nullable=False))
        pages = (_ordered(keyed, criteria, backwards=backwards).limit(bindparam("page_limit")),)
    rows = tuple(_with_rows(part, count, criteria, backwards) for part in pages)
    built = _ListStatements(visible, count, pages, rows)
    if criteria.section_clause is None:
        _LIST_STATEMENTS[shape] = built
        while len(_LIST_STATEMENTS) > _LIST_STATEMENTS_KEPT:
            _LIST_STATEMENTS.popitem(last=False)
    return built


def _sort_column(criteria: CaseFilter) -> ColumnElement[Any]:
    sort = criteria.sort if criteria.sort in SORT_COLUMNS else "aendret"
    return cast(ColumnElement[Any], SORT_COLUMNS[sort]())


def _edge(
    criteria: CaseFilter, cursor: keyset.Cursor, backwards: bool, *, nullable: bool
) -> ColumnElement[bool]:
    """The rows past `cursor` (before it when reading `backwards`), as named parameters."""
    column = _sort_column(criteria)
    position = keyset.Bound(
        None if cursor.value is None else bindparam("cursor_value", type_=column.type),
        bindparam("cursor_id", type_=Case.id.type),
    )
    edge = keyset.before if backwards else keyset.beyond
    return edge(column, Case.id, position, descending=criteria.descending, nullable=nullable)


def _page_parts(
    keyed: Select[Any], criteria: CaseFilter, cursor: keyset.Cursor | None, backwards: bool
) -> tuple[Select[Any], ...]:
    """A page of a column that may be empty (the next deadline), read as its two parts in the
    list's order: the rows with a value through the column's index, then those without, by id
    (backwards: the other way round), each only if the page reaches it. Ordered by "empty
    last" first, one statement sorted every visible case (30 ms of SQLite, 145 ms of
    PostgreSQL at 100,000 cases)."""
    column = _sort_column(criteria)
    limit: BindParameter[int] = bindparam("page_limit")
    present = keyed.where(column.is_not(None))
    # Spelt so that no index of the column is taken for it: the rows without a deadline are
    # half the cases, read in id order from the table, where through the column's index
    # SQLite read and sorted all of them.
    empty = keyed.where(func.coalesce(column, None).is_(None))
    if cursor is not None and cursor.value is None:
        # The cursor is among the rows without a value: by id from it.
        cursor_id = bindparam("cursor_id", type_=Case.id.type)
        past = Case.id < cursor_id if criteria.descending != backwards else Case.id > cursor_id
        empty = empty.where(past)
    elif cursor is not None:
        present = present.where(_edge(criteria, cursor, backwards, nullable=False))
    with_values = _ordered(present, criteria, backwards=backwards, valued=True).limit(limit)
    without = empty.order_by(_tie(criteria, backwards)).limit(limit)
    if not backwards:
        # From a row without a value on, only rows without one follow.
        among_empty = cursor is not None and cursor.value is None
        return (without,) if among_empty else (with_values, without)
    # Back from a row with a value, only rows with one come before it.
    return (
        (with_values,)
        if cursor is not None and cursor.value is not None
        else (without, with_values)
    )


def _tie(criteria: CaseFilter, backwards: bool) -> ColumnElement[Any]:
    """The id's order, breaking ties of the sort column in the list's direction."""
    return Case.id.desc() if criteria.descending != backwards else Case.id.asc()


def _values(criteria: CaseFilter, now: datetime) -> dict[str, Any]:
    """The values of `_list_statements`' named parameters for `criteria`."""
    return {
        "process": criteria.process,
        "state": criteria.state,
        "body_id": criteria.body_id,
        "focus_area_id": criteria.focus_area_id,
        "national_goal_id": criteria.national_goal_id,
        "now": now,
        "pattern": _pattern(criteria.text),
        "count_limit": COUNT_CAP + 1,
    }


def _connection(session: Session) -> Connection:
    """The session's connection, for the list's statements of ids and counts: run on it, they
    skip the session's ORM steps (loading rows as entities), about 0.1 ms a statement. Pending
    changes are flushed first, as a read through the session would (autoflush)."""
    if session.autoflush:
        session.flush()  # returns at once when nothing is pending
    return session.connection()


def _read_parts(
    connection: Connection, parts: Sequence[Select[Any]], values: dict[str, Any], wanted: int
) -> list[Row[Any]]:
    """Up to `wanted` rows of the list's parts (each starting with id and sort value), in
    order: each part continues where the one before stopped and is read only for what is
    still lacking."""
    found: list[Row[Any]] = []
    for part in parts:
        found += connection.execute(part, values | {"page_limit": wanted - len(found)}).all()
        if len(found) >= wanted:
            break
    return found


def _nullable(criteria: CaseFilter) -> tuple[type, bool]:
    """The sort column's kind and whether the list may hold rows without a value in it (read
    in two parts then, `_page_parts`): overdue cases all have a deadline."""
    sort = criteria.sort if criteria.sort in SORT_COLUMNS else "aendret"
    kind, nullable = SORT_KINDS[sort]
    return kind, nullable and not (sort == "frist" and criteria.overdue)


def list_cases(
    session: Session,
    criteria: CaseFilter,
    now: datetime,
    visible: ColumnElement[bool],
    page_size: int = PAGE_SIZE,
) -> CasePage:
    """One page of the visible cases matching `criteria`: after (or before) a cursor through
    the sort column's index, never OFFSET; the count stops at COUNT_CAP."""
    kind, nullable = _nullable(criteria)
    after = keyset.decode(criteria.after, kind)
    before = keyset.decode(criteria.before, kind) if after is None else None
    cursor = after or before
    statements = _list_statements(criteria, now, visible, cursor, before is not None, nullable)
    values = _values(criteria, now)
    if cursor is not None:
        values |= {"cursor_value": cursor.value, "cursor_id": cursor.case_id}
    connection = _connection(session)
    read = _read_parts(connection, statements.rows, values, page_size + 1)
    # Every row carries the count; a page without rows past a cursor counts on its own.
    total = read[0].total if read else 0
    if not read and cursor is not None:
        total = connection.scalar(statements.count, values) or 0
    if before is not None:
        has_previous, has_next = len(read) > page_size, True
        read = read[:page_size][::-1]
    else:
        has_previous, has_next = after is not None, len(read) > page_size
        read = read[:page_size]
    labels = _Labels(definitions(session))
    rows = [labels.list_row(row) for row in read]
    found = [(row.id, row.sort_value) for row in read]
    first, last = (found[0], found[-1]) if found else (None, None)
    return CasePage(
        rows,
        min(total, COUNT_CAP),
        total > COUNT_CAP,
        keyset.encode(last[1], last[0]) if last is not None and has_next else None,
        keyset.encode(first[1], first[0]) if first is not None and has_previous else None,
    )


def export_cases(
    session: Session, criteria: CaseFilter, now: datetime, visible: ColumnElement[bool]
) -> list[CaseRow]:
    """Every visible case matching `criteria` (up to EXPORT_LIMIT), in the list's order: read
    as the list reads its first page, by deadline in its two parts (`_page_parts`)."""
    _kind, nullable = _nullable(criteria)
    statements = _list_statements(criteria, now, visible, None, False, nullable)
    values = _values(criteria, now)
    found = _read_parts(_connection(session), statements.pages, values, EXPORT_LIMIT)
    ids = [case_id for case_id, _value in found]
    if not ids:
        return []
    query = (
        select(Case)
        .where(Case.id.in_(ids))
        .options(joinedload(Case.focus_area), selectinload(Case.national_goals))
    )
    rows = case_rows(session, query)
    order = {case_id: index for index, case_id in enumerate(ids)}
    rows.sort(key=lambda row: order[row.case.id])
    return rows


def focus_areas(session: Session) -> list[FocusArea]:
    """List the focus areas by name."""
    return list(session.scalars(select(FocusArea).order_by(FocusArea.name)))


def national_goals(session: Session) -> list[NationalGoal]:
    """List the national goals by number."""
    return list(session.scalars(select(NationalGoal).order_by(NationalGoal.number)))


def active_bodies(session: Session) -> list[Body]:
    """List the active bodies by code."""
    return list(session.scalars(select(Body).where(Body.active).order_by(Body.code)))


def bodies_of_kinds(session: Session, kinds: Sequence[str]) -> list[tuple[str, str]]:
    """The active bodies of these kinds, as (code, name), for a "body" field's select."""
    rows = session.execute(
        select(Body.code, Body.name)
        .where(Body.active.is_(True), Body.kind.in_([BodyKind(k) for k in kinds]))
        .order_by(Body.kind, Body.code)
    )
    return [(code, name) for code, name in rows]
