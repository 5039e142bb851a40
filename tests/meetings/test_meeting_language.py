"""A meeting reads as Danish (or English): amounts, body genitives and its history in words."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

from docx import Document
from pypdf import PdfReader
from sqlalchemy import select

from models import CaseEvent, CaseExpense, Party, PartyKind
from workflow.meetings import agenda, documents
from workflow.meetings import operations as meetings

MEETING = datetime(2020, 11, 13, 8, 0, tzinfo=UTC)


def _with_expenses(session, case):
    first, second = session.scalars(
        select(Party).where(Party.kind == PartyKind.MUNICIPALITY).order_by(Party.id).limit(2)
    ).all()
    session.add(CaseExpense(case_id=case.id, party_id=first.id, amount_dkk=Decimal("2400000")))
    session.add(CaseExpense(case_id=case.id, party_id=second.id, amount_dkk=Decimal("1234.50")))
    session.commit()
    session.refresh(case)
    return first, second


def test_the_agenda_in_word_and_pdf_writes_amounts_as_danes_do(session, make_user, body, make_case):
    sec, chair = make_user("secretariat@TSS"), make_user("chair@TSS")
    meeting = meetings.plan_meeting(session, body("TSS"), MEETING, sec)
    case = make_case(state="at_tss", title="Fælles akutindsats")
    first, second = _with_expenses(session, case)
    agenda.add_case(session, meeting, case, sec)
    meetings.change_status(session, meeting, "send_for_review", sec)
    version = agenda.publish(session, meeting, chair)
    word = " ".join(
        p.text for p in Document(io.BytesIO(documents.to_docx(version.snapshot))).paragraphs
    )
    pdf_pages = PdfReader(io.BytesIO(documents.to_pdf(version.snapshot))).pages
    pdf = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pdf_pages))
    for text in (word, pdf):
        assert f"{first.name}: 2.400.000 kr.; {second.name}: 1.234,50 kr." in text
        assert "2,400,000" not in text and "kr.." not in text


def test_putting_a_case_on_the_agenda_names_the_body_in_the_danish_genitive(
    session, make_user, body, make_case
):
    for code, whose in (("TSS", "TSS'"), ("SKU", "SKU's")):
        sec = make_user(f"secretariat@{code}")
        meeting = meetings.plan_meeting(session, body(code), MEETING, sec)
        case = make_case(state="at_tss" if code == "TSS" else "at_sku", title=f"Sag for {code}")
        agenda.add_case(session, meeting, case, sec)
        event = session.scalar(
            select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.trigger == "added_to_agenda"
            )
        )
        assert event is not None
        assert event.comment.startswith(f"Sat på dagsordenen for {whose} møde ")


def test_the_meeting_history_names_each_entry_in_danish_and_english(
    session, client, logged_in, body, make_case, text_of
):
    sec = logged_in("secretariat@TSS")
    meeting = meetings.plan_meeting(session, body("TSS"), MEETING, sec)
    agenda.add_case(session, meeting, make_case(state="at_tss", title="Forslag"), sec)
    meetings.change_status(session, meeting, "send_for_review", sec)
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Punkt tilføjet dagsordenen" in page
    assert "Mødet er planlagt" in page
    assert "Dagsordenen er sendt til formandskabet" in page
    for key in ("item_added", "send_for_review", "planned:"):
        assert key not in page
    sec.locale = "en"
    session.commit()
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Item added to the agenda" in page and "The agenda was sent to the chairs" in page
    assert "Agenda under review by the chairs" in page  # the status, in English
    assert "item_added" not in page and "Punkt tilføjet" not in page


def test_a_history_entry_without_a_label_is_still_named_in_words(app):
    with app.test_request_context():
        from workflow.meetings.labels import history_label

        assert history_label("reopen") == "Mødet er genåbnet"
        assert history_label("some_future_action") == "Mødet er ændret"
