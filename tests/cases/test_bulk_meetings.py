"""The secretariat records decisions on several cases at once, tied to the meeting where
they were made; each case still goes through decide() with that meeting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import CaseEvent, Meeting, MeetingStatus


@pytest.fixture
def meeting(session, body):
    def add(code: str, title: str, starts_at: datetime, **extra) -> Meeting:
        made = Meeting(body_id=body(code).id, title=title, starts_at=starts_at, **extra)
        session.add(made)
        session.flush()
        return made

    return add


def _last_event(session, case) -> CaseEvent:
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()
    assert event is not None
    return event


def test_bulk_form_offers_the_meetings_of_the_secretariats_bodies(
    client, logged_in, make_case, meeting
):
    make_case(state="at_tss")
    tss = meeting("TSS", "TSS-møde august", datetime(2020, 8, 27, 8, 0, tzinfo=UTC))
    meeting("TSS", "Aflyst møde", datetime(2020, 9, 3, 8, 0, tzinfo=UTC),
            status=MeetingStatus.CANCELLED)  # fmt: skip
    meeting("SKU", "SKU-møde", datetime(2020, 8, 10, 8, 0, tzinfo=UTC))
    meeting("TSS", "Kommende TSS-møde", datetime(2020, 9, 24, 8, 0, tzinfo=UTC))
    logged_in("secretariat@TSS")
    html = client.get("/sager").get_data(as_text=True)
    assert 'name="meeting_id"' in html
    assert (
        f'<option value="{tss.id}">TSS: TSS-møde august – 27. august 2020 kl. 10:00</option>'
        in html
    )
    assert "Aflyst møde" not in html and "SKU-møde" not in html
    assert "Kommende TSS-møde" not in html  # a decision cannot be taken at a coming meeting


def test_secretariat_records_decisions_at_a_meeting_for_several_cases(
    client, logged_in, make_case, meeting, session, text_of
):
    cases = [make_case(title=f"Sag {n}", state="at_tss") for n in range(3)]
    tss = meeting("TSS", "TSS-møde", datetime(2020, 8, 27, 8, 0, tzinfo=UTC))
    logged_in("secretariat@TSS")
    response = client.post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_return",
            "sag": [f"{c.id}:{c.version}" for c in cases],
            "meeting_id": str(tss.id),
            "kommentar": "Returneret på mødet.",
        },
    )
    assert response.status_code == 200
    assert "3 af 3 sager udført" in text_of(response)
    for case in cases:
        session.refresh(case)
        assert case.state == "draft"
        assert _last_event(session, case).meeting_id == tss.id


def test_without_a_meeting_the_secretariats_decisions_are_refused_with_the_reason(
    client, logged_in, make_case, session, text_of
):
    case = make_case(title="Uden møde", state="at_tss")
    logged_in("secretariat@TSS")
    response = client.post(
        "/sager/samlet-handling",
        data={"handling": "signature_initiative:tss_return", "sag": [f"{case.id}:{case.version}"]},
    )
    page = text_of(response)
    assert "0 af 1 sager udført" in page
    assert "møde" in page.split("Begrundelse", 1)[1].lower()
    session.refresh(case)
    assert case.state == "at_tss"


def test_a_meeting_of_another_body_is_refused_per_case(
    client, logged_in, make_case, meeting, session, text_of
):
    case = make_case(state="at_tss")
    sku = meeting("SKU", "SKU-møde", datetime(2020, 8, 27, 8, 0, tzinfo=UTC))
    logged_in("secretariat@TSS", "secretariat@SKU")
    response = client.post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_return",
            "sag": [f"{case.id}:{case.version}"],
            "meeting_id": str(sku.id),
        },
    )
    assert "0 af 1 sager udført" in text_of(response)
    session.refresh(case)
    assert case.state == "at_tss"
