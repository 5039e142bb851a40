"""Agenda and minutes documents read back with python-docx, pypdf and pikepdf."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from docx import Document
from sqlalchemy.orm import Session
from support.documents import is_a4, pdf_facts, pdf_text, word_facts

from models import Body, Case, User
from workflow.engine import clock
from workflow.meetings import agenda, attendance, documents, minutes
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import Outcome

MEETING = datetime(2020, 11, 13, 8, 0, tzinfo=UTC)


def _docx_text(data: bytes) -> str:
    return " ".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _pdf_text(data: bytes) -> str:
    return pdf_text(data)


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


def _held_with_minutes(
    session: Session, held_meeting: tuple[object, User, User], make_user: Callable[..., User]
) -> tuple[dict[str, object], dict[str, object]]:
    """Publish the agenda with the attendance known, hold the meeting, approve the minutes;
    return the agenda's and the minutes' snapshots."""
    meeting, sec, chair = held_meeting
    member = make_user("member@TSS", name="Medlem Bodil")
    absent = make_user("member@TSS", name="Medlem Carl")
    attendance.record_attendance(
        session, meeting, sec, present=[chair, member], absent=[absent], minute_taker=sec,  # type: ignore[arg-type]
    )  # fmt: skip
    meetings.change_status(session, meeting, "send_for_review", sec)  # type: ignore[arg-type]
    published = agenda.publish(session, meeting, chair)  # type: ignore[arg-type]
    clock.set_time(MEETING + timedelta(hours=3))
    meetings.change_status(session, meeting, "hold", sec)  # type: ignore[arg-type]
    items = meetings.active_items(meeting)  # type: ignore[arg-type]
    minutes.record_outcome(session, items[1], sec, Outcome.RECOMMENDED, "TSS anbefaler indsatsen.")
    minutes.record_outcome(session, items[2], sec, Outcome.RETURNED, "Beskriv børnenes forløb.")
    minutes.record_outcome(session, items[3], sec, Outcome.REJECTED, "Afvist i lukket møde.")
    minutes.approve_minutes(session, meeting, chair)  # type: ignore[arg-type]
    version = agenda.latest_version(session, meeting, "minutes")  # type: ignore[arg-type]
    assert version is not None
    return (
        {**published.snapshot, "version": published.number},
        {**version.snapshot, "version": version.number},
    )


def test_the_agenda_and_minutes_pdfs_are_tagged_danish_a4_with_header_and_page_numbers(
    session: Session,
    held_meeting: tuple[object, User, User],
    make_user: Callable[..., User],
) -> None:
    agenda_snap, minutes_snap = _held_with_minutes(session, held_meeting, make_user)
    for snap, kind in ((agenda_snap, "Dagsorden"), (minutes_snap, "Referat")):
        data = documents.to_pdf(snap)
        facts = pdf_facts(data)
        assert facts.has_structure_tree and facts.tagged
        assert facts.language == "da-DK"
        # The PDF/UA identification (XMP pdfuaid:part 1) and the title shown, not the file name.
        assert facts.pdf_ua_part == "1" and facts.displays_title
        assert facts.title == f"{kind} for Tværsektoriel Strategisk Styregruppe (TSS)"
        assert facts.page_sizes and all(is_a4(size) for size in facts.page_sizes)
        assert all(size[0] < size[1] for size in facts.page_sizes)  # portrait
        # Headings, the list of items and paragraphs are tagged, not drawn as plain text.
        assert {"H1", "H2", "H3", "L", "LI", "P"} <= facts.structure_roles
        text = pdf_text(data)
        pages = len(facts.page_sizes)
        assert f"Side 1 af {pages}" in text
        # The running header names the body and the meeting on every page.
        header = f"Tværsektoriel Strategisk Styregruppe (TSS) · Møde den 13. november 2020 · {kind}"
        assert text.count(header) >= pages
        _meeting, sec, chair = held_meeting
        assert f"Fremmøde Deltagere: Medlem Bodil, {chair.name}" in text
        assert f"Afbud: Medlem Carl Referent: {sec.name}" in text
        # The list of items comes before the first item's own heading.
        listed = text.index("Punkter 1. Godkendelse af dagsorden 2. Sammenhængende forløb")
        assert listed < text.index("2. Sammenhængende forløb for ældre på Østerbro (")


def test_a_closed_item_is_marked_and_its_content_withheld_in_the_public_edition(
    session: Session,
    held_meeting: tuple[object, User, User],
    make_user: Callable[..., User],
) -> None:
    _agenda, minutes_snap = _held_with_minutes(session, held_meeting, make_user)
    full = pdf_text(documents.to_pdf(minutes_snap))
    public = pdf_text(documents.to_pdf(minutes_snap, public=True))
    word_full = word_facts(documents.to_docx(minutes_snap)).text
    word_public = word_facts(documents.to_docx(minutes_snap, public=True)).text
    for text in (full, public, word_full, word_public):
        assert "Fortrolig økonomiforhandling" in text and "Lukket punkt" in text
        assert "Drøftelse af udgiftsfordeling for hjælpemidler." in text
    for text in (full, word_full):
        assert "Afvist i lukket møde." in text and "gengives ikke her" not in text
    for text in (public, word_public):
        assert "Afvist i lukket møde." not in text
        assert "Lukket punkt: sagens indhold er fortroligt og gengives ikke her." in text
        assert "TSS anbefaler indsatsen." in text  # the open items stay whole


def test_the_word_documents_are_a4_danish_with_page_number_fields_and_attendance(
    session: Session,
    held_meeting: tuple[object, User, User],
    make_user: Callable[..., User],
) -> None:
    agenda_snap, minutes_snap = _held_with_minutes(session, held_meeting, make_user)
    for snap, kind in ((agenda_snap, "Dagsorden"), (minutes_snap, "Referat")):
        facts = word_facts(documents.to_docx(snap))
        assert facts.page_mm == [(210, 297)]
        assert facts.languages == {"da-DK"}
        assert facts.footer_fields == ["PAGE", "NUMPAGES"]
        assert facts.footer_text.startswith("Side ") and " af " in facts.footer_text
        assert facts.header_text == (
            f"Tværsektoriel Strategisk Styregruppe (TSS) · Møde den 13. november 2020 · {kind}"
        )
        _meeting, sec, chair = held_meeting
        assert f"Fremmøde Deltagere: Medlem Bodil, {chair.name}" in facts.text
        assert f"Afbud: Medlem Carl Referent: {sec.name}" in facts.text
        assert "Punkter Godkendelse af dagsorden Sammenhængende forløb" in facts.text
