"""A secretariat runs a whole meeting in the web app: plan, agenda, documents, minutes."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from docx import Document
from flask.testing import FlaskClient
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import Body, Case, CaseEvent, Meeting, User
from workflow.engine import clock
from workflow.meetings import ical


def test_a_secretariat_runs_a_whole_tss_meeting_in_the_web_app(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:
    sec = make_login_user("secretariat@TSS")
    chair = make_login_user("chair@TSS")
    first = make_case(state="at_tss", title="Sammenhængende forløb for ældre")
    second = make_case(state="at_tss", title="Fælles sprog om børns sundhed")
    log_in(sec)

    response = client.post(
        "/moeder/planlaeg",
        data={"body": "TSS", "title": "TSS-møde november", "day": "2020-11-13",
              "start": "09:00", "minutes_long": "120", "location": "Regionsgården",
              "frequency": "", "interval": "1", "count": "1"},
    )  # fmt: skip
    assert response.status_code == 302, text_of(response)
    meeting = session.scalar(select(Meeting).where(Meeting.title == "TSS-møde november"))
    assert meeting is not None
    assert meeting.starts_at == datetime(2020, 11, 13, 8, 0, tzinfo=UTC)
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Sager klar til TSS" in page and "Fælles sprog om børns sundhed" in page

    for case in (first, second):
        client.post(f"/moeder/{meeting.id}/punkter", data={"case_id": case.id, "kind": "decision"})
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    agenda = page[page.index("Godkendelse af dagsorden (Beslutning)") :]
    assert agenda.index("Sammenhængende forløb for ældre (Beslutning)") < agenda.index(
        "Fælles sprog om børns sundhed (Beslutning)"
    )
    assert "Indstilling" in page and "Økonomi" in page

    client.post(f"/moeder/{meeting.id}/status/send_for_review")
    client.get("/logout")
    client.post("/logout")
    log_in(chair)
    client.post(f"/moeder/{meeting.id}/status/publish")
    pdf = client.get(f"/moeder/{meeting.id}/dagsorden.pdf")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Fælles sprog om børns sundhed" in re.sub(r"\s+", " ", text)

    client.post("/logout")
    log_in(sec)
    clock.set_time(datetime(2020, 11, 13, 11, 0, tzinfo=UTC))
    client.post(f"/moeder/{meeting.id}/status/hold")
    items = {i.case_id: i for i in meeting.items}
    client.post(
        f"/moeder/{meeting.id}/punkter/{items[first.id].id}/udfald",
        data={"outcome": "recommended", "decision_text": "TSS anbefaler indsatsen over for SKU."},
    )
    client.post(
        f"/moeder/{meeting.id}/punkter/{items[second.id].id}/udfald",
        data={"outcome": "returned", "decision_text": "Beskriv økonomien for kommunerne."},
    )
    refused = client.post(f"/moeder/{meeting.id}/status/approve_minutes", follow_redirects=True)
    assert "Du kan ikke" in text_of(refused)

    client.post("/logout")
    log_in(chair)
    client.post(f"/moeder/{meeting.id}/status/approve_minutes")
    assert (first.state, second.state) == ("at_sku", "draft")
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == first.id, CaseEvent.meeting_id == meeting.id)
    ).all()
    assert any(e.trigger == "tss_recommend" for e in events)
    docx = client.get(f"/moeder/{meeting.id}/referat.docx")
    minutes = " ".join(p.text for p in Document(io.BytesIO(docx.data)).paragraphs)
    assert minutes.count("Beslutning i TSS den 13. november 2020") == 2
    assert "Beskriv økonomien for kommunerne." in minutes


def test_the_calendar_feed_is_reached_with_the_token_shown_once(
    client: FlaskClient,
    logged_in: Callable[..., User],
    text_of: Callable[[Any], str],
) -> None:
    logged_in("secretariat@TSS")
    client.post(
        "/moeder/planlaeg",
        data={"body": "TSS", "title": "Serie", "day": "2020-10-01", "start": "13:00",
              "minutes_long": "90", "frequency": "monthly", "interval": "1", "count": "3"},
    )  # fmt: skip
    page = client.post("/moeder/kalender/ny-noegle").get_data(as_text=True)
    url = re.search(r"http://localhost(/moeder/kalender/[^<\s]+\.ics)", page)
    assert url is not None
    client.post("/logout")
    feed = client.get(url.group(1))
    assert feed.mimetype == "text/calendar"
    events = Calendar.from_ical(feed.data).walk("VEVENT")
    assert len(events) == 3
    assert client.get("/moeder/kalender/forkert-noegle.ics").status_code == 404


def test_kkr_sees_what_sku_approved_and_others_do_not(
    client: FlaskClient,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:

    case = make_case(state="at_sku", title="Genoptræning efter udskrivelse")
    decide(case, "sku_approve", make_user("chair@SKU"), comment="Godkendt af formanden.")
    log_in(make_login_user("observer@KKR"))
    page = text_of(client.get("/moeder/orientering"))
    assert "Genoptræning efter udskrivelse" in page
    client.post("/logout")
    log_in(make_login_user("member@FORUM-DATA"))
    refused = client.get("/moeder/orientering")
    assert refused.status_code == 403
    assert "Siden er for KKR Hovedstaden, KKU og SKU" in text_of(refused)


def test_the_informed_list_opens_each_case(
    client: FlaskClient,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:
    """The full list of what KKR was informed of named the cases without linking them: the
    observer could not open an informed case from it (found by the KKR observer's browser
    journey)."""

    case = make_case(state="at_sku", title="Genoptræning efter udskrivelse")
    decide(case, "sku_approve", make_user("chair@SKU"), comment="Godkendt af formanden.")
    log_in(make_login_user("observer@KKR"))
    html = client.get("/moeder/orientering").get_data(as_text=True)
    assert f'<a href="/sager/{case.id}">Genoptræning efter udskrivelse</a>' in html
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Genoptræning efter udskrivelse" in page and "Udbredelse og implementering" in page


def test_the_informed_list_and_feed_name_the_deciding_body(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:
    """Each entry of /moeder/orientering and its Atom feed says which body decided it."""

    case = make_case(state="at_sku", title="Genoptræning efter udskrivelse")
    decide(case, "sku_approve", make_user("chair@SKU"), comment="Godkendt.")
    kkr = make_login_user("observer@KKR")
    log_in(kkr)
    page = text_of(client.get("/moeder/orientering"))
    assert "Genoptræning efter udskrivelse" in page and "Besluttet af SKU" in page
    feed = client.get(f"/moeder/orientering/{ical.issue_token(session, kkr)}.atom")
    assert "<summary>Besluttet af SKU. " in feed.text
    client.post("/sprog", data={"sprog": "en", "tilbage": "/"})
    english = text_of(client.get("/moeder/orientering"))
    assert "Decided by SKU" in english and "Besluttet af" not in english


def test_the_meeting_calendar_page_offers_planning_to_the_secretariat_only(
    client: FlaskClient, logged_in: Callable[..., User], text_of: Callable[[Any], str]
) -> None:
    logged_in("secretariat@TSS")
    page = text_of(client.get("/moeder"))
    assert "Planlæg møde eller mødeserie" in page and "Abonnér på kalenderen" in page
    client.post("/logout")
    logged_in("member@FORUM-DATA")
    page = text_of(client.get("/moeder"))
    assert "Planlæg møde" not in page
    refused = client.post(
        "/moeder/planlaeg", data={"body": "TSS", "day": "2020-11-13", "start": "09:00"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Not a valid choice" in text_of(refused) or "gyldig" in text_of(refused)


def test_planning_without_the_csrf_token_is_refused(
    make_app: Callable[..., Any], make_login_user: Callable[..., User], password: str
) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = make_login_user("secretariat@TSS")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert token is not None
    client.post("/login", data={"email": user.email, "password": password,
                                "csrf_token": token.group(1)})  # fmt: skip
    response = client.post("/moeder/planlaeg", data={"body": "TSS", "day": "2020-11-13"})
    assert response.status_code == 400


def _sku_decides_a_closed_item(
    session: Session, make_user: Callable[..., User], make_case: Callable[..., Case]
) -> tuple[Meeting, Case]:
    """SKU approves an initiative on a closed item, with a follow-up, and KKR is informed."""
    from datetime import timedelta

    from workflow.meetings import agenda, minutes
    from workflow.meetings import operations as meetings
    from workflow.meetings.outcomes import Outcome

    sec, chair = make_user("secretariat@SKU"), make_user("chair@SKU")
    body = session.scalar(select(Body).where(Body.code == "SKU"))
    starts = clock.now() + timedelta(days=30)
    meeting = meetings.plan_meeting(session, body, starts, sec)
    case = make_case(state="at_sku", title="Genoptræning i eget hjem")
    item = agenda.add_case(
        session, meeting, case, sec, closed=True, public_summary="Finansiering af genoptræning."
    )
    meetings.change_status(session, meeting, "send_for_review", sec)
    agenda.publish(session, meeting, chair)
    clock.set_time(starts + timedelta(hours=3))
    meetings.change_status(session, meeting, "hold", sec)
    minutes.record_outcome(session, item, sec, Outcome.APPROVED, "Godkendt med 4,2 mio. kr.")
    minutes.add_follow_up(
        session, item, sec, description="Forhandl prisen med Novo", owner=sec,
        due_on=(starts + timedelta(days=60)).date(),
    )  # fmt: skip
    result = minutes.approve_minutes(session, meeting, chair)
    assert not result.refused and case.state == "implementation"
    return meeting, case


def test_a_closed_items_decision_stays_with_the_bodys_members(
    client: FlaskClient,
    session: Session,
    make_user: Callable[..., User],
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:

    meeting, case = _sku_decides_a_closed_item(session, make_user, make_case)
    secrets = ("Godkendt med 4,2 mio. kr.", "Forhandl prisen med Novo")
    kkr = make_login_user("observer@KKR")
    log_in(kkr)
    feed = client.get(f"/moeder/orientering/{ical.issue_token(session, kkr)}.atom")
    assert "Genoptræning i eget hjem" in feed.text  # the approval itself is news for KKR
    for page in (
        feed.text,
        text_of(client.get(f"/sager/{case.id}")),
        text_of(client.get(f"/moeder/{meeting.id}")),
        text_of(client.get("/beskeder")),
    ):
        assert not any(secret in page for secret in secrets)  # fmt: skip
    assert "beslutningens ordlyd står i referatet" in text_of(client.get(f"/sager/{case.id}"))
    client.post("/logout")
    log_in(make_login_user("member@SKU"))
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Godkendt med 4,2 mio. kr." in page


def test_the_informed_feed_leaves_out_a_case_the_observer_may_not_see(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    log_in: Callable[..., Any],
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:

    case = make_case(state="at_sku", title="Senere en kladde igen", origin="SU-SYD-SOM")
    decide(case, "sku_approve", make_user("chair@SKU"))
    case.state, case.current_body_id = "draft", case.originating_body_id  # a test shortcut
    session.commit()
    kkr = make_login_user("observer@KKR")
    log_in(kkr)
    assert "Senere en kladde igen" not in text_of(client.get("/moeder/orientering"))
    feed = client.get(f"/moeder/orientering/{ical.issue_token(session, kkr)}.atom")
    assert feed.status_code == 200 and "Senere en kladde igen" not in feed.text
    client.post("/logout")
    log_in(make_login_user("observer@KKR", "member@SU-SYD-SOM"))
    assert "Senere en kladde igen" in text_of(client.get("/moeder/orientering"))


def test_the_meeting_page_links_only_the_cases_the_reader_may_open(
    client: FlaskClient,
    session: Session,
    make_user: Callable[..., User],
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    text_of: Callable[[Any], str],
) -> None:
    """SU-SYD-SOM's meeting treats its own draft; TSS's chair returned another case to the
    committee between meetings. The page keeps the body's text but links only what one may
    open."""
    from datetime import timedelta

    from workflow.meetings import agenda
    from workflow.meetings import operations as meetings

    su = session.scalar(select(Body).where(Body.code == "SU-SYD-SOM"))
    tss = session.scalar(select(Body).where(Body.code == "TSS"))
    su_sec = make_user("secretariat@SU-SYD-SOM")
    su_meeting = meetings.plan_meeting(session, su, clock.now() + timedelta(days=20), su_sec)
    draft = make_case(title="Syds kladde", origin="SU-SYD-SOM")
    agenda.add_case(session, su_meeting, draft, su_sec)
    tss_meeting = meetings.plan_meeting(
        session, tss, clock.now() + timedelta(days=20), make_user("secretariat@TSS")
    )
    returned = make_case(title="Sendt tilbage til Syd", origin="SU-SYD-SOM", state="at_tss")
    decide(returned, "tss_return", make_user("chair@TSS"), comment="Mere om økonomien.")
    assert returned.state == "draft"
    logged_in("member@TSS")
    su_page = client.get(f"/moeder/{su_meeting.id}").get_data(as_text=True)
    tss_page = client.get(f"/moeder/{tss_meeting.id}").get_data(as_text=True)
    assert f'href="/sager/{draft.id}"' not in su_page
    assert f'href="/sager/{returned.id}"' not in tss_page
    assert "Sendt tilbage til Syd" in tss_page  # TSS's own record of its chair's decision
    client.post("/logout")
    logged_in("member@SU-SYD-SOM")
    assert f'href="/sager/{draft.id}"' in client.get(f"/moeder/{su_meeting.id}").text
    assert f'href="/sager/{returned.id}"' in client.get(f"/moeder/{tss_meeting.id}").text


def test_a_bodys_calendar_feed_needs_a_member_behind_the_token(
    client: FlaskClient, session: Session, make_user: Callable[..., User]
) -> None:
    member_token = ical.issue_token(session, make_user("observer@KKR"))
    stranger_token = ical.issue_token(session, make_user())
    session.commit()
    feed = client.get(f"/moeder/kalender/{member_token}/TSS.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert client.get(f"/moeder/kalender/{stranger_token}/TSS.ics").status_code == 404
    assert client.get(f"/moeder/kalender/{member_token}/FINDES-IKKE.ics").status_code == 404
