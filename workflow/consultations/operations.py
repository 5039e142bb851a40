"""Consultations (høring): a draft sent to parties and bodies with a response deadline.

Each consulted party or body answers in the app (text and an attachment) or is marked as not
answering; those who have not answered are reminded before the deadline. The case may leave
its consultation state before the deadline only when everyone has answered
(`all_answered()`, which the guard `consultation_closed` reads).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, or_, select
from sqlalchemy.orm import Session

from models import (
    Body,
    Case,
    Consultation,
    ConsultationResponse,
    Membership,
    Party,
    ResponseStatus,
    Role,
    User,
)
from workflow import policy
from workflow.cases import attachments
from workflow.cases.attachments import Upload
from workflow.engine import clock, session_cache
from workflow.engine import core as engine
from workflow.engine.calendar import local_date
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.engine.localtime import format_date
from workflow.engine.mail_text import bilingual, day
from workflow.engine.outbox import CHAIRS_AND_SECRETARIAT, enqueue, members_of
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import unit_of_work


def runs_consultation(case: Case) -> bool:
    """Whether the case is in the state where its process runs a consultation round
    (`consultation = true` in states/*.toml)."""
    state = engine.declarations_of(case).states.get(case.state)
    return state is not None and state.consultation


def in_consultation_state(session: Session) -> ColumnElement[bool]:
    """SQL: the case is in a state that runs a consultation round, in any process."""
    pairs = [
        and_(Case.process == definition.name, Case.state == state.name)
        for definition in registry.all_latest(session)
        for state in definition.states.values()
        if state.consultation
    ]
    return or_(*pairs) if pairs else false()


STATUS_LABELS = {
    ResponseStatus.PENDING: "Afventer svar",
    ResponseStatus.ANSWERED: "Har svaret",
    ResponseStatus.NO_ANSWER: "Svarer ikke",
}


def _recipients(session: Session, response: ConsultationResponse) -> list[int]:
    if response.body_id is not None:
        return members_of(session, response.body_id, CHAIRS_AND_SECRETARIAT)
    return list(
        session.scalars(
            select(User.id).where(User.party_id == response.party_id, User.active.is_(True))
        )
    )


def name_of(session: Session, response: ConsultationResponse) -> str:
    """Return the name of the consulted party or body."""
    return _name(session, response)


def _name(session: Session, response: ConsultationResponse) -> str:
    if response.body_id is not None:
        body = session.get(Body, response.body_id)
        return body.name if body else "?"
    party = session.get(Party, response.party_id)
    return party.name if party else "?"


def start(
    session: Session,
    case: Case,
    actor: User,
    *,
    title: str,
    parties: list[Party],
    bodies: list[Body],
    draft: str = "",
    deadline: date | None = None,
    attachment_id: int | None = None,
    reminder_days: int = 3,
    file: Upload | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> Consultation:
    """Send the case's draft (given as an attachment or a `file` to attach) to the parties and
    bodies; each is told of the deadline. One unit of work, the attached file included."""
    with unit_of_work(session):
        if file is not None:
            attachment_id = attachments.upload(
                session, case, actor, file.filename, file.data, folder=folder
            ).id
        return _start(
            session, case, actor, title=title, parties=parties, bodies=bodies, draft=draft,
            deadline=deadline, attachment_id=attachment_id, reminder_days=reminder_days,
        )  # fmt: skip


def _start(
    session: Session,
    case: Case,
    actor: User,
    *,
    title: str,
    parties: list[Party],
    bodies: list[Body],
    draft: str,
    deadline: date | None,
    attachment_id: int | None,
    reminder_days: int,
) -> Consultation:
    if not policy.may(actor, "run_consultation", case, session):
        raise NotAllowed(
            "Kun sekretariatet eller formandskabet for sagens organ kan sende den i høring.",
            "Only the case's secretariat or chairs may start a consultation.",
            ["secretariat@originating", "chair@originating"],
            rule="may_run_consultation",
        )
    if not runs_consultation(case):
        raise WorkflowError(
            "Sagen skal først sendes i høring (handlingen på sagen), så høringsfristen er sat.",
            "Move the case to its consultation state first.",
            rule="case_in_consultation",
        )
    raw = case.extra.get("consultation_deadline")
    deadline = deadline or (date.fromisoformat(str(raw)) if raw else None)
    if deadline is None or deadline < local_date(clock.now()):
        raise WorkflowError(
            "Angiv en høringsfrist, der ikke er overskredet.",
            "Give a future response deadline.",
            rule="deadline_in_future",
        )
    if not parties and not bodies:
        raise WorkflowError(
            "Vælg mindst én part eller ét organ, der skal høres.",
            "Choose whom to consult.",
            rule="someone_consulted",
        )
    now = clock.now()
    consultation = Consultation(
        case_id=case.id, title=title.strip() or case.title, draft=draft.strip(),
        attachment_id=attachment_id, deadline=deadline, reminder_days=reminder_days,
        created_by_id=actor.id, created_at=now,
    )  # fmt: skip
    session.add(consultation)
    session.flush()
    responses = [
        ConsultationResponse(consultation_id=consultation.id, party_id=p.id) for p in parties
    ] + [ConsultationResponse(consultation_id=consultation.id, body_id=b.id) for b in bodies]
    session.add_all(responses)
    session.flush()
    subject = bilingual("Høring: %(title)s", title=consultation.title)
    for response in responses:
        text = bilingual(
            "%(name)s er hørt om »%(title)s«. Svar i Aftaleflow senest %(day)s.",
            name=_name(session, response), title=case.title, day=day(deadline),
        )  # fmt: skip
        for user_id in _recipients(session, response):
            enqueue(
                session, key=f"consultation:{response.id}:{user_id}", recipient_id=user_id,
                kind="consultation", subject=subject, body=text,
                case_id=case.id, send_after=now, created_at=now,
            )  # fmt: skip
    names = ", ".join(_name(session, r) for r in responses)
    engine.append_event(
        session, case, trigger="consultation_started", actor=actor, from_state=case.state,
        comment=f"Sendt i høring hos {names} med frist {format_date(deadline)}.",
        data={"consultation_id": consultation.id}, now=now,
    )  # fmt: skip
    return consultation


def answer(
    session: Session,
    response: ConsultationResponse,
    actor: User,
    text: str,
    *,
    attachment_id: int | None = None,
    file: Upload | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> None:
    """Record a consulted party's answer (text and/or an attachment, or a `file` to attach):
    one unit of work, the attached file included."""
    with unit_of_work(session):
        case = session.get(Case, response.consultation.case_id)
        assert case is not None
        if file is not None:
            attachment_id = attachments.upload(
                session, case, actor, file.filename, file.data, folder=folder
            ).id
        _answer(session, case, response, actor, text, attachment_id)


def _answer(
    session: Session,
    case: Case,
    response: ConsultationResponse,
    actor: User,
    text: str,
    attachment_id: int | None,
) -> None:
    if not policy.may(actor, "answer", response, session):
        raise NotAllowed(
            f"Du kan kun svare på vegne af {_name(session, response)}, hvis du hører til dér.",
            "You may answer only for your own party or body.",
            [],
            rule="answers_for_own_party",
        )
    if not runs_consultation(case):
        raise WorkflowError(
            "Høringen er afsluttet; svaret kan ikke længere registreres.",
            "The consultation is over.",
            rule="consultation_open",
        )
    if not text.strip() and attachment_id is None:
        raise WorkflowError(
            "Skriv et svar eller vedhæft et høringssvar.",
            "Write an answer or attach one.",
            rule="answer_given",
        )
    now = clock.now()
    response.status = ResponseStatus.ANSWERED
    response.text = text.strip()
    response.attachment_id = attachment_id
    response.answered_by_id = actor.id
    response.answered_at = now
    late = local_date(now) > response.consultation.deadline
    engine.append_event(
        session, case, trigger="consultation_answered", actor=actor, from_state=case.state,
        comment=f"Høringssvar fra {_name(session, response)}" + (" (efter fristen)." if late
                                                                   else "."),
        data={"response_id": response.id, "late": late}, now=now,
    )  # fmt: skip


def mark_not_answering(session: Session, response: ConsultationResponse, actor: User) -> None:
    """Record that a party will not answer (the secretariat or chairs of the case do this)."""
    case = session.get(Case, response.consultation.case_id)
    assert case is not None
    if not policy.may(actor, "run_consultation", case, session):
        raise NotAllowed(
            "Kun sekretariatet eller formandskabet for sagens organ kan registrere det.",
            "Only the case's secretariat or chairs may do this.",
            ["secretariat@originating", "chair@originating"],
            rule="may_run_consultation",
        )
    with unit_of_work(session):
        response.status = ResponseStatus.NO_ANSWER
        engine.append_event(
            session, case, trigger="consultation_no_answer", actor=actor, from_state=case.state,
            comment=f"{_name(session, response)} svarer ikke i høringen.",
            data={"response_id": response.id}, now=clock.now(),
        )  # fmt: skip


# Built once (every case page asks it): building a statement and its cache key costs about
# as much as running it.
_CURRENT = (
    select(Consultation)
    .where(Consultation.case_id == bindparam("case_id"))
    .order_by(Consultation.id.desc())
    .limit(1)
)


# Where the session keeps a case's latest consultation (workflow.engine.session_cache): the
# case page's statement notes there that a case has none (`workflow.cases.queries.find_case`).
CURRENT_KEY = "consultations.current"


def current(session: Session, case: Case) -> Consultation | None:
    """Return the case's latest consultation."""
    return session_cache.cached(
        session, (CURRENT_KEY, case.id), lambda: session.scalar(_CURRENT, {"case_id": case.id})
    )


def rounds(session: Session, case: Case) -> list[Consultation]:
    """Return every consultation run on the case, newest first."""
    return list(
        session.scalars(
            select(Consultation)
            .where(Consultation.case_id == case.id)
            .order_by(Consultation.id.desc())
        )
    )


def _answerable_by(user: User) -> ColumnElement[bool]:
    """SQL: the response is the user's party's, or a body's the user works in (not observing)."""
    bodies = select(Membership.body_id).where(
        Membership.user_id == user.id,
        Membership.active.is_(True),
        Membership.role != Role.OBSERVER,
    )
    mine: ColumnElement[bool] = ConsultationResponse.body_id.in_(bodies)
    if user.party_id is not None:
        mine = mine | (ConsultationResponse.party_id == user.party_id)
    return mine


def open_for(session: Session, user: User) -> list[ConsultationResponse]:
    """Return the answers the user may give in rounds whose case is still in consultation."""
    return list(
        session.scalars(
            select(ConsultationResponse)
            .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
            .join(Case, Case.id == Consultation.case_id)
            .where(
                _answerable_by(user),
                in_consultation_state(session),
                Consultation.created_at >= Case.state_entered_at,
            )
            .order_by(Consultation.deadline, ConsultationResponse.id)
        )
    )


@dataclass(frozen=True)
class AwaitedAnswer:
    """An open round that still waits for the user's party or body to answer."""

    response_id: int
    title: str
    deadline: date
    case: Case
    answers_for: str


AWAITED_LIMIT = 20


def awaited_answers(
    session: Session, user: User, limit: int = AWAITED_LIMIT
) -> list[AwaitedAnswer]:
    """The rounds still waiting for the user's answer, earliest deadline first (for the
    dashboard): one statement, and the case's process definition only when there are any."""
    rows = session.execute(
        _awaited_query(user.party_id is not None, limit),
        {"user_id": user.id, "party_id": user.party_id},
    ).all()
    return [
        AwaitedAnswer(response_id, title, deadline, case, body_name or party_name or "?")
        for response_id, title, deadline, case, party_name, body_name in rows
        if runs_consultation(case)
    ]


@functools.lru_cache(maxsize=8)
def _awaited_query(with_party: bool, limit: int) -> Select[Any]:
    # Every front page asks: the statement is built once, the user bound when it runs.
    bodies = select(Membership.body_id).where(
        Membership.user_id == bindparam("user_id"),
        Membership.active.is_(True),
        Membership.role != Role.OBSERVER,
    )
    mine: ColumnElement[bool] = ConsultationResponse.body_id.in_(bodies)
    if with_party:
        mine = mine | (ConsultationResponse.party_id == bindparam("party_id"))
    return (
        select(ConsultationResponse.id, Consultation.title, Consultation.deadline, Case)
        .add_columns(Party.name, Body.name)
        .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
        .join(Case, Case.id == Consultation.case_id)
        .outerjoin(Party, Party.id == ConsultationResponse.party_id)
        .outerjoin(Body, Body.id == ConsultationResponse.body_id)
        .where(
            mine,
            ConsultationResponse.status == ResponseStatus.PENDING,
            Consultation.created_at >= Case.state_entered_at,
        )
        .order_by(Consultation.deadline, ConsultationResponse.id)
        .limit(limit)
    )


def all_answered(session: Session, case: Case) -> bool:
    """Tell whether everyone consulted in the latest round has answered or declined."""
    consultation = current(session, case)
    if consultation is None or not consultation.responses:
        return False
    return all(r.status is not ResponseStatus.PENDING for r in consultation.responses)


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """Remind those who have not answered, `reminder_days` before the deadline, once each."""
    now = now or clock.now()
    today = local_date(now)
    with unit_of_work(session):
        pending = session.scalars(
            select(ConsultationResponse)
            .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
            .where(
                ConsultationResponse.status == ResponseStatus.PENDING,
                ConsultationResponse.reminded_at.is_(None),
                Consultation.deadline >= today,
            )
        ).all()
        sent = 0
        for response in pending:
            consultation = response.consultation
            if today < consultation.deadline - timedelta(days=consultation.reminder_days):
                continue
            case = session.get(Case, consultation.case_id)
            assert case is not None
            if not runs_consultation(case):
                continue
            offset = consultation.reminder_days
            subject = bilingual("Påmindelse: høringssvar om %(title)s", title=consultation.title)
            text = bilingual(
                "%(name)s har ikke svaret i høringen om »%(title)s«. Fristen er %(day)s.",
                name=_name(session, response), title=case.title, day=day(consultation.deadline),
            )  # fmt: skip
            for user_id in _recipients(session, response):
                if enqueue(
                    session, key=f"consultation_reminder:{response.id}:{offset}:{user_id}",
                    recipient_id=user_id, kind="consultation_reminder",
                    subject=subject, body=text,
                    case_id=case.id, send_after=now, created_at=now,
                ):  # fmt: skip
                    sent += 1
            response.reminded_at = now
    return sent


@dataclass(frozen=True)
class ResponseLine:
    """One consulted party or body in the summary."""

    name: str
    status: str
    text: str
    answered_at: datetime | None
    late: bool
    attachment_id: int | None = None


def summary(session: Session, consultation: Consultation) -> list[ResponseLine]:
    """Summarise the responses for the case: who answered what, and who did not."""
    return [
        ResponseLine(
            name=_name(session, r),
            status=STATUS_LABELS[r.status],
            text=r.text,
            answered_at=r.answered_at,
            late=r.answered_at is not None and local_date(r.answered_at) > consultation.deadline,
            attachment_id=r.attachment_id,
        )
        for r in consultation.responses
    ]
