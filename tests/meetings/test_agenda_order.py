"""Every agenda item can be moved and removed, the first one too (issue 11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Body, Case, User
from workflow.meetings import agenda
from workflow.meetings import operations as meetings

STARTS = datetime(2020, 11, 13, 8, 0, tzinfo=UTC)


def _titles(meeting: Any) -> list[str]:
    return [i.title for i in meetings.active_items(meeting)]


def test_the_first_item_moves_down_and_is_removed(
    session: Session,
    make_user: Callable[..., User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    sec = make_user("secretariat@TSS")
    meeting = meetings.plan_meeting(session, body("TSS"), STARTS, sec)
    agenda.add_case(session, meeting, make_case(state="at_tss", title="A"), sec)
    first = meetings.active_items(meeting)[0]
    agenda.move_item(session, first, sec, 1)
    assert _titles(meeting) == ["A", "Godkendelse af dagsorden"]
    a_item = meetings.active_items(meeting)[0]
    agenda.remove_item(session, a_item, sec)
    assert _titles(meeting) == ["Godkendelse af dagsorden"]
    agenda.remove_item(session, meetings.active_items(meeting)[0], sec)
    assert _titles(meeting) == []


def test_the_page_offers_moving_and_removing_the_first_item(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:
    sec = make_login_user("secretariat@TSS")
    meeting = meetings.plan_meeting(session, body("TSS"), STARTS, sec)
    agenda.add_case(session, meeting, make_case(state="at_tss", title="A"), sec)
    first, second = meetings.active_items(meeting)
    log_in(sec)
    html = client.get(f"/moeder/{meeting.id}").get_data(as_text=True)
    assert f"/punkter/{first.id}/flyt/ned" in html
    assert f"/punkter/{first.id}/fjern" in html
    assert f"/punkter/{first.id}/flyt/op" not in html  # nowhere to go
    assert f"/punkter/{second.id}/flyt/ned" not in html

    client.post(f"/moeder/{meeting.id}/punkter/{first.id}/flyt/ned")
    assert _titles(meeting) == ["A", "Godkendelse af dagsorden"]
    client.post(f"/moeder/{meeting.id}/punkter/{second.id}/fjern")
    assert _titles(meeting) == ["Godkendelse af dagsorden"]
    assert client.post(f"/moeder/{meeting.id}/punkter/{first.id}/flyt/sidelæns").status_code == 404


def test_cancelling_a_meeting_asks_for_confirmation_first(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    body: Callable[[str], Body],
    text_of: Callable[[Any], str],
) -> None:
    sec = make_login_user("secretariat@TSS")
    meeting = meetings.plan_meeting(session, body("TSS"), STARTS, sec, title="TSS-møde")
    log_in(sec)
    first = client.post(f"/moeder/{meeting.id}/aflys", data={"comment": "For få punkter"})
    assert first.status_code == 200
    page = text_of(first)
    assert "Du er ved at aflyse mødet »TSS-møde«" in page
    assert "Det kan ikke fortrydes" in page
    assert "Ja, aflys mødet" in page and "Nej, behold mødet" in page
    session.refresh(meeting)
    assert meeting.status.value == "planned"

    confirmed = client.post(
        f"/moeder/{meeting.id}/aflys", data={"comment": "For få punkter", "confirmed": "ja"}
    )
    assert confirmed.status_code == 302
    session.refresh(meeting)
    assert meeting.status.value == "cancelled"
