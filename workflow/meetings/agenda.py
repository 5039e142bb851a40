"""Building a meeting's agenda: candidates, items filled from the case, order, and versions.

Adding a case sets its material deadline (materialefrist) for the meeting; an item whose case
is not ready when that deadline has passed is flagged. Publishing freezes the agenda as a
numbered version; a change after publishing makes the next version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.functions import FunctionElement

from models import (
    AgendaItem,
    Attachment,
    Body,
    Case,
    CaseEvent,
    Deadline,
    DeadlineKind,
    DocumentVersion,
    ItemKind,
    Meeting,
    MeetingStatus,
    User,
)
from workflow import policy
from workflow.engine import clock, values
from workflow.engine import core as engine
from workflow.engine.db import written
from workflow.engine.deadlines import material_deadline
from workflow.engine.errors import WorkflowError
from workflow.engine.formats import end_sentence, format_amount, genitive
from workflow.engine.localtime import format_date, format_datetime
from workflow.engine.processes import registry
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import OUTCOME_LABELS, Outcome, trigger_for, triggers_in
from workflow.meetings.roll import roll
from workflow.meetings.unit import meeting_unit

KIND_LABELS = {
    ItemKind.DECISION: "Beslutning",
    ItemKind.DISCUSSION: "Drøftelse",
    ItemKind.INFORMATION: "Orientering",
}
SECTIONS = (
    ("recommendation", "Indstilling"),
    ("background", "Baggrund"),
    ("presentation", "Sagsfremstilling"),
    ("consequences", "Konsekvenser"),
    ("risk", "Risikovurdering"),
    ("economy", "Økonomi"),
)
RECOMMENDATIONS = {
    ItemKind.DECISION: "Det indstilles, at {body} godkender indstillingen om »{title}«.",
    ItemKind.DISCUSSION: "Det indstilles, at {body} drøfter »{title}«.",
    ItemKind.INFORMATION: "Det indstilles, at {body} tager orienteringen om »{title}« til "
    "efterretning.",
}
CLOSED_NOTE = "Punktet behandles for lukkede døre; sagens indhold er fortroligt."


def _require_editable(session: Session, meeting: Meeting, actor: User) -> Body:
    body = session.get(Body, meeting.body_id)
    assert body is not None
    policy.require(actor, "edit_agenda", meeting, session)
    if meeting.status not in meetings.AGENDA_OPEN:
        raise WorkflowError(
            f"Dagsordenen kan ikke ændres, når mødet har status "
            f"»{meetings.STATUS_LABELS[meeting.status]}«.",
            "The agenda can no longer be changed.",
        )
    return body


def _on_pending_agenda(session: Session, exclude_meeting_id: int | None = None) -> set[int]:
    """Return the ids of cases on an agenda of a meeting that has not decided on them yet."""
    query = (
        select(AgendaItem.case_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            AgendaItem.case_id.is_not(None),
            AgendaItem.removed_at.is_(None),
            AgendaItem.outcome.is_(None),
            Meeting.status != MeetingStatus.CANCELLED,
        )
    )
    if exclude_meeting_id is not None:
        query = query.where(Meeting.id != exclude_meeting_id)
    return {case_id for case_id in session.scalars(query) if case_id is not None}


CANDIDATES_PER_PAGE = 20


@dataclass(frozen=True)
class CandidatePage:
    """One page of a meeting's candidates: its cases, how many match in all, which page of how
    many, and the words or case number they were searched for (empty: every candidate)."""

    cases: list[Case]
    total: int
    page: int
    pages: int
    text: str


def _awaiting(session: Session) -> ColumnElement[bool] | None:
    """The cases in a state that awaits a meeting of their current body, exactly those
    `awaits_meeting` accepts (it depends only on the case's version and state), as a WHERE
    clause; None when no stored version has such a state."""
    waiting = []
    every_state: set[str] = set()
    for (name, version), own in sorted(registry.stored(session).items()):
        declaring = registry.declaring(session, own)
        states = sorted(state for state in declaring.states if triggers_in(own, declaring, state))
        if states:
            every_state.update(states)
            waiting.append(
                and_(
                    Case.process == name,
                    Case.process_version == version,
                    Case.state.in_(states),
                )
            )
    if not waiting:
        return None
    # The states alone first: the (current body, state) index finds those cases (a body may
    # hold tens of thousands), and only they are read for their process and version.
    return and_(Case.state.in_(sorted(every_state)), or_(*waiting))


def _candidates_query(session: Session, meeting: Meeting, text: str = "") -> Select[Any] | None:
    """The meeting's candidates (not ordered), searched for `text` in the title or as the
    case number; None when nothing can await a meeting."""
    awaiting = _awaiting(session)
    if awaiting is None:
        return None
    # Cases on an agenda of a meeting (this one too) that has not decided on them yet.
    pending = (
        select(AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            AgendaItem.case_id == Case.id,
            AgendaItem.removed_at.is_(None),
            AgendaItem.outcome.is_(None),
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .exists()
    )
    query = select(Case).where(Case.current_body_id == meeting.body_id, awaiting, ~pending)
    text = text.strip()
    if text:
        found = Case.title.icontains(text, autoescape=True)
        number = values.parse_id(text.removeprefix("#"))
        query = query.where(or_(found, Case.id == number) if number else found)
    return query


def candidates(session: Session, meeting: Meeting) -> list[Case]:
    """Return the cases ready for the meeting's body and not yet on an undecided agenda, by
    case number.

    Cases postponed or refused at an earlier meeting come back here.
    """
    query = _candidates_query(session, meeting)
    return [] if query is None else list(session.scalars(query.order_by(Case.id)))


def candidate_page(
    session: Session, meeting: Meeting, page: int = 1, text: str = ""
) -> CandidatePage:
    """One page of `candidates` (CANDIDATES_PER_PAGE, by case number), searched for `text` in
    the title or as the case number: a body's secretariat may have thousands waiting."""
    query = _candidates_query(session, meeting, text)
    if query is None:
        return CandidatePage([], 0, 1, 1, text)
    total = session.scalar(query.with_only_columns(func.count(Case.id))) or 0
    pages = max((total + CANDIDATES_PER_PAGE - 1) // CANDIDATES_PER_PAGE, 1)
    page = min(max(page, 1), pages)
    cases = session.scalars(
        query.order_by(Case.id).limit(CANDIDATES_PER_PAGE).offset((page - 1) * CANDIDATES_PER_PAGE)
    )
    return CandidatePage(list(cases), total, page, pages, text)


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def sections_from_case(case: Case, body: Body, kind: ItemKind) -> dict[str, str]:
    """Fill the agenda's sections from the case's content."""
    goals = ", ".join(f"{g.number}. {g.name}" for g in case.national_goals)
    background = _join(
        case.summary,
        f"Sagen er rejst af {case.originating_body.name}.",
        f"Nationale mål: {goals}." if goals else "",
    )
    presentation = _join(
        f"Befolkningens sundhed: {case.triple_aim_population}"
        if case.triple_aim_population
        else "",
        f"Kvalitet: {case.triple_aim_quality}" if case.triple_aim_quality else "",
        f"Borgerens oplevelse: {case.triple_aim_experience}" if case.triple_aim_experience else "",
        f"Opgave- og rollefordeling: {case.role_distribution}" if case.role_distribution else "",
        f"Almen praksis: {case.general_practice_role}" if case.general_practice_role else "",
    )
    flags = {
        "principled": "sagen er principiel",
        "political": "sagen er politisk",
        "interface_change": "sagen ændrer snitflader mellem sektorerne",
        "cost_driving": "sagen giver merudgifter for en eller flere parter",
    }
    consequences = "; ".join(flags[f] for f in case.escalation_reasons)
    expenses = "; ".join(f"{e.party.name}: {format_amount(e.amount_dkk)}" for e in case.expenses)
    economy = _join(
        f"Økonomi (Triple Aim): {case.triple_aim_economy}" if case.triple_aim_economy else "",
        f"Businesscase: {case.business_case}" if case.business_case else "",
        f"Finansiering: {case.financing_proposal}" if case.financing_proposal else "",
        end_sentence(f"Forventede merudgifter: {expenses}") if expenses else "",
    )
    return {
        "recommendation": RECOMMENDATIONS[kind].format(body=body.code, title=case.title),
        "background": background,
        "presentation": presentation,
        "consequences": (consequences[:1].upper() + consequences[1:] + ".") if consequences else "",
        "risk": str(case.extra.get("risk", "")),
        "economy": economy,
    }


def _set_material_deadline(session: Session, case: Case, meeting: Meeting, body: Body) -> None:
    """Give the case the material deadline of this meeting, replacing another meeting's."""
    now = clock.now()
    open_material = session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id,
            Deadline.kind == DeadlineKind.MATERIAL,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
    ).all()
    if any(d.meeting_id == meeting.id for d in open_material):
        return
    for deadline in open_material:
        deadline.cancelled_at = now
    definition = engine.definition_of(case)
    session.add(
        Deadline(
            case_id=case.id,
            kind=DeadlineKind.MATERIAL,
            state=case.state,
            body_id=body.id,
            meeting_id=meeting.id,
            due_at=material_deadline(meeting, body),
            reminder_days=list(definition.states[case.state].reminders),
            created_at=now,
        )
    )


def add_case(
    session: Session,
    meeting: Meeting,
    case: Case,
    actor: User,
    *,
    kind: ItemKind = ItemKind.DECISION,
    closed: bool = False,
    public_summary: str = "",
) -> AgendaItem:
    """Put a case on the agenda with sections filled from it; set its material deadline."""
    body = _require_editable(session, meeting, actor)
    if case.current_body_id != meeting.body_id:
        raise WorkflowError(
            f"Sagen behandles i {case.current_body.code}, ikke i {body.code}, og kan derfor ikke "
            "komme på dette møde.",
            "The case is not before this body.",
        )
    if case.id in _on_pending_agenda(session):
        raise WorkflowError(
            "Sagen står allerede på en dagsorden, der ikke er behandlet. Fjern den dér først.",
            "The case is already on an undecided agenda.",
        )
    if closed and not public_summary.strip():
        raise WorkflowError(
            "Et lukket punkt skal have et offentligt resumé, der siger så meget, som "
            "fortroligheden tillader.",
            "A closed item needs a public summary.",
        )
    with meeting_unit(session):
        item = AgendaItem(
            meeting_id=meeting.id,
            case_id=case.id,
            position=meetings.next_position(session, meeting),
            title=case.title,
            kind=kind,
            closed=closed,
            public_summary=public_summary.strip(),
            **sections_from_case(case, body, kind),
        )
        session.add(item)
        _set_material_deadline(session, case, meeting, body)
        session.flush()
        engine.append_event(
            session, case, trigger="added_to_agenda", actor=actor, from_state=case.state,
            comment=f"Sat på dagsordenen for {genitive(body.code)} møde "
            f"{format_datetime(meeting.starts_at)}.",
            data={"agenda_item_id": item.id}, now=clock.now(), meeting_id=meeting.id,
        )  # fmt: skip
        _after_change(
            session, meeting, actor, "item_added", {"item_id": item.id, "case_id": case.id}
        )
    return item


def add_item(
    session: Session,
    meeting: Meeting,
    actor: User,
    *,
    title: str,
    kind: ItemKind = ItemKind.INFORMATION,
    recommendation: str = "",
) -> AgendaItem:
    """Add an item without a case (e.g. meddelelser, eventuelt)."""
    _require_editable(session, meeting, actor)
    if not title.strip():
        raise WorkflowError("Punktet skal have en titel.", "The item needs a title.")
    with meeting_unit(session):
        item = AgendaItem(
            meeting_id=meeting.id,
            position=meetings.next_position(session, meeting),
            title=title.strip(),
            kind=kind,
            recommendation=recommendation.strip(),
        )
        session.add(item)
        session.flush()
        _after_change(session, meeting, actor, "item_added", {"item_id": item.id})
    return item


EDITABLE = frozenset({name for name, _ in SECTIONS} | {"title", "public_summary"})


def update_item(
    session: Session,
    item: AgendaItem,
    actor: User,
    *,
    kind: ItemKind | None = None,
    closed: bool | None = None,
    **texts: str,
) -> None:
    """Change an item's texts, kind or openness."""
    meeting = item.meeting
    _require_editable(session, meeting, actor)
    unknown = set(texts) - EDITABLE
    if unknown:
        raise ValueError(f"Ukendte felter: {', '.join(sorted(unknown))}")
    with meeting_unit(session):
        for name, value in texts.items():
            setattr(item, name, value.strip())
        if kind is not None:
            item.kind = kind
        if closed is not None:
            item.closed = closed
        if item.closed and not item.public_summary.strip():
            raise WorkflowError(
                "Et lukket punkt skal have et offentligt resumé, der siger så meget, som "
                "fortroligheden tillader.",
                "A closed item needs a public summary.",
            )
        _after_change(session, meeting, actor, "item_changed", {"item_id": item.id})


def remove_item(session: Session, item: AgendaItem, actor: User, *, comment: str = "") -> None:
    """Take an item off the agenda (kept as removed); any item, the first one too.

    The approval of the agenda is only the first item a new agenda gets: a body that does not
    approve its agendas (or an extraordinary meeting) may remove it like any other item.
    """
    meeting = item.meeting
    _require_editable(session, meeting, actor)
    if item.removed_at is not None:
        raise WorkflowError(
            "Punktet er allerede fjernet fra dagsordenen.", "The item is already removed."
        )
    with meeting_unit(session):
        item.removed_at = clock.now()
        item.position = -item.id  # frees the position; unique per meeting
        session.flush()
        _renumber(session, meeting)
        _after_change(session, meeting, actor, "item_removed", {"item_id": item.id}, comment)


def _renumber(session: Session, meeting: Meeting, order: list[AgendaItem] | None = None) -> None:
    items = order if order is not None else meetings.active_items(meeting)
    # Two passes: positions are unique per meeting, so move everything out of the way first.
    for item in items:
        item.position = -1000 - item.id
    session.flush()
    for number, item in enumerate(items, start=1):
        item.position = number
    session.flush()
    session.expire(meeting, ["items"])


def move_item(session: Session, item: AgendaItem, actor: User, offset: int) -> None:
    """Move an item up (negative) or down (positive); every item, the first one too."""
    meeting = item.meeting
    _require_editable(session, meeting, actor)
    items = meetings.active_items(meeting)
    if item not in items:
        raise WorkflowError(
            "Punktet er fjernet fra dagsordenen og kan ikke flyttes.",
            "The item has been removed from the agenda.",
        )
    index = items.index(item)
    target = max(0, min(len(items) - 1, index + offset))
    if target == index:
        return
    with meeting_unit(session):
        items.insert(target, items.pop(index))
        _renumber(session, meeting, items)
        _after_change(session, meeting, actor, "item_moved", {"item_id": item.id, "to": target + 1})


def _after_change(
    session: Session,
    meeting: Meeting,
    actor: User,
    action: str,
    data: dict[str, Any],
    comment: str = "",
) -> None:
    """Audit an agenda change; after publishing it makes a new version of the agenda."""
    meetings.record(session, meeting, actor, action, comment=comment, data=data)
    if meeting.status is MeetingStatus.PUBLISHED:
        session.flush()
        session.expire(meeting, ["items"])
        freeze(session, meeting, actor, "agenda")


def publish(session: Session, meeting: Meeting, actor: User) -> DocumentVersion:
    """Publish the agenda: the meeting's state changes and version 1 is frozen."""
    with meeting_unit(session):
        meetings.change_status(session, meeting, "publish", actor)
        version = freeze(session, meeting, actor, "agenda")
    return version


def freeze(session: Session, meeting: Meeting, actor: User | None, kind: str) -> DocumentVersion:
    """Store the agenda or minutes as it is now, as the next numbered version."""
    latest = latest_version(session, meeting, kind)
    version = DocumentVersion(
        meeting_id=meeting.id,
        kind=kind,
        number=(latest.number + 1) if latest else 1,
        snapshot=snapshot(session, meeting, kind),
        created_by_id=actor.id if actor else None,
        created_at=clock.now(),
    )
    session.add(version)
    session.flush()
    return version


def latest_version(session: Session, meeting: Meeting, kind: str) -> DocumentVersion | None:
    """Return the newest frozen version of the meeting's agenda or minutes."""
    return session.scalar(
        select(DocumentVersion)
        .where(DocumentVersion.meeting_id == meeting.id, DocumentVersion.kind == kind)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    )


# The kinds of a meeting's frozen documents, as `DocumentVersion.kind` names them.
DOCUMENT_KINDS = ("agenda", "minutes")


def newest_number(meeting_id: Any, kind: str) -> ColumnElement[int | None]:
    """The number of the meeting's newest `kind` version (None while none is frozen), as a
    column of a statement that reads the meeting (the meeting page reads them with it),
    without reading the versions' snapshots."""
    return (
        select(func.max(DocumentVersion.number))
        .where(DocumentVersion.meeting_id == meeting_id, DocumentVersion.kind == kind)
        .scalar_subquery()
    )


def attachments_of(session: Session, case_id: int | None) -> list[Attachment]:
    """Return the case's attachments that are not archived, oldest first."""
    if case_id is None:
        return []
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.case_id == case_id, Attachment.archived_at.is_(None))
            .order_by(Attachment.id)
        )
    )


class decision_body(FunctionElement[str]):
    """The code of the body an event's decision was taken for (`data.decision_body`), spelt
    exactly as migration 0026's index on it, so the database reads a body's decisions
    outside meetings from that index instead of every event of the period."""

    type = String()
    name = "decision_body"
    inherit_cache = True


@compiles(decision_body)
def _decision_body_sqlite(element: decision_body, compiler: SQLCompiler, **kw: Any) -> str:
    (data,) = element.clauses
    return f"json_extract({compiler.process(data, **kw)}, '$.decision_body')"


@compiles(decision_body, "postgresql")
def _decision_body_postgresql(element: decision_body, compiler: SQLCompiler, **kw: Any) -> str:
    (data,) = element.clauses
    return f"({compiler.process(data, **kw)} ->> 'decision_body')"


class on_behalf_of_body(FunctionElement[bool]):
    """Whether an event's decision was taken by the chairs on the body's behalf between
    meetings (`data.on_behalf_of_body`, written only as true by the engine)."""

    type = Boolean()
    name = "on_behalf_of_body"
    inherit_cache = True


@compiles(on_behalf_of_body)
def _on_behalf_sqlite(element: on_behalf_of_body, compiler: SQLCompiler, **kw: Any) -> str:
    (data,) = element.clauses
    return f"(json_extract({compiler.process(data, **kw)}, '$.on_behalf_of_body') = 1)"


@compiles(on_behalf_of_body, "postgresql")
def _on_behalf_postgresql(element: on_behalf_of_body, compiler: SQLCompiler, **kw: Any) -> str:
    (data,) = element.clauses
    return f"(({compiler.process(data, **kw)} ->> 'on_behalf_of_body') = 'true')"


def decided_for(body_code: str | BindParameter[str]) -> ColumnElement[bool]:
    """Events recording a decision taken for the body outside a meeting (migration 0026's
    partial index holds exactly these, by body and time)."""
    return and_(CaseEvent.meeting_id.is_(None), decision_body(CaseEvent.data) == body_code)


def attachments_by_case(session: Session, case_ids: list[int]) -> dict[int, list[Attachment]]:
    """attachments_of for several cases in one statement, by case id (every id present)."""
    found: dict[int, list[Attachment]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        for attachment in session.scalars(
            select(Attachment)
            .where(Attachment.case_id.in_(case_ids), Attachment.archived_at.is_(None))
            .order_by(Attachment.id)
        ):
            found[attachment.case_id].append(attachment)
    return found


class ChairDecision(NamedTuple):
    """A decision the body's chairs took on its behalf, as the meeting page and the agenda
    show it: `visible` says whether the reader may open the case (the access policy's rule
    for viewing a case, evaluated by the database with the row)."""

    created_at: datetime
    comment: str
    trigger: str
    case_id: int
    title: str
    visible: bool


def _decision_triggers(session: Session) -> tuple[str, ...]:
    """The triggers of every stored version's decisions, kept while the versions are."""
    definitions = tuple(registry.stored(session).values())
    key = tuple(id(definition) for definition in definitions)
    kept = _TRIGGERS.get(key)
    if kept is None:
        triggers = tuple(
            sorted(
                {
                    transition.trigger
                    for definition in definitions
                    for transition in definition.transitions
                    if transition.decision
                }
            )
        )
        # The definitions are held with their triggers, so no other one takes their ids.
        kept = _TRIGGERS[key] = (definitions, triggers)
        while len(_TRIGGERS) > 64:
            del _TRIGGERS[next(iter(_TRIGGERS))]
    return kept[1]


_TRIGGERS: dict[tuple[int, ...], tuple[tuple[Any, ...], tuple[str, ...]]] = {}

# The body's previous meeting's start, where its chairs' decisions begin: read in the
# decisions' statement, not a statement of its own.
_PREVIOUS_START = (
    select(Meeting.starts_at)
    .where(
        Meeting.body_id == bindparam("body_id"),
        Meeting.starts_at < bindparam("until"),
        Meeting.status != MeetingStatus.CANCELLED,
    )
    .order_by(Meeting.starts_at.desc())
    .limit(1)
    .scalar_subquery()
)
# No previous meeting: every decision before this one (no event precedes the system).
_NO_PREVIOUS = datetime(1900, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1024)
def _chair_decisions_query(visible: ColumnElement[bool], triggers: tuple[str, ...]) -> Select[Any]:
    # Kept per access rule (the policy keeps the rule while the reader's standing is the
    # same) and the stored versions' decision triggers, so SQLAlchemy computes the
    # statement's cache key once, not on every page. A rule is keyed by identity and the
    # cache holds it, so an id is never reused. The triggers are written into the SQL
    # (`written`): bound, their IN list was expanded anew on every execution.
    return (
        select(
            CaseEvent.created_at,
            CaseEvent.comment,
            CaseEvent.trigger,
            Case.id,
            Case.title,
            visible.label("visible"),
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            decided_for(bindparam("body_code")),
            on_behalf_of_body(CaseEvent.data),
            CaseEvent.trigger.in_([written(trigger) for trigger in triggers]),
            CaseEvent.created_at < bindparam("until"),
            CaseEvent.created_at
            >= func.coalesce(
                _PREVIOUS_START, bindparam("no_previous", type_=CaseEvent.created_at.type)
            ),
        )
        .order_by(CaseEvent.created_at, CaseEvent.id)
    )


def chair_decisions_since(
    session: Session, meeting: Meeting, reader: User | None = None
) -> list[ChairDecision]:
    """Return decisions the body's chairs took on its behalf since its previous meeting,
    oldest first. With a `reader`, each says whether the reader may open the case (as
    `policy.may(reader, "view", case)`); without one (the printed agenda and minutes, which
    name every decision) each is visible."""
    body = session.get(Body, meeting.body_id)
    assert body is not None
    # Only decisions can be taken on the body's behalf; the body's decisions outside meetings
    # are read by body and time from their own index, not among every event of the window (a
    # month holds tens of thousands).
    visible = policy.visible_cases(session, reader) if reader is not None else true()
    rows = session.execute(
        _chair_decisions_query(visible, _decision_triggers(session)),
        {
            "body_code": body.code,
            "until": meeting.starts_at,
            "body_id": meeting.body_id,
            "no_previous": _NO_PREVIOUS,
        },
    )
    return [
        ChairDecision(created_at, comment or "", trigger, case_id, title, bool(seen))
        for created_at, comment, trigger, case_id, title, seen in rows
    ]


@dataclass(frozen=True)
class ItemStatus:
    """Whether an item's case is ready, and what is wrong when it is not."""

    late: bool
    problems: list[str]


def material_deadlines(session: Session, meeting: Meeting) -> dict[int, datetime]:
    """The material deadline of each case for the meeting, by case id, in one statement."""
    rows = session.execute(
        select(Deadline.case_id, Deadline.due_at).where(
            Deadline.meeting_id == meeting.id, Deadline.kind == DeadlineKind.MATERIAL
        )
    )
    return {case_id: due_at for case_id, due_at in rows}


def readiness(
    session: Session,
    item: AgendaItem,
    now: datetime | None = None,
    *,
    deadlines: dict[int, datetime] | None = None,
) -> ItemStatus:
    """Flag an item whose case does not meet its rules once the material deadline has passed.
    `deadlines` (material_deadlines) saves reading the item's deadline on its own."""
    if item.case_id is None:
        return ItemStatus(False, [])
    if deadlines is not None:
        deadline = deadlines.get(item.case_id)
    else:
        deadline = session.scalar(
            select(Deadline.due_at).where(
                Deadline.case_id == item.case_id,
                Deadline.meeting_id == item.meeting_id,
                Deadline.kind == DeadlineKind.MATERIAL,
            )
        )
    if deadline is None or (now or clock.now()) <= deadline:
        return ItemStatus(False, [])
    case = session.get(Case, item.case_id)
    assert case is not None
    trigger = trigger_for(case, Outcome.APPROVED) or trigger_for(case, Outcome.RECOMMENDED)
    problems: list[str] = []
    if trigger is not None:
        failures = engine.check(case, trigger, None, comment="-")
        problems = [f.message for f in failures if not f.rule.startswith("field:")]
    if not item.recommendation.strip():
        problems.append("Punktet har ingen indstilling.")
    return ItemStatus(bool(problems), problems)


def snapshot(session: Session, meeting: Meeting, kind: str) -> dict[str, Any]:
    """Return the agenda (or minutes) as plain data: what the documents print."""
    body = session.get(Body, meeting.body_id)
    assert body is not None
    session.refresh(meeting, ["items"])
    items = []
    for number, item in enumerate(meetings.active_items(meeting), start=1):
        outcome = Outcome(item.outcome) if item.outcome else None
        items.append(
            {
                "number": number,
                "item_id": item.id,
                "case_id": item.case_id,
                "title": item.title,
                "kind": str(item.kind),
                "kind_label": KIND_LABELS[item.kind],
                "closed": item.closed,
                "public_summary": item.public_summary,
                "sections": [[label, getattr(item, name)] for name, label in SECTIONS],
                "attachments": [a.filename for a in attachments_of(session, item.case_id)],
                "outcome": str(outcome) if outcome else None,
                "outcome_label": OUTCOME_LABELS[outcome] if outcome else None,
                "decision_text": item.decision_text,
                "transition_error": item.transition_error,
            }
        )
    chair_decisions = [
        {
            "case_id": decision.case_id,
            "title": decision.title,
            "date": format_date(decision.created_at),
            "text": decision.comment,
            "trigger": decision.trigger,
        }
        for decision in chair_decisions_since(session, meeting)
    ]
    present = roll(session, meeting)
    return {
        "present": [user.name for user in present.present],
        "absent": [user.name for user in present.absent],
        "minute_taker": present.minute_taker.name if present.minute_taker else "",
        "kind": kind,
        "body_code": body.code,
        "body_name": body.name,
        "title": meeting.title,
        "starts_at": meeting.starts_at.isoformat(),
        "date": format_date(meeting.starts_at),
        "when": format_datetime(meeting.starts_at),
        "location": meeting.location,
        "online_url": values.safe_link(meeting.online_url) or "",
        "items": items,
        "chair_decisions": chair_decisions,
    }
