"""Minutes: outcomes per item, the chair's approval that fires the decisions, follow-ups.

Approving the minutes fires each item's transition through engine.perform() with the meeting
as reference, one commit per case: a refused transition is stored on its item and the others
still go through. Outcomes that fire nothing are still written to the case's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import Session

from models import (
    AgendaItem,
    Body,
    Case,
    Deadline,
    DeadlineKind,
    DecisionTemplate,
    FollowUpItem,
    ItemKind,
    Meeting,
    MeetingStatus,
    User,
)
from workflow import policy
from workflow.engine import admin_audit, clock
from workflow.engine import core as engine
from workflow.engine.calendar import end_of_day, local_date
from workflow.engine.errors import WorkflowError
from workflow.engine.localtime import format_date
from workflow.engine.mail_text import bilingual, day
from workflow.engine.outbox import CHAIRS_AND_SECRETARIAT, enqueue, members_of
from workflow.engine.unit_of_work import case_conflict, unit_of_work
from workflow.meetings import agenda
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import OUTCOME_LABELS, Outcome, possible_outcomes, trigger_for
from workflow.meetings.unit import meeting_unit

FOLLOW_UP_REMINDERS = [7, 1]


# What a case's history says of a decision taken on a closed item (lukket punkt).
CLOSED_DECISION = (
    "Punktet blev behandlet for lukkede døre; beslutningens ordlyd står i referatet for "
    "organets medlemmer."
)


def decision_heading(body_code: str, when: str) -> str:
    """Return the heading every decision in the minutes carries."""
    return f"Beslutning i {body_code} den {when}"


def _require_minutes_open(session: Session, meeting: Meeting, actor: User) -> Body:
    body = session.get(Body, meeting.body_id)
    assert body is not None
    policy.require(actor, "write_minutes", meeting, session)
    if meeting.status is not MeetingStatus.HELD:
        raise WorkflowError(
            "Referatet kan kun skrives, når mødet er registreret som afholdt og referatet ikke "
            "er godkendt.",
            "Minutes can be written only for a held meeting whose minutes are not approved.",
        )
    return body


def record_outcome(
    session: Session, item: AgendaItem, actor: User, outcome: Outcome, decision_text: str
) -> None:
    """Record the outcome and decision text of one item; commit."""
    _require_minutes_open(session, item.meeting, actor)
    if item.event_id is not None:
        raise WorkflowError(
            "Beslutningen er allerede gennemført på sagen og kan ikke ændres her.",
            "The decision has already been applied to the case.",
        )
    if item.case_id is not None:
        case = session.get(Case, item.case_id)
        assert case is not None
        allowed = possible_outcomes(case)
        if outcome not in allowed:
            names = ", ".join(OUTCOME_LABELS[o].lower() for o in allowed)
            raise WorkflowError(
                f"Udfaldet »{OUTCOME_LABELS[outcome].lower()}« passer ikke til sagens tilstand. "
                f"Mulige udfald: {names}.",
                f"The outcome '{outcome}' does not fit the case's state.",
            )
    with meeting_unit(session):
        item.outcome = str(outcome)
        item.decision_text = decision_text.strip()
        item.transition_error = None
        meetings.record(
            session, item.meeting, actor, "outcome_recorded",
            data={"item_id": item.id, "outcome": str(outcome)},
        )  # fmt: skip


def apply_template(
    session: Session, template: DecisionTemplate, items: list[AgendaItem], actor: User
) -> None:
    """Give several items the template's outcome and text ({title} names each item), all in
    one unit of work."""
    with meeting_unit(session):
        for item in items:
            record_outcome(
                session, item, actor, Outcome(template.outcome),
                template.text.replace("{title}", item.title),
            )  # fmt: skip


def add_template(
    session: Session, body: Body | None, name: str, outcome: Outcome, text: str, actor: User
) -> DecisionTemplate:
    """Save a decision template for a body (or all bodies, for admins); commit."""
    if body is not None:
        policy.require(actor, "keep_templates", body, session)
    elif not policy.may(actor, "keep_templates", None, session):
        raise WorkflowError(
            "Kun administratorer kan lave skabeloner for alle organer.",
            "Only administrators may add templates for all bodies.",
        )
    if not name.strip() or not text.strip():
        raise WorkflowError(
            "Skabelonen skal have et navn og en beslutningstekst.", "Give a name and a text."
        )
    with meeting_unit(session):
        template = DecisionTemplate(
            body_id=body.id if body else None, name=name.strip(), outcome=str(outcome),
            text=text.strip(), created_at=clock.now(),
        )  # fmt: skip
        session.add(template)
        session.flush()
        _audit_template(session, template, actor, "decision_template_added", {})
    return template


def _require_template_rights(session: Session, actor: User, body_id: int | None) -> None:
    body = session.get(Body, body_id) if body_id is not None else None
    if body is not None:
        policy.require(actor, "keep_templates", body, session)
    elif not policy.may(actor, "keep_templates", None, session):
        raise WorkflowError(
            "Kun administratorer kan ændre skabeloner for alle organer.",
            "Only administrators may change templates for all bodies.",
        )


def _audit_template(
    session: Session, template: DecisionTemplate, actor: User, action: str, before: dict[str, str]
) -> None:
    admin_audit.record(
        session,
        actor_id=actor.id, action=action, object_type="decision_template",
        object_id=str(template.id), created_at=clock.now(),
        data={"before": before, "after": _template_fields(template)},
    )  # fmt: skip


def _template_fields(template: DecisionTemplate) -> dict[str, str]:
    return {"name": template.name, "outcome": template.outcome, "text": template.text,
            "active": str(template.active)}  # fmt: skip


def edit_template(
    session: Session,
    template: DecisionTemplate,
    actor: User,
    *,
    name: str,
    outcome: Outcome,
    text: str,
) -> None:
    """Change a template's name, outcome and text (audited); commit."""
    _require_template_rights(session, actor, template.body_id)
    if not name.strip() or not text.strip():
        raise WorkflowError(
            "Skabelonen skal have et navn og en beslutningstekst.", "Give a name and a text."
        )
    before = _template_fields(template)
    with meeting_unit(session):
        template.name, template.outcome, template.text = name.strip(), str(outcome), text.strip()
        _audit_template(session, template, actor, "decision_template_changed", before)


def set_template_active(
    session: Session, template: DecisionTemplate, actor: User, active: bool
) -> None:
    """Archive a template (or take it back into use); templates are never deleted."""
    _require_template_rights(session, actor, template.body_id)
    before = _template_fields(template)
    with meeting_unit(session):
        template.active = active
        action = "decision_template_restored" if active else "decision_template_archived"
        _audit_template(session, template, actor, action, before)


def all_templates(
    session: Session, body_ids: list[int], include_shared: bool
) -> list[DecisionTemplate]:
    """Return the templates of the bodies (and the shared ones), archived ones last."""
    condition: ColumnElement[bool] = DecisionTemplate.body_id.in_(body_ids)
    if include_shared:
        condition = condition | DecisionTemplate.body_id.is_(None)
    return list(
        session.scalars(
            select(DecisionTemplate)
            .where(condition)
            .order_by(DecisionTemplate.active.desc(), DecisionTemplate.name, DecisionTemplate.id)
        )
    )


# Read on every meeting page: built once, with its SQL cache key.
_TEMPLATES_FOR = (
    select(DecisionTemplate)
    .where(
        DecisionTemplate.active.is_(True),
        (DecisionTemplate.body_id == bindparam("body_id")) | DecisionTemplate.body_id.is_(None),
    )
    .order_by(DecisionTemplate.name)
)


def templates_for(session: Session, body_id: int) -> list[DecisionTemplate]:
    """Return the active templates of the body and those for every body."""
    return list(session.scalars(_TEMPLATES_FOR, {"body_id": body_id}))


@dataclass
class ApprovalResult:
    """What approving the minutes did, item by item."""

    fired: list[AgendaItem] = field(default_factory=list)
    refused: list[AgendaItem] = field(default_factory=list)
    recorded: list[AgendaItem] = field(default_factory=list)


def _missing_outcomes(meeting: Meeting) -> list[AgendaItem]:
    return [
        item
        for item in meetings.active_items(meeting)
        if item.case_id is not None and item.outcome is None
    ]


def approve_minutes(session: Session, meeting: Meeting, chair: User) -> ApprovalResult:
    """The chair approves the minutes: freeze them and fire each item's decision."""
    missing = _missing_outcomes(meeting)
    if missing:
        titles = "; ".join(f"»{i.title}«" for i in missing)
        raise WorkflowError(
            f"Referatet kan ikke godkendes, før alle sager har et udfald. Mangler: {titles}.",
            "Every case on the agenda needs an outcome before the minutes are approved.",
        )
    with meeting_unit(session):
        meetings.change_status(session, meeting, "approve_minutes", chair)
    # Each decision is its own unit: a refused one is marked on its item, the others stand.
    result = apply_decisions(session, meeting, chair)
    with meeting_unit(session):
        agenda.freeze(session, meeting, chair, "minutes")
    return result


def apply_decisions(session: Session, meeting: Meeting, chair: User) -> ApprovalResult:
    """Fire the transition of each decided item not yet applied; one unit of work per case."""
    body = session.get(Body, meeting.body_id)
    assert body is not None
    heading = decision_heading(body.code, format_date(meeting.starts_at))
    result = ApprovalResult()
    item_ids = [i.id for i in meetings.active_items(meeting) if i.case_id and i.event_id is None]
    for item_id in item_ids:
        item = session.get(AgendaItem, item_id)
        assert item is not None and item.case_id is not None and item.outcome is not None
        case = session.get(Case, item.case_id)
        assert case is not None
        outcome = Outcome(item.outcome)
        comment = f"{heading}: {item.decision_text or OUTCOME_LABELS[outcome]}"
        if item.closed:
            # The case's history (its page, the API, reports, feeds and the notifications the
            # decision sends) is read by everyone who may see the case; a closed item's
            # decision text is for the body's members, in the full edition of the minutes.
            comment = f"{heading}: {CLOSED_DECISION}"
        trigger = trigger_for(case, outcome)
        if trigger is None:
            with meeting_unit(session):
                event = engine.append_event(
                    session, case, trigger="meeting_outcome", actor=chair, from_state=case.state,
                    comment=comment, data={"outcome": str(outcome), "agenda_item_id": item.id},
                    now=clock.now(), meeting_id=meeting.id,
                )  # fmt: skip
                item.event_id = event.id
                item.transition_error = None
            result.recorded.append(item)
            continue
        try:
            # The transition and the item that names its event are one unit of work.
            with unit_of_work(session, case_conflict(session, case.id, case.version)):
                event = engine.perform(case, trigger, chair, comment=comment,
                                       data={"meeting_id": meeting.id})  # fmt: skip
                item.event_id = event.id
                item.transition_error = None
        except WorkflowError as error:
            item = session.get(AgendaItem, item_id)
            assert item is not None
            with meeting_unit(session):
                item.transition_error = error.message
            result.refused.append(item)
            continue
        result.fired.append(item)
    return result


def retry_refused(session: Session, meeting: Meeting, chair: User) -> ApprovalResult:
    """Fire again the items whose transition was refused (after the case was corrected)."""
    body = session.get(Body, meeting.body_id)
    assert body is not None
    policy.require(chair, "apply_decisions", meeting, session)
    if meeting.status not in (MeetingStatus.MINUTES_APPROVED, MeetingStatus.CLOSED):
        raise WorkflowError("Referatet er ikke godkendt endnu.", "Minutes not approved yet.")
    return apply_decisions(session, meeting, chair)


def _follow_up_words(item: AgendaItem | None, description: str, *, done: bool = False) -> str:
    """How the case's history names a follow-up: a closed item's is not described there."""
    if item is not None and item.closed:
        return "Opfølgning på et lukket punkt" + (" udført." if done else "")
    return f"Opfølgning udført: {description}" if done else f"Opfølgning: {description}"


def add_follow_up(
    session: Session,
    item: AgendaItem,
    actor: User,
    *,
    description: str,
    owner: User,
    due_on: date,
) -> FollowUpItem:
    """Register a follow-up a decision asks for, with a deadline that carries reminders."""
    meeting = item.meeting
    body = session.get(Body, meeting.body_id)
    assert body is not None
    policy.require(actor, "record_follow_up", meeting, session)
    if item.case_id is None:
        raise WorkflowError(
            "Opfølgning hører til et punkt med en sag.",
            "A follow-up belongs to an item with a case.",
            rule="follow_up_on_case_item",
        )
    if not description.strip():
        raise WorkflowError(
            "Beskriv, hvad der skal følges op på.",
            "Describe the follow-up.",
            rule="follow_up_described",
        )
    case = session.get(Case, item.case_id)
    assert case is not None
    now = clock.now()
    with meeting_unit(session):
        deadline = Deadline(
            case_id=case.id, kind=DeadlineKind.FOLLOW_UP, state=case.state, body_id=body.id,
            due_at=end_of_day(due_on), reminder_days=list(FOLLOW_UP_REMINDERS), created_at=now,
        )  # fmt: skip
        session.add(deadline)
        session.flush()
        follow_up = FollowUpItem(
            case_id=case.id, meeting_id=meeting.id, agenda_item_id=item.id,
            description=description.strip(), owner_id=owner.id, due_on=due_on,
            deadline_id=deadline.id, created_by_id=actor.id, created_at=now,
        )  # fmt: skip
        session.add(follow_up)
        session.flush()
        engine.append_event(
            session, case, trigger="follow_up_added", actor=actor, from_state=case.state,
            comment=f"{_follow_up_words(item, description.strip())} (ansvarlig: {owner.name}, "
            f"frist {format_date(due_on)}).",
            data={"follow_up_id": follow_up.id}, now=now, meeting_id=meeting.id,
        )  # fmt: skip
    return follow_up


def complete_follow_up(session: Session, follow_up: FollowUpItem, actor: User) -> None:
    """Mark a follow-up done (by its owner or the secretariat); its deadline is met."""
    case = session.get(Case, follow_up.case_id)
    assert case is not None
    meeting = session.get(Meeting, follow_up.meeting_id) if follow_up.meeting_id else None
    bodies = {case.current_body_id} | ({meeting.body_id} if meeting else set())
    secretariat_of = [session.get(Body, body_id) for body_id in bodies]
    if actor.id != follow_up.owner_id and not any(
        policy.may(actor, "close_follow_ups", body, session) for body in secretariat_of if body
    ):
        raise WorkflowError(
            "Kun den ansvarlige eller sekretariatet kan melde opfølgningen udført.",
            "Only the owner or the secretariat may complete the follow-up.",
            rule="follow_up_owner_or_secretariat",
        )
    if follow_up.done_at is not None:
        raise WorkflowError(
            "Opfølgningen er allerede meldt udført.",
            "The follow-up has already been reported done.",
            rule="follow_up_open",
        )
    now = clock.now()
    with meeting_unit(session):
        follow_up.done_at = now
        if follow_up.deadline_id is not None:
            deadline = session.get(Deadline, follow_up.deadline_id)
            if deadline is not None and deadline.is_open:
                deadline.met_at = now
        engine.append_event(
            session, case, trigger="follow_up_done", actor=actor, from_state=case.state,
            comment=_follow_up_words(
                session.get(AgendaItem, follow_up.agenda_item_id)
                if follow_up.agenda_item_id
                else None,
                follow_up.description,
                done=True,
            ),
            data={"follow_up_id": follow_up.id}, now=now,
        )  # fmt: skip


def decision_register(session: Session, body_id: int | None = None) -> list[FollowUpItem]:
    """Return the open follow-ups (the decision register), soonest due first."""
    query = select(FollowUpItem).where(FollowUpItem.done_at.is_(None))
    if body_id is not None:
        query = query.join(Meeting, Meeting.id == FollowUpItem.meeting_id).where(
            Meeting.body_id == body_id
        )
    return list(session.scalars(query.order_by(FollowUpItem.due_on, FollowUpItem.id)))


def info_kind_default(item: AgendaItem) -> Outcome | None:
    """Suggest 'noted' for an information item."""
    return Outcome.NOTED if item.kind is ItemKind.INFORMATION else None


def follow_ups(
    session: Session, body_ids: list[int] | None, *, done: bool = False
) -> list[FollowUpItem]:
    """Return the follow-ups of the bodies' meetings (all when None), open or done."""
    query = select(FollowUpItem).where(
        FollowUpItem.done_at.is_not(None) if done else FollowUpItem.done_at.is_(None)
    )
    if body_ids is not None:
        query = query.join(Meeting, Meeting.id == FollowUpItem.meeting_id).where(
            Meeting.body_id.in_(body_ids)
        )
    order = (FollowUpItem.done_at.desc(),) if done else (FollowUpItem.due_on, FollowUpItem.id)
    return list(session.scalars(query.order_by(*order)))


def send_follow_up_reminders(session: Session, now: datetime | None = None) -> int:
    """Remind each open follow-up's owner before its due date, once per reminder offset.

    The body's chairs and secretariat are reminded through the follow-up's deadline; the
    owner, who may sit elsewhere, is reminded here.
    """
    now = now or clock.now()
    today = local_date(now)
    due = session.scalars(
        select(FollowUpItem).where(
            FollowUpItem.done_at.is_(None),
            FollowUpItem.due_on >= today,
            FollowUpItem.due_on <= today + timedelta(days=max(FOLLOW_UP_REMINDERS)),
        )
    )
    sent = 0
    for item in due:
        deadline = session.get(Deadline, item.deadline_id) if item.deadline_id else None
        if (
            deadline is not None
            and deadline.body_id is not None
            and item.owner_id in members_of(session, deadline.body_id, CHAIRS_AND_SECRETARIAT)
        ):
            continue  # reminded through the deadline already
        days = (item.due_on - today).days
        offset = min(o for o in FOLLOW_UP_REMINDERS if o >= days)
        case = session.get(Case, item.case_id)
        title = case.title if case else ""
        if days == 0:
            left = bilingual("i dag")
        elif days == 1:
            left = bilingual("i morgen")
        else:
            left = bilingual("om %(days)s dage", days=days)
        if enqueue(
            session, key=f"follow_up_reminder:{item.id}:{offset}", recipient_id=item.owner_id,
            kind="reminder",
            subject=bilingual("Påmindelse: opfølgning på %(title)s", title=title),
            body=bilingual(
                "Du er ansvarlig for opfølgningen »%(description)s« på sagen »%(title)s«. "
                "Fristen er %(day)s – %(left)s.",
                description=item.description, title=title, day=day(item.due_on), left=left,
            ),
            case_id=item.case_id, deadline_id=item.deadline_id, send_after=now, created_at=now,
        ):  # fmt: skip
            sent += 1
    return sent
