"""What a meeting page reads: the chairs' decisions since the body's previous meeting (only
those taken for this body outside a meeting, in that window), and its agenda items' cases,
deadlines and attachments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import Body, Case, Meeting, MeetingStatus, User
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.meetings import agenda

# The test clock: 1 September 2020, 10:00 Danish time.
PREVIOUS = datetime(2020, 8, 20, 7, 0, tzinfo=UTC)
NEXT = datetime(2020, 9, 24, 7, 0, tzinfo=UTC)


def _meeting(session: Session, body: Body, starts_at: datetime, status: MeetingStatus) -> Meeting:
    meeting = Meeting(body_id=body.id, title="", starts_at=starts_at, status=status)
    session.add(meeting)
    session.flush()
    return meeting


def test_the_page_lists_the_chairs_decisions_for_the_body_since_its_previous_meeting(
    session: Session,
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    logged_in: Callable[..., User],
    client: Any,
    text_of: Callable[[Any], str],
) -> None:
    tss = body("TSS")
    chair = make_user("chair@TSS")
    previous = _meeting(session, tss, PREVIOUS, MeetingStatus.HELD)
    coming = _meeting(session, tss, NEXT, MeetingStatus.PUBLISHED)
    before = make_case(state="at_tss", title="Besluttet før forrige møde")
    clock.set_time(datetime(2020, 8, 10, 8, 0, tzinfo=UTC))
    decide(before, "tss_recommend", chair, comment="Tidligt.")
    clock.set_time(datetime(2020, 9, 1, 8, 0, tzinfo=UTC))
    between = make_case(state="at_tss", title="Besluttet af formandskabet")
    decide(between, "tss_recommend", chair, comment="Haster.")
    at_meeting = make_case(state="at_tss", title="Besluttet på mødet")
    decide(
        at_meeting, "tss_recommend", make_user("secretariat@TSS"),
        data={"meeting_id": previous.id},
    )  # fmt: skip
    elsewhere = make_case(state="at_tss", title="Besluttet for SKU")
    engine.append_event(
        session, elsewhere, trigger="tss_recommend", actor=chair, from_state="at_tss",
        comment="", data={"decision_body": "SKU", "on_behalf_of_body": True},
        now=clock.now(),
    )  # fmt: skip
    session.flush()

    found = agenda.chair_decisions_since(session, coming)
    assert [decision.title for decision in found] == ["Besluttet af formandskabet"]
    logged_in("secretariat@TSS")
    page = text_of(client.get(f"/moeder/{coming.id}"))
    heading = "Beslutninger truffet af formandskabet siden sidste møde (til orientering)"
    section = page[page.index(heading) : page.index("Tilføj punkt uden sag")]
    assert "Besluttet af formandskabet – Haster." in section
    for title in ("Besluttet før forrige møde", "Besluttet på mødet", "Besluttet for SKU"):
        assert title not in section


def test_without_decisions_since_the_previous_meeting_the_section_is_left_out(
    session: Session,
    body: Callable[[str], Body],
    logged_in: Callable[..., User],
    client: Any,
    text_of: Callable[[Any], str],
) -> None:
    coming = _meeting(session, body("TSS"), NEXT, MeetingStatus.PUBLISHED)
    logged_in("secretariat@TSS")
    page = text_of(client.get(f"/moeder/{coming.id}"))
    assert "Beslutninger truffet af formandskabet" not in page


def test_a_chair_decision_on_a_case_the_reader_may_not_open_is_named_without_a_link(
    session: Session,
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    logged_in: Callable[..., User],
    client: Any,
) -> None:
    tss = body("TSS")
    coming = _meeting(session, tss, NEXT, MeetingStatus.PUBLISHED)
    chair = make_user("chair@TSS")
    shared = make_case(state="at_tss", title="En sag alle kan se")
    decide(shared, "tss_recommend", chair, comment="Haster.")
    # A draft is read by its own body only (SU-NORD-SOM), so TSS's secretariat may not open it.
    draft = make_case(title="Kladde i samordningsudvalget")
    engine.append_event(
        session, draft, trigger="tss_recommend", actor=chair, from_state="draft",
        comment="", data={"decision_body": "TSS", "on_behalf_of_body": True},
        now=clock.now(),
    )  # fmt: skip
    session.flush()

    secretariat = logged_in("secretariat@TSS")
    found = {d.title: d.visible for d in agenda.chair_decisions_since(session, coming, secretariat)}
    assert found == {"En sag alle kan se": True, "Kladde i samordningsudvalget": False}
    # Without a reader (the printed agenda), every decision is named.
    assert all(d.visible for d in agenda.chair_decisions_since(session, coming))
    page = client.get(f"/moeder/{coming.id}").get_data(as_text=True)
    assert f'<a href="/sager/{shared.id}">En sag alle kan se</a>' in page
    assert "Kladde i samordningsudvalget" in page
    assert f'href="/sager/{draft.id}"' not in page


def test_the_page_shows_the_newest_agenda_and_minutes_versions(
    session: Session,
    body: Callable[[str], Body],
    logged_in: Callable[..., User],
    client: Any,
    text_of: Callable[[Any], str],
) -> None:
    coming = _meeting(session, body("TSS"), NEXT, MeetingStatus.PUBLISHED)
    for _ in (1, 2):
        agenda.freeze(session, coming, None, "agenda")
    newest = select(*(agenda.newest_number(coming.id, kind) for kind in agenda.DOCUMENT_KINDS))
    assert tuple(session.execute(newest).one()) == (2, None)
    logged_in("secretariat@TSS")
    page = text_of(client.get(f"/moeder/{coming.id}"))
    assert "Dagsorden (version 2)" in page
    assert "Referat (udkast)" in page
