"""Consultations: a party answers late, the other is reminded, the case waits for the deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import Attachment, Body, Case, CaseEvent, Notification, Party, ResponseStatus, User
from workflow import scheduler
from workflow.cases.attachments import Upload
from workflow.consultations import operations as consultations
from workflow.engine import clock
from workflow.engine.errors import GuardFailed, NotAllowed, WorkflowError


def _party(session: Session, code_part: str) -> Party:
    party = session.scalar(select(Party).where(Party.name.contains(code_part)).limit(1))
    assert party is not None, code_part
    return party


def test_a_consultation_with_one_party_late_reminds_it_and_holds_the_case(
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    body: Callable[[str], Body],
) -> None:
    sec = make_user("secretariat@TSS")
    case = make_case("joint_agreement", origin="TSS", state="drafting")
    decide(case, "start_consultation", sec, data={"consultation_deadline": "2020-09-30"})
    gentofte, plo = _party(session, "Gentofte"), _party(session, "PLO")
    answerer = make_user()
    answerer.party_id = gentofte.id
    late = make_user()
    late.party_id = plo.id
    session.flush()
    consultation = consultations.start(
        session, case, sec, title="Høring om fælles aftale", parties=[gentofte, plo],
        bodies=[], draft="Udkast til aftale om forløb for ældre.",
    )  # fmt: skip
    with pytest.raises(NotAllowed):
        consultations.answer(session, consultation.responses[1], answerer, "Ikke min part.")
    consultations.answer(session, consultation.responses[0], answerer, "Gentofte støtter udkastet.")

    # Nobody is reminded two weeks before the deadline; three days before, PLO is.
    assert consultations.send_reminders(session) == 0
    clock.set_time(datetime(2020, 9, 27, 8, 0, tzinfo=UTC))
    assert consultations.send_reminders(session) == 1
    reminder = session.scalar(
        select(Notification).where(Notification.kind == "consultation_reminder")
    )
    assert reminder is not None and reminder.recipient_id == late.id
    assert consultations.send_reminders(session) == 0  # once only

    # Before the deadline the case stays in consultation, unless everyone has answered.
    assert not consultations.all_answered(session, case)
    with pytest.raises(GuardFailed, match="Høringsfristen"):
        decide(
            case, "end_consultation", sec,
            data={"all_answered": consultations.all_answered(session, case)},
        )  # fmt: skip
    clock.set_time(datetime(2020, 10, 1, 8, 0, tzinfo=UTC))
    decide(case, "end_consultation", sec)
    assert case.state == "at_tss"
    lines = consultations.summary(session, consultation)
    assert [(line.status, line.text) for line in lines] == [
        ("Har svaret", "Gentofte støtter udkastet."), ("Afventer svar", "")
    ]  # fmt: skip


def test_when_all_have_answered_or_declined_the_case_may_leave_early(
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    body: Callable[[str], Body],
) -> None:
    sec = make_user("secretariat@TSS")
    member = make_user("member@FORUM-DATA")
    case = make_case("joint_agreement", origin="TSS", state="drafting")
    decide(case, "start_consultation", sec, data={"consultation_deadline": "2020-09-30"})
    consultation = consultations.start(
        session, case, sec, title="Høring", parties=[_party(session, "PLO")],
        bodies=[body("FORUM-DATA")], deadline=date(2020, 9, 30),
    )  # fmt: skip
    party_response = next(r for r in consultation.responses if r.party_id is not None)
    body_response = next(r for r in consultation.responses if r.body_id is not None)
    consultations.answer(session, body_response, member, "Forummet har ingen bemærkninger.")
    consultations.mark_not_answering(session, party_response, sec)
    assert party_response.status is ResponseStatus.NO_ANSWER
    assert consultations.all_answered(session, case)
    decide(case, "end_consultation", sec, data={"all_answered": True})
    assert case.state == "at_tss"
    with pytest.raises(WorkflowError, match="afsluttet"):
        consultations.answer(session, body_response, member, "For sent.")


def _reminders(session: Session) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.kind == "consultation_reminder")
        ).all()
    )


def test_the_sweep_reminds_each_party_that_has_not_answered_once(
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
) -> None:
    sec = make_user("secretariat@TSS")
    case = make_case("joint_agreement", origin="TSS", state="drafting")
    decide(case, "start_consultation", sec, data={"consultation_deadline": "2020-09-30"})
    gentofte, plo = _party(session, "Gentofte Kommune"), _party(session, "PLO")
    users = {}
    for party in (gentofte, plo):
        users[party.code] = make_user()
        users[party.code].party_id = party.id
    session.flush()
    consultation = consultations.start(
        session, case, sec, title="Høring", parties=[gentofte, plo], bodies=[],
        deadline=date(2020, 9, 30), reminder_days=3,
    )  # fmt: skip
    consultations.answer(session, consultation.responses[0], users[gentofte.code], "Enig.")

    scheduler.sweep(session)
    assert _reminders(session) == []  # four weeks before the deadline
    for day in (27, 28, 29, 30):
        clock.set_time(datetime(2020, 9, day, 6, 0, tzinfo=UTC))
        scheduler.sweep(session)
        scheduler.sweep(session)
    sent = _reminders(session)
    assert [n.recipient_id for n in sent] == [users[plo.code].id]  # PLO once, Gentofte never
    assert "Fristen er 30. september 2020" in sent[0].body


def test_the_guard_reads_the_recorded_answers_not_the_secretariats_word(
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
) -> None:
    sec = make_user("secretariat@TSS")
    case = make_case("joint_agreement", origin="TSS", state="drafting")
    decide(case, "start_consultation", sec, data={"consultation_deadline": "2020-09-30"})
    plo = _party(session, "PLO")
    answerer = make_user()
    answerer.party_id = plo.id
    session.flush()
    consultation = consultations.start(
        session, case, sec, title="Høring", parties=[plo], bodies=[], deadline=date(2020, 9, 30)
    )
    # A round recorded in the app: saying "all answered" does not override the records.
    with pytest.raises(GuardFailed, match="Almen praksis"):
        decide(case, "end_consultation", sec, data={"all_answered": True})
    assert case.state == "consultation"
    consultations.answer(session, consultation.responses[0], answerer, "Ingen bemærkninger.")
    decide(case, "end_consultation", sec)
    assert case.state == "at_tss"


PDF = b"%PDF-1.4\n% svar\n"


def _attachments(session: Session, case: Case) -> list[str]:
    return list(session.scalars(select(Attachment.filename).where(Attachment.case_id == case.id)))


def test_an_answer_with_a_file_stores_both_in_one_unit_and_a_refused_one_neither(
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    tmp_path: Path,
) -> None:
    sec = make_user("secretariat@TSS")
    case = make_case("joint_agreement", origin="TSS", state="drafting")
    decide(case, "start_consultation", sec, data={"consultation_deadline": "2020-09-30"})
    gentofte, plo = _party(session, "Gentofte"), _party(session, "PLO")
    answerer, late = make_user(), make_user()
    answerer.party_id, late.party_id = gentofte.id, plo.id
    session.flush()
    consultation = consultations.start(
        session, case, sec, title="Høring", parties=[gentofte, plo], bodies=[]
    )
    on_time, too_late = consultation.responses
    consultations.answer(
        session, on_time, answerer, "", file=Upload("Svar Gentofte.pdf", PDF), folder=tmp_path
    )
    assert on_time.attachment_id is not None
    assert _attachments(session, case) == ["Svar Gentofte.pdf"]

    # The case leaves its consultation; PLO's answer arrives with a file after all.
    clock.set_time(datetime(2020, 10, 1, 8, 0, tzinfo=UTC))
    decide(case, "end_consultation", sec)
    with pytest.raises(WorkflowError, match="Høringen er afsluttet"):
        consultations.answer(
            session, too_late, late, "For sent.", file=Upload("Svar PLO.pdf", PDF),
            folder=tmp_path,
        )  # fmt: skip
    # The file was stored before the answer was refused; the refusal rolled back both.
    assert _attachments(session, case) == ["Svar Gentofte.pdf"]
    assert too_late.status is ResponseStatus.PENDING
    triggers = session.scalars(select(CaseEvent.trigger).where(CaseEvent.case_id == case.id))
    assert list(triggers).count("attachment_added") == 1


def test_a_refused_round_leaves_no_draft_attachment(
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    tmp_path: Path,
) -> None:
    sec = make_user("secretariat@TSS")
    case = make_case("joint_agreement", origin="TSS", state="drafting")
    decide(case, "start_consultation", sec, data={"consultation_deadline": "2020-09-30"})
    with pytest.raises(WorkflowError, match="mindst én part"):
        consultations.start(
            session, case, sec, title="Høring", parties=[], bodies=[],
            file=Upload("Udkast.pdf", PDF), folder=tmp_path,
        )  # fmt: skip
    assert _attachments(session, case) == []
