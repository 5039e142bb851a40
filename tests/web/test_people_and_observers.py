"""The demo's people: every municipality has a consultation respondent who can answer, and the
KKR observer's dashboard shows what KKR was informed of and the implementation picture."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.demo_data import DemoDatabase, demo_session
from support.web import _text_of, build_app

from models import (
    Case,
    CaseEvent,
    Consultation,
    ConsultationResponse,
    Party,
    PartyKind,
    ResponseStatus,
    User,
)
from workflow import demo
from workflow.engine import clock


@pytest.fixture(scope="module")
def demo_world(demo_database: DemoDatabase) -> Iterator[tuple[Session, Flask]]:
    """The demo, served at the demo's date, rolled back afterwards."""
    with demo_session(demo_database) as session:
        clock.set_time(demo.load_script().today)
        try:
            yield session, build_app(session, demo_database.url)
        finally:
            clock.set_time(None)


@pytest.fixture(autouse=True)
def demo_today(demo_world) -> None:
    """Every test here runs at the demo's date (the suite's frozen clock is another)."""
    clock.set_time(demo.load_script().today)


def _client(app: Flask, login: str):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": f"{login}@{demo.MAIL_DOMAIN}", "password": demo.PASSWORD}
    )
    assert response.status_code == 303, f"{login} could not log in"
    return client


def _municipalities(session: Session) -> list[Party]:
    return list(
        session.scalars(
            select(Party).where(Party.kind == PartyKind.MUNICIPALITY, Party.active.is_(True))
        )
    )


def test_every_municipality_has_an_active_respondent(demo_world):
    session, _app = demo_world
    municipalities = _municipalities(session)
    assert len(municipalities) == 29
    for party in municipalities:
        respondents = session.scalars(
            select(User).where(User.party_id == party.id, User.active.is_(True))
        ).all()
        assert respondents, f"{party.name} has no one to answer its consultations"
        assert any(
            u.email == f"{demo.respondent_login(party)}@{demo.MAIL_DOMAIN}" for u in respondents
        )


def test_each_municipality_can_answer_the_demo_consultation(demo_world):
    session, app = demo_world
    consultation = session.scalar(
        select(Consultation).order_by(Consultation.deadline.desc()).limit(1)
    )
    assert consultation is not None, "the demo has no consultation running"
    case = session.get(Case, consultation.case_id)
    asked = {r.party_id: r for r in consultation.responses if r.party_id is not None}
    assert set(asked) == {p.id for p in _municipalities(session)}
    for party in _municipalities(session):
        client = _client(app, demo.respondent_login(party))
        inbox = _text_of(client.get("/hoering"))
        assert case.title in inbox, party.name
        response = asked[party.id]
        answered = client.post(
            f"/hoering/svar/{response.id}", data={"text": "Vi kan tilslutte os."}
        )
        assert answered.status_code in (302, 303)
        session.refresh(response)
        assert response.status is ResponseStatus.ANSWERED, party.name
    answers = session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.trigger == "consultation_answered"
        )
    ).all()
    assert len(answers) == 29


def test_a_respondent_cannot_answer_for_another_municipality(demo_world):
    session, app = demo_world
    albertslund = session.scalar(select(Party).where(Party.code == "KOM-ALBERTSLUND"))
    other = session.scalar(
        select(ConsultationResponse).where(
            ConsultationResponse.party_id.is_not(None),
            ConsultationResponse.party_id != albertslund.id,
            ConsultationResponse.status == ResponseStatus.PENDING,
        )
    )
    assert other is not None
    client = _client(app, demo.respondent_login(albertslund))
    client.post(f"/hoering/svar/{other.id}", data={"text": "Forkert kommune."})
    session.refresh(other)
    assert other.status is ResponseStatus.PENDING


def test_the_kkr_observer_dashboard_shows_what_kkr_was_informed_of(demo_world):
    session, app = demo_world
    client = _client(app, "observatoer.kkr")
    html = client.get("/").get_data(as_text=True)
    section = html[html.index('id="orienteret-om"') : html.index('id="implementeringsbillede"')]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td><a href=\"/sager/(\d+)\">", section, re.S)
    assert len(rows) >= 2, "the observer is told of nothing"
    approvals = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.trigger == "sku_approve")
        .order_by(CaseEvent.created_at.desc())
    ).all()
    assert approvals
    shown = [int(case_id) for _date, case_id in rows]
    assert approvals[0].case_id in shown
    # Newest first, with the date in Danish, the body that decided and the decision.
    assert shown[0] == approvals[0].case_id
    assert re.fullmatch(r"\d{1,2}\. \w+ \d{4}", rows[0][0].strip())
    text = _text_of(client.get("/"))
    assert "Til orientering" in text and "SKU" in text and "Godkend" in text
    for case_id in set(shown):
        assert client.get(f"/sager/{case_id}").status_code == 200


def test_the_kkr_observer_dashboard_shows_the_implementation_picture(demo_world):
    _session, app = demo_world
    client = _client(app, "observatoer.kkr")
    html = client.get("/").get_data(as_text=True)
    picture = html[html.index('id="implementeringsbillede"') :]
    links = re.findall(r'href="(/implementering/sag/\d+)"', picture)
    assert links, "no initiative in implementation is shown"
    assert "<svg" in picture and "Kommunernes status for" in picture
    assert re.search(r"\d+ af \d+ \(\d+ %\)", _text_of(client.get("/")))
    for link in links:
        assert client.get(link).status_code == 200


def test_the_dashboard_of_a_non_observer_has_no_observer_section(demo_world):
    _session, app = demo_world
    html = _client(app, "medlem.su-nord-som").get("/").get_data(as_text=True)
    assert 'id="orienteret-om"' not in html


def test_the_menu_offers_a_new_case_only_to_those_who_may_raise_one(demo_world):
    """An observer and a municipality's respondent may raise no case: the menu's "Ny sag" led
    them to a page telling them to contact the secretariat (found by the observer's browser
    journey); a member still has the link."""
    _session, app = demo_world
    for login in ("observatoer.kkr", "hoering.dragoer"):
        html = _client(app, login).get("/").get_data(as_text=True)
        assert "<span>Ny sag</span></a>" not in html, login
        assert 'href="/sager/ny' not in html, login
    html = _client(app, "medlem.su-nord-som").get("/").get_data(as_text=True)
    # DKFDS's menu appears twice (desktop navigation and mobile drawer), each with the link.
    assert html.count("<span>Ny sag</span></a>") == 2
