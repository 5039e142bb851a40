"""Attendance, the minutes' next steps and participants' »Godkend referat« (issue 11)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from docx import Document
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Case, Meeting, MeetingHistoryEntry, MeetingStatus, Membership, Role, User
from workflow import policy
from workflow.engine import clock
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.meetings import agenda, attendance, minutes, queries
from workflow.meetings import operations as meetings
from workflow.meetings.roll import roll

STARTS = datetime(2020, 11, 13, 8, 0, tzinfo=UTC)


@pytest.fixture
def people(make_login_user: Callable[..., User]) -> dict[str, User]:
    return {
        "sec": make_login_user("secretariat@TSS", name="Sekretær Sofie"),
        "chair": make_login_user("chair@TSS", name="Formand Frede"),
        "anna": make_login_user("member@TSS", name="Medlem Anna"),
        "bo": make_login_user("member@TSS", name="Medlem Bo"),
        "other": make_login_user("member@SKU", name="Anden Person"),
    }


def _held(session: Session, body: Body, people: dict[str, User], case: Case) -> Meeting:
    meeting = meetings.plan_meeting(session, body, STARTS, people["sec"], title="TSS-møde")
    agenda.add_case(session, meeting, case, people["sec"])
    meetings.step(session, meeting, "send_for_review", people["sec"])
    agenda.publish(session, meeting, people["chair"])
    clock.set_time(STARTS + timedelta(hours=2))
    meetings.step(session, meeting, "hold", people["sec"])
    return meeting


def test_attendance_is_recorded_shown_and_printed_in_the_documents(
    client: FlaskClient,
    session: Session,
    people: dict[str, User],
    log_in: Callable[..., Any],
    body: Callable[[str], Body],
    text_of: Callable[[Any], str],
) -> None:
    meeting = meetings.plan_meeting(session, body("TSS"), STARTS, people["sec"], title="TSS")
    log_in(people["sec"])
    response = client.post(
        f"/moeder/{meeting.id}/fremmoede",
        data={"present": [people["chair"].id, people["anna"].id], "absent": [people["bo"].id],
              "minute_taker": str(people["sec"].id)},
    )  # fmt: skip
    assert response.status_code == 302
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Deltagere Formand Frede, Medlem Anna" in page
    assert "Afbud Medlem Bo" in page
    assert "Referent Sekretær Sofie" in page
    entry = session.scalars(
        select(MeetingHistoryEntry).where(
            MeetingHistoryEntry.meeting_id == meeting.id,
            MeetingHistoryEntry.action == "attendance_recorded",
        )
    ).one()
    assert entry.actor_id == people["sec"].id

    docx = client.get(f"/moeder/{meeting.id}/dagsorden.docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.data)).paragraphs)
    assert "Deltagere: Formand Frede, Medlem Anna" in text
    assert "Afbud: Medlem Bo" in text
    assert "Referent: Sekretær Sofie" in text
    pdf = client.get(f"/moeder/{meeting.id}/referat.pdf")
    pdf_text = re.sub(r"\s+", " ", " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages
    ))  # fmt: skip
    assert "Deltagere: Formand Frede, Medlem Anna" in pdf_text
    assert "Afbud: Medlem Bo" in pdf_text
    assert "Referent: Sekretær Sofie" in pdf_text


def test_one_person_cannot_both_attend_and_send_apologies(
    session: Session, people: dict[str, User], body: Callable[[str], Body]
) -> None:
    meeting = meetings.plan_meeting(session, body("TSS"), STARTS, people["sec"])
    with pytest.raises(WorkflowError, match="både som deltager og med afbud"):
        attendance.record_attendance(
            session, meeting, people["sec"], present=[people["anna"]], absent=[people["anna"]],
            minute_taker=None,
        )  # fmt: skip
    with pytest.raises(NotAllowed):
        attendance.record_attendance(
            session, meeting, people["anna"], present=[people["anna"]], absent=[],
            minute_taker=None,
        )  # fmt: skip


def test_attendance_changed_after_publishing_is_sent_out_as_a_new_agenda_version(
    session: Session, people: dict[str, User], body: Callable[[str], Body]
) -> None:
    meeting = meetings.plan_meeting(session, body("TSS"), STARTS, people["sec"])
    meetings.step(session, meeting, "send_for_review", people["sec"])
    agenda.publish(session, meeting, people["chair"])
    attendance.record_attendance(
        session, meeting, people["sec"], present=[], absent=[people["bo"]], minute_taker=None
    )
    version = agenda.latest_version(session, meeting, "agenda")
    assert version is not None and version.number == 2
    assert version.snapshot["absent"] == ["Medlem Bo"]


def test_after_the_meeting_the_page_says_who_does_the_minutes_next(
    client: FlaskClient,
    session: Session,
    people: dict[str, User],
    log_in: Callable[..., Any],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:
    case = make_case(state="at_tss", title="Forløb for ældre")
    meeting = _held(session, body("TSS"), people, case)
    log_in(people["anna"])
    html = client.get(f"/moeder/{meeting.id}").get_data(as_text=True)
    current = re.search(r'<li aria-current="step"[^>]*>(.*?)</li>', html, re.S)
    assert current is not None
    assert "Sekretariatet skriver referatet" in current.group(1)
    assert "Sekretær Sofie" in current.group(1)
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Formandskabet godkender referatet" in page and "Formand Frede" in page

    item = next(i for i in meetings.active_items(meeting) if i.case_id == case.id)
    minutes.record_outcome(session, item, people["sec"], "recommended", "Anbefales.")
    html = client.get(f"/moeder/{meeting.id}").get_data(as_text=True)
    current = re.search(r'<li aria-current="step"[^>]*>(.*?)</li>', html, re.S)
    assert current is not None and "Formandskabet godkender referatet" in current.group(1)
    assert "Formand Frede" in current.group(1)


def test_participants_approve_the_minutes_and_the_page_shows_who_did(
    client: FlaskClient,
    session: Session,
    people: dict[str, User],
    log_in: Callable[..., Any],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:
    meeting = _held(session, body("TSS"), people, make_case(state="at_tss"))
    attendance.record_attendance(
        session, meeting, people["sec"], present=[people["anna"], people["chair"]],
        absent=[people["bo"]], minute_taker=people["sec"],
    )  # fmt: skip
    log_in(people["anna"])
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Godkend referat" in page
    assert "Ingen deltagere har godkendt referatet endnu." in page
    assert client.get(f"/moeder/{meeting.id}/referat.docx").status_code == 200  # the draft
    assert client.post(f"/moeder/{meeting.id}/godkend-referat").status_code == 302
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Medlem Anna – 13. nov" in page or "Medlem Anna – 13." in page
    assert "Din godkendelse af referatet er registreret." in page
    assert [u.name for _a, u in attendance.approvals(session, meeting)] == ["Medlem Anna"]
    assert session.scalars(
        select(MeetingHistoryEntry.actor_id).where(
            MeetingHistoryEntry.meeting_id == meeting.id,
            MeetingHistoryEntry.action == "participant_approved_minutes",
        )
    ).all() == [people["anna"].id]
    # Approving twice, or as one who sent apologies, or from another body, is refused.
    with pytest.raises(WorkflowError, match="allerede"):
        attendance.approve_as_participant(session, meeting, people["anna"])
    with pytest.raises(WorkflowError, match="ikke som deltager"):
        attendance.approve_as_participant(session, meeting, people["bo"])
    with pytest.raises(NotAllowed):
        attendance.approve_as_participant(session, meeting, people["other"])
    # The participants' approvals do not publish; the chair's approval still does.
    assert meeting.status is MeetingStatus.HELD


def test_minutes_cannot_be_approved_by_participants_before_the_meeting(
    session: Session, people: dict[str, User], body: Callable[[str], Body]
) -> None:
    meeting = meetings.plan_meeting(session, body("TSS"), STARTS, people["sec"])
    assert not attendance.may_approve(session, meeting, people["anna"])
    with pytest.raises(WorkflowError, match="når mødet er afholdt"):
        attendance.approve_as_participant(session, meeting, people["anna"])
    assert not roll(session, meeting).recorded


def test_the_page_reads_roll_approvals_and_history_as_each_is_read_alone(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    # The meeting page reads them in one statement (`queries.meeting_records`): the same
    # people, approvals and entries, in the same order, with their values as read alone.
    meeting = _held(session, body("TSS"), people, make_case(state="at_tss"))
    attendance.record_attendance(
        session, meeting, people["sec"], present=[people["bo"], people["anna"], people["chair"]],
        absent=[people["other"]], minute_taker=people["sec"],
    )  # fmt: skip
    for who in ("bo", "anna"):
        attendance.approve_as_participant(session, meeting, people[who])
    session.expire_all()
    records = queries.meeting_records(session, meeting)
    alone = roll(session, meeting)
    assert records.roll == alone
    assert [u.name for u in records.roll.present] == ["Formand Frede", "Medlem Anna", "Medlem Bo"]
    assert records.roll.minute_taker is people["sec"]
    assert records.approvals == attendance.approvals(session, meeting)
    assert [u.name for _a, u in records.approvals] == ["Medlem Bo", "Medlem Anna"]
    assert all(a.approved_at.tzinfo is not None for a, _u in records.approvals)
    history = meetings.history(session, meeting)
    assert len(history) >= 5
    assert [(h.created_at, h.action, h.to_status, h.comment) for h in records.history] == [
        (h.created_at, h.action, h.to_status, h.comment) for h in history
    ]
    # A meeting without a minute taker, roll, approvals or history reads none of them.
    empty = meetings.plan_meeting(session, body("TSS"), STARTS, people["sec"], title="Tomt")
    session.query(MeetingHistoryEntry).filter_by(meeting_id=empty.id).delete()
    nothing = queries.meeting_records(session, empty)
    assert nothing.roll.minute_taker is None and not nothing.roll.recorded
    assert nothing.approvals == [] and nothing.history == []


def test_the_page_reads_the_meeting_its_items_and_the_bodys_members_as_each_is_read_alone(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    # `queries.meeting_page` reads them with the records: the same items in order, and the
    # body's members once each by name (the chair holds two memberships of it), deactivated
    # ones too, with their memberships for the policy's questions.
    tss = body("TSS")
    meeting = meetings.plan_meeting(session, tss, STARTS, people["sec"], title="TSS-møde")
    for _ in range(2):
        agenda.add_case(session, meeting, make_case(state="at_tss"), people["sec"])
    session.add(Membership(user_id=people["chair"].id, body_id=tss.id, role=Role.MEMBER))
    people["bo"].active = False
    session.flush()
    session.expire_all()
    page = queries.meeting_page(session, meeting.id)
    assert page is not None and page.meeting is meeting
    assert page.items == meetings.active_items(meeting)
    assert len([i for i in page.items if i.case_id is not None]) == 2
    assert page.members == policy.members_with_standings(session, tss.id)
    assert [u.name for u in page.members] == [
        "Formand Frede", "Medlem Anna", "Medlem Bo", "Sekretær Sofie"
    ]  # fmt: skip
    assert queries.meeting_page(session, meeting.id + 1000) is None
