"""The iCalendar feeds, read back by icalendar and by vobject, an independent parser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
import vobject
from icalendar import Calendar
from sqlalchemy.orm import Session

from models import Body, Case, Deadline, DeadlineKind, Meeting, SeriesFrequency, User
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.deadlines import material_deadline
from workflow.meetings import agenda, ical
from workflow.meetings import operations as meetings


@pytest.fixture
def planned(
    session: Session,
    make_user: Callable[..., User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> dict[str, object]:
    sec = make_user("secretariat@TSS")
    # 13 November 2020 09:00 Danish winter time is 08:00 UTC.
    winter = meetings.plan_meeting(
        session, body("TSS"), datetime(2020, 11, 13, 8, 0, tzinfo=UTC), sec,
        title="TSS-møde", location="Regionsgården, Hillerød",
    )  # fmt: skip
    case = make_case(state="at_tss", title="Sammenhængende forløb for ældre")
    agenda.add_case(session, winter, case, sec)
    return {"sec": sec, "winter": winter, "case": case}


def test_a_body_feed_parses_with_two_parsers_and_keeps_danish_time(
    session: Session, planned: dict[str, object], body: Callable[[str], Body]
) -> None:
    sec = planned["sec"]
    assert isinstance(sec, User)
    # A monthly series from March across the switch to summer time keeps 14:00 local.
    meetings.plan_series(
        session, body("TSS"), datetime(2021, 3, 10, 13, 0, tzinfo=UTC), sec,
        frequency=SeriesFrequency.MONTHLY, count=2, title="Temamøde",
    )  # fmt: skip
    data = ical.body_feed(session, body("TSS"))

    parsed = Calendar.from_ical(data)
    starts = sorted(e.decoded("dtstart") for e in parsed.walk("VEVENT"))
    assert [s.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2020-11-13 09:00", "2021-03-10 14:00", "2021-04-10 14:00"
    ]  # fmt: skip
    assert starts[2].astimezone(UTC).hour == 12  # summer time: UTC+2

    independent = vobject.readOne(data.decode("utf-8"))
    events = sorted(independent.vevent_list, key=lambda e: e.dtstart.value)
    assert events[0].dtstart.value.astimezone(UTC) == datetime(2020, 11, 13, 8, 0, tzinfo=UTC)
    assert events[0].location.value == "Regionsgården, Hillerød"
    assert events[2].dtstart.value.astimezone(UTC) == datetime(2021, 4, 10, 12, 0, tzinfo=UTC)
    assert "VTIMEZONE" in data.decode() and "TZID=Europe/Copenhagen" in data.decode()


def test_a_moved_or_cancelled_meeting_updates_its_event(
    session: Session, planned: dict[str, object], body: Callable[[str], Body]
) -> None:
    sec, winter = planned["sec"], planned["winter"]
    assert isinstance(sec, User)
    meetings.move_meeting(session, winter, datetime(2020, 11, 20, 8, 0, tzinfo=UTC), sec)  # type: ignore[arg-type]
    event = Calendar.from_ical(ical.body_feed(session, body("TSS"))).walk("VEVENT")[0]
    assert event.decoded("dtstart").astimezone(LOCAL_TZ).day == 20
    assert int(event["sequence"]) == 2
    meetings.cancel_meeting(session, winter, sec, comment="Formanden er syg.")  # type: ignore[arg-type]
    event = Calendar.from_ical(ical.body_feed(session, body("TSS"))).walk("VEVENT")[0]
    assert str(event["status"]) == "CANCELLED"


def test_a_users_feed_needs_their_token_and_lists_material_deadlines(
    session: Session, planned: dict[str, object], make_user: Callable[..., User]
) -> None:
    sec = planned["sec"]
    assert isinstance(sec, User)
    token = ical.issue_token(session, sec)
    assert ical.user_for_token(session, token) == sec
    assert ical.user_for_token(session, token + "x") is None
    data = ical.user_feed(session, sec)
    events = {str(e["summary"]): e for e in Calendar.from_ical(data).walk("VEVENT")}
    deadline = events["Materialefrist: Sammenhængende forløb for ældre (TSS den 13. november 2020)"]
    winter = planned["winter"]
    due = material_deadline(winter, winter.body)  # type: ignore[arg-type, attr-defined]
    assert deadline.decoded("dtstart") == due.astimezone(LOCAL_TZ).date() < date(2020, 11, 13)
    assert "TSS: TSS-møde" in events
    # A new token revokes the old one.
    newer = ical.issue_token(session, sec)
    assert ical.user_for_token(session, token) is None
    assert ical.user_for_token(session, newer) == sec
    outsider = make_user("member@FORUM-DATA")
    assert list(Calendar.from_ical(ical.user_feed(session, outsider)).walk("VEVENT")) == []


def test_a_users_feed_leaves_out_the_material_deadlines_of_cases_they_may_not_see(
    session: Session,
    planned: dict[str, object],
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    body: Callable[[str], Body],
) -> None:
    """A material deadline of TSS left on a case that is a draft of SU-SYD-SOM again."""
    winter = planned["winter"]
    assert isinstance(winter, Meeting)
    draft = make_case(origin="SU-SYD-SOM", title="Syds kladde")
    session.add(
        Deadline(
            case_id=draft.id, kind=DeadlineKind.MATERIAL, state="draft", body_id=body("TSS").id,
            meeting_id=winter.id, due_at=material_deadline(winter, body("TSS")), reminder_days=[],
        )
    )  # fmt: skip
    session.commit()

    def summaries(user: User) -> str:
        return " ".join(
            str(e["summary"])
            for e in Calendar.from_ical(ical.user_feed(session, user)).walk("VEVENT")
        )

    assert "Syds kladde" not in summaries(make_user("secretariat@TSS"))
    assert "Sammenhængende forløb for ældre" in summaries(make_user("secretariat@TSS"))
    assert "Syds kladde" in summaries(make_user("member@SU-SYD-SOM"))
    assert "Syds kladde" in summaries(make_user("secretariat@TSS", is_admin=True))


def test_the_feed_speaks_the_language_its_owner_chose(
    client, session: Session, body: Callable[[str], Body], make_user: Callable[..., User],
    make_case: Callable[..., Case],
) -> None:  # fmt: skip
    """A feed is fetched without a login: it is written in the language of the token's owner,
    and a meeting without a title of its own is named in that language."""
    sec = make_user("secretariat@TSS")
    meeting = meetings.plan_meeting(
        session, body("TSS"), datetime(2020, 11, 13, 8, 0, tzinfo=UTC), sec
    )
    agenda.add_case(session, meeting, make_case(state="at_tss", title="Forløb for ældre"), sec)
    danish = Calendar.from_ical(
        client.get(f"/moeder/kalender/{ical.issue_token(session, sec)}.ics").data
    )
    summaries = sorted(str(e["summary"]) for e in danish.walk("VEVENT"))
    assert "TSS: Møde i Tværsektoriel Strategisk Styregruppe" in summaries
    assert any(s.startswith("Materialefrist: Forløb for ældre (TSS den ") for s in summaries)

    sec.locale = "en"
    session.commit()
    token = ical.issue_token(session, sec)
    english = Calendar.from_ical(client.get(f"/moeder/kalender/{token}.ics").data)
    events = {str(e["summary"]): str(e["description"]) for e in english.walk("VEVENT")}
    assert events["TSS: Meeting of Tværsektoriel Strategisk Styregruppe"].startswith(
        "Meeting of Tværsektoriel Strategisk Styregruppe."
    )
    [deadline] = [s for s in events if s.startswith("Material deadline: Forløb for ældre")]
    assert "13 November 2020" in deadline and "must be ready by 23:59 today" in events[deadline]
    body_feed = client.get(f"/moeder/kalender/{token}/TSS.ics").get_data(as_text=True)
    assert "Meetings of Tværsektoriel Strategisk Styregruppe" in body_feed
