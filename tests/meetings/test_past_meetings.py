"""Past meetings are listed, searchable and paginated on the meetings page (issue 11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Body, Meeting, MeetingStatus, User
from workflow.engine import clock
from workflow.meetings import queries


def _meeting(session: Session, body: Body, title: str, starts_at: datetime) -> Meeting:
    meeting = Meeting(
        body_id=body.id, title=title, starts_at=starts_at, status=MeetingStatus.CLOSED
    )
    session.add(meeting)
    session.flush()
    return meeting


def _section(page: str) -> str:
    return page[page.index("Tidligere møder") : page.index("Abonnér på kalenderen")]


def test_past_meetings_are_listed_and_searched_by_words_and_dates(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    body: Callable[[str], Body],
    text_of: Callable[[Any], str],
) -> None:
    clock.set_time(datetime(2021, 6, 1, 10, 0, tzinfo=UTC))
    tss = body("TSS")
    _meeting(session, tss, "Budgetmøde i TSS", datetime(2020, 3, 2, 8, 0, tzinfo=UTC))
    _meeting(session, tss, "Temamøde om ældre", datetime(2020, 9, 14, 8, 0, tzinfo=UTC))
    _meeting(session, body("SKU"), "SKU-møde (ikke mit organ)", datetime(2020, 9, 1, tzinfo=UTC))
    _meeting(session, tss, "Kommende møde", datetime(2021, 9, 1, 8, 0, tzinfo=UTC))
    session.commit()
    log_in(make_login_user("member@TSS"))

    listed = _section(text_of(client.get("/moeder")))
    assert "Budgetmøde i TSS" in listed and "Temamøde om ældre" in listed
    assert "SKU-møde" not in listed and "Kommende møde" not in listed
    assert listed.index("Temamøde om ældre") < listed.index("Budgetmøde i TSS")  # newest first

    found = _section(text_of(client.get("/moeder", query_string={"q": "ÆLDRE"})))
    assert "Temamøde om ældre" in found and "Budgetmøde" not in found

    march = {"fra": "2020-03-01", "til": "2020-03-31"}
    dated = _section(text_of(client.get("/moeder", query_string=march)))
    assert "Budgetmøde i TSS" in dated and "Temamøde" not in dated

    bad = client.get("/moeder", query_string={"fra": "2020-13-45"}, follow_redirects=True)
    assert bad.status_code == 200
    assert "Skriv en gyldig dato" in text_of(bad)


def test_past_meetings_come_a_page_at_a_time(session: Session, body: Callable[[str], Body]) -> None:
    tss = body("TSS")
    first = datetime(2019, 1, 1, 8, 0, tzinfo=UTC)
    for n in range(queries.PAGE_SIZE + 3):
        _meeting(session, tss, f"Møde {n}", first + timedelta(days=n))
    now = datetime(2021, 1, 1, tzinfo=UTC)
    one = queries.past_meetings(session, [tss.id], queries.PastSearch(), now)
    two = queries.past_meetings(session, [tss.id], queries.PastSearch(page=2), now)
    assert one.total == two.total >= queries.PAGE_SIZE + 3
    assert len(one.meetings) == queries.PAGE_SIZE
    assert not {m.id for m in one.meetings} & {m.id for m in two.meetings}
    assert one.meetings[0].starts_at > two.meetings[0].starts_at
    literal = queries.past_meetings(session, [tss.id], queries.PastSearch(text="100%"), now)
    assert literal.total == 0
