"""Agenda and minutes documents read back with python-docx and pypdf."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy.orm import Session

from models import Body, Case, User
from workflow.engine import clock
from workflow.meetings import agenda, documents, minutes
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import Outcome

MEETING = datetime(2020, 11, 13, 8, 0, tzinfo=UTC)


def _docx_text(data: bytes) -> str:
    return " ".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    # Lines wrap where the page ends; read the text as one flow, as a reader does.
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def held_meeting(
    session: Session,
    make_user: Callable[..., User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> tuple[object, User, User]:
    sec, chair = make_user("secretariat@TSS"), make_user("chair@TSS")
    meeting = meetings.plan_meeting(
        session, body("TSS"), MEETING, sec, location="Regionsgården, Kongens Værftsvej"
    )
    first = make_case(state="at_tss", title="Sammenhængende forløb for ældre på Østerbro")
    second = make_case(state="at_tss", title="Fælles sprog om børns sundhed")
    closed = make_case(state="at_tss", title="Fortrolig økonomiforhandling")
    agenda.add_case(session, meeting, first, sec)
    agenda.add_case(session, meeting, second, sec)
    agenda.add_case(
        session, meeting, closed, sec, closed=True,
        public_summary="Drøftelse af udgiftsfordeling for hjælpemidler.",
    )  # fmt: skip
    return meeting, sec, chair


def test_the_published_agenda_reads_back_from_docx_and_pdf_with_danish_letters(
    session: Session, held_meeting: tuple[object, User, User]
) -> None:
    meeting, sec, chair = held_meeting
    meetings.change_status(session, meeting, "send_for_review", sec)  # type: ignore[arg-type]
    version = agenda.publish(session, meeting, chair)  # type: ignore[arg-type]
    snap = {**version.snapshot, "version": version.number}
    for text in (_docx_text(documents.to_docx(snap)), _pdf_text(documents.to_pdf(snap))):
        assert "Dagsorden for Tværsektoriel Strategisk Styregruppe" in text
        assert "13. november 2020 kl. 09:00" in text
        order = [
            text.index("1. Godkendelse af dagsorden"),
            text.index("2. Sammenhængende forløb for ældre på Østerbro"),
            text.index("3. Fælles sprog om børns sundhed"),
            text.index("4. Fortrolig økonomiforhandling"),
        ]
        assert order == sorted(order)
        assert "Indstilling" in text and "Økonomi" in text and "Værftsvej" in text
    public = _pdf_text(documents.to_pdf(snap, public=True))
    assert "Drøftelse af udgiftsfordeling for hjælpemidler." in public
    assert public.count("Indstilling") == 3  # not for the closed item


def test_a_change_after_publishing_makes_a_new_version(
    session: Session, held_meeting: tuple[object, User, User]
) -> None:
    meeting, sec, chair = held_meeting
    meetings.change_status(session, meeting, "send_for_review", sec)  # type: ignore[arg-type]
    first = agenda.publish(session, meeting, chair)  # type: ignore[arg-type]
    agenda.add_item(session, meeting, sec, title="Eventuelt")  # type: ignore[arg-type]
    latest = agenda.latest_version(session, meeting, "agenda")  # type: ignore[arg-type]
    assert latest is not None and latest.number == 2
    assert [i["title"] for i in first.snapshot["items"]][-1] == "Fortrolig økonomiforhandling"
    assert [i["title"] for i in latest.snapshot["items"]][-1] == "Eventuelt"


def test_minutes_write_each_decision_as_beslutning_i_body_den_date(
    session: Session, held_meeting: tuple[object, User, User]
) -> None:
    meeting, sec, chair = held_meeting
    meetings.change_status(session, meeting, "send_for_review", sec)  # type: ignore[arg-type]
    agenda.publish(session, meeting, chair)  # type: ignore[arg-type]
    clock.set_time(MEETING + timedelta(hours=3))
    meetings.change_status(session, meeting, "hold", sec)  # type: ignore[arg-type]
    items = meetings.active_items(meeting)  # type: ignore[arg-type]
    minutes.record_outcome(session, items[1], sec, Outcome.RECOMMENDED, "TSS anbefaler indsatsen.")
    minutes.record_outcome(session, items[2], sec, Outcome.RETURNED, "Beskriv børnenes forløb.")
    minutes.record_outcome(session, items[3], sec, Outcome.REJECTED, "Afvist i lukket møde.")
    minutes.approve_minutes(session, meeting, chair)  # type: ignore[arg-type]
    version = agenda.latest_version(session, meeting, "minutes")  # type: ignore[arg-type]
    assert version is not None
    text = _docx_text(documents.to_docx(version.snapshot))
    assert text.startswith("Referat for Tværsektoriel Strategisk Styregruppe")
    assert text.count("Beslutning i TSS den 13. november 2020") == 3
    assert text.index("TSS anbefaler indsatsen.") < text.index("Beskriv børnenes forløb.")
    pdf = _pdf_text(documents.to_pdf(version.snapshot, public=True))
    assert "Beslutning i TSS den 13. november 2020" in pdf
    assert "Afvist i lukket møde." not in pdf
