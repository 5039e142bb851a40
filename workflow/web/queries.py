"""Read-side queries of the web pages: the dashboard's sections, a case's timeline, lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import (
    Body,
    BodyKind,
    Case,
    CaseEvent,
    Deadline,
    Meeting,
    MeetingStatus,
    Membership,
    ProcessVersion,
    Role,
    User,
)
from workflow.calendar import local_date
from workflow.definitions import ProcessDefinition
from workflow.processes import registry

CHAIR_ROLES = (Role.CHAIR, Role.VICE_CHAIR)
ROLE_LABELS = {
    Role.CHAIR: "Formand",
    Role.VICE_CHAIR: "Næstformand",
    Role.MEMBER: "Medlem",
    Role.SECRETARIAT: "Sekretariat",
    Role.OBSERVER: "Observatør",
}
# Decisions are usually recorded shortly after the meeting; older meetings clutter the select.
DECISION_MEETING_LOOKBACK = timedelta(days=180)
CASE_LIST_LIMIT = 200


@dataclass(frozen=True)
class CaseRow:
    """A case as a list shows it: its state's label and its next open deadline."""

    case: Case
    process_title: str
    state_label: str
    next_deadline: datetime | None


@dataclass(frozen=True)
class OverdueRow:
    """An open deadline that has passed, with the case it belongs to."""

    deadline: Deadline
    case: Case
    state_label: str
    days_overdue: int


@dataclass(frozen=True)
class Dashboard:
    """What the front page shows; a section is None when the user has no role for it."""

    memberships: list[Membership]
    to_decide: list[CaseRow] | None
    our_cases: list[CaseRow] | None
    overdue: list[OverdueRow] | None


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


Definitions = dict[tuple[str, int], ProcessDefinition]


def open_deadline() -> ColumnElement[bool]:
    """The condition for a deadline that is neither met nor cancelled."""
    return and_(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))


def definitions(session: Session) -> Definitions:
    """Return every stored process definition version, keyed by (name, version)."""
    rows = session.execute(select(ProcessVersion.name, ProcessVersion.version)).all()
    return {(name, version): registry.get(session, name, version) for name, version in rows}


def open_case_condition(known: Definitions) -> ColumnElement[bool]:
    """The condition for a case that is not in a final state of the version it follows."""
    clauses = []
    for (name, version), definition in known.items():
        open_states = [s.name for s in definition.states.values() if not s.final]
        clauses.append(
            and_(
                Case.process == name,
                Case.process_version == version,
                Case.state.in_(open_states),
            )
        )
    return or_(*clauses) if clauses else false()


def _with_next_deadline(query: Select[tuple[Case]]) -> Select[tuple[Case, datetime | None]]:
    due = (
        select(Deadline.case_id, func.min(Deadline.due_at).label("due_at"))
        .where(open_deadline())
        .group_by(Deadline.case_id)
        .subquery()
    )
    return (
        query.add_columns(due.c.due_at)
        .outerjoin(due, due.c.case_id == Case.id)
        .options(joinedload(Case.current_body), joinedload(Case.originating_body))
        .order_by(due.c.due_at.is_(None), due.c.due_at, Case.id)
    )


def case_rows(
    session: Session, query: Select[tuple[Case]], known: Definitions | None = None
) -> list[CaseRow]:
    """Run a case query and describe each case with its state label and next deadline."""
    known = known if known is not None else definitions(session)
    rows: list[CaseRow] = []
    for case, due_at in session.execute(_with_next_deadline(query)).unique():
        definition = known[(case.process, case.process_version)]
        state = definition.states[case.state]
        rows.append(CaseRow(case, definition.title, state.label, due_at))
    return rows


def active_memberships(session: Session, user: User) -> list[Membership]:
    """List the user's active memberships of active bodies, by body code."""
    return list(
        session.scalars(
            select(Membership)
            .join(Membership.body)
            .where(Membership.user_id == user.id, Membership.active.is_(True), Body.active)
            .options(joinedload(Membership.body))
            .order_by(Body.code, Membership.role)
        )
    )


def dashboard(session: Session, user: User, now: datetime) -> Dashboard:
    """Gather the front page's sections for `user`, according to their roles."""
    memberships = active_memberships(session, user)
    chaired = {m.body_id for m in memberships if m.role in CHAIR_ROLES}
    committees = {m.body_id for m in memberships if m.body.kind == BodyKind.COORDINATION_COMMITTEE}
    secretariats = {m.body_id for m in memberships if m.role == Role.SECRETARIAT}
    known = definitions(session)
    is_open = open_case_condition(known)
    to_decide = our_cases = overdue = None
    if chaired:
        query = select(Case).where(Case.current_body_id.in_(chaired), is_open)
        to_decide = case_rows(session, query, known)
    if committees:
        query = select(Case).where(Case.originating_body_id.in_(committees), is_open)
        our_cases = case_rows(session, query, known)
    if secretariats:
        overdue = overdue_deadlines(session, secretariats, now, known)
    return Dashboard(memberships, to_decide, our_cases, overdue)


def overdue_deadlines(
    session: Session, body_ids: set[int], now: datetime, known: Definitions | None = None
) -> list[OverdueRow]:
    """List the open deadlines of `body_ids` that have passed, the oldest first."""
    known = known if known is not None else definitions(session)
    deadlines = session.scalars(
        select(Deadline)
        .where(open_deadline(), Deadline.due_at < now, Deadline.body_id.in_(body_ids))
        .options(joinedload(Deadline.case))
        .order_by(Deadline.due_at, Deadline.id)
    )
    rows: list[OverdueRow] = []
    for deadline in deadlines:
        case: Case = deadline.case
        state = known[(case.process, case.process_version)].states.get(case.state)
        days = (local_date(now) - local_date(deadline.due_at)).days
        rows.append(OverdueRow(deadline, case, state.label if state else case.state, days))
    return rows


def find_case(session: Session, case_id: int) -> Case | None:
    """Load a case with what its page shows."""
    return session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(
            joinedload(Case.current_body),
            joinedload(Case.originating_body),
            joinedload(Case.focus_area),
            selectinload(Case.national_goals),
        )
    )


def case_deadlines(session: Session, case: Case) -> list[Deadline]:
    """List the case's open deadlines, the nearest first."""
    return list(
        session.scalars(
            select(Deadline)
            .where(Deadline.case_id == case.id, open_deadline())
            .order_by(Deadline.due_at, Deadline.id)
        )
    )


def decision_meetings(session: Session, body_id: int, now: datetime) -> list[Meeting]:
    """List the meetings a decision of the body can be recorded on (recent and coming)."""
    return list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.body_id == body_id,
                Meeting.status != MeetingStatus.CANCELLED,
                Meeting.starts_at >= now - DECISION_MEETING_LOOKBACK,
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


ROLE_WORDS = {
    "chair": "som formandskab",
    "vice_chair": "som næstformand",
    "member": "som medlem",
    "secretariat": "som sekretariat",
    "admin": "som administrator",
}
SPECIAL_TRIGGERS = {
    "create": "Sagen blev oprettet",
    "edit": "Sagens oplysninger blev ændret",
    "migrate_version": "Sagen blev flyttet til en ny version af processen",
}


FIELD_WORDS = {
    "title": "titel",
    "summary": "resumé",
    "focus_area_id": "fokusområde",
    "national_goals": "nationale mål",
    "plan_year": "planår",
    "principled": "principiel",
    "political": "politisk karakter",
    "interface_change": "snitflade",
    "cost_driving": "merudgifter",
    "large_task": "større opgave",
    "business_case": "businesscase",
    "financing_proposal": "finansieringsforslag",
    "role_distribution": "rolle- og opgavefordeling",
    "general_practice_role": "almen praksis' rolle",
    "triple_aim_quality": "Triple Aim: kvalitet",
    "triple_aim_economy": "Triple Aim: økonomi",
    "triple_aim_experience": "Triple Aim: borgerens oplevelse",
    "esdh_case_number": "ESDH-sagsnummer",
    "received_on": "modtaget",
    "sent_on": "afsendt",
    "journal_description": "journalbeskrivelse",
}


def _event_detail(event: CaseEvent) -> str:
    data = event.data or {}
    parts: list[str] = []
    role = str(data.get("role", "")).partition("@")[0]
    if role in ROLE_WORDS:
        parts.append(ROLE_WORDS[role])
    if data.get("on_behalf_of_body"):
        parts.append("formandskabsbeslutning på organets vegne")
    if event.trigger == "edit" and data.get("fields"):
        parts.append("ændret: " + ", ".join(FIELD_WORDS.get(f, f) for f in data["fields"]))
    if event.trigger == "migrate_version":
        parts.append(f"fra version {data.get('from_version')} til {data.get('to_version')}")
    return ", ".join(parts)


def _timeline_entry(
    event: CaseEvent, definition: ProcessDefinition, meeting: Meeting | None
) -> TimelineEntry:
    transition = definition.transition(event.trigger)
    what = SPECIAL_TRIGGERS.get(event.trigger) or (
        transition.label if transition else event.trigger
    )
    if event.actor is not None:
        who = event.actor.name
    elif (event.data or {}).get("automatic"):
        who = "Automatisk (efter processens regler)"
    else:
        who = "Systemet"
    from_state = definition.states.get(event.from_state or "")
    to_state = definition.states.get(event.to_state)
    return TimelineEntry(
        event=event,
        who=who,
        what=what,
        from_label=from_state.label if from_state else event.from_state,
        to_label=to_state.label if to_state else event.to_state,
        detail=_event_detail(event),
        meeting=meeting,
    )


def timeline(session: Session, case: Case, definition: ProcessDefinition) -> list[TimelineEntry]:
    """Describe every event of the case, oldest first."""
    events = list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .options(joinedload(CaseEvent.actor))
            .order_by(CaseEvent.seq)
        )
    )
    meeting_ids = {e.meeting_id for e in events if e.meeting_id is not None}
    meetings = (
        {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(meeting_ids)))}
        if meeting_ids
        else {}
    )
    return [
        _timeline_entry(e, definition, meetings.get(e.meeting_id) if e.meeting_id else None)
        for e in events
    ]


def list_cases(
    session: Session, *, process: str = "", state: str = "", body_id: int | None = None
) -> tuple[list[CaseRow], bool]:
    """List cases matching the filters, most recently changed first; say if more exist."""
    query = select(Case)
    if process:
        query = query.where(Case.process == process)
    if state:
        query = query.where(Case.state == state)
    if body_id is not None:
        query = query.where(
            or_(Case.current_body_id == body_id, Case.originating_body_id == body_id)
        )
    ids = list(
        session.scalars(
            query.with_only_columns(Case.id)
            .order_by(Case.updated_at.desc(), Case.id.desc())
            .limit(CASE_LIST_LIMIT + 1)
        )
    )
    more = len(ids) > CASE_LIST_LIMIT
    ids = ids[:CASE_LIST_LIMIT]
    rows = case_rows(session, select(Case).where(Case.id.in_(ids))) if ids else []
    order = {case_id: index for index, case_id in enumerate(ids)}
    rows.sort(key=lambda row: order[row.case.id])
    return rows, more


def active_bodies(session: Session) -> list[Body]:
    """List the active bodies by code."""
    return list(session.scalars(select(Body).where(Body.active).order_by(Body.code)))
