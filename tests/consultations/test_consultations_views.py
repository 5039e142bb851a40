"""Consultations in the web app: the secretariat sends a draft, parties answer, the summary."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import Body, Case, Consultation, Party, ResponseStatus, User
from workflow.consultations import operations as consultations

PDF = b"%PDF-1.4\n% svar fra Gentofte\n"


def _party(session: Session, name_part: str) -> Party:
    party = session.scalar(select(Party).where(Party.name.contains(name_part)).limit(1))
    assert party is not None, name_part
    return party


@pytest.fixture
def web(make_app: Callable[..., Flask], tmp_path: Path) -> FlaskClient:
    return make_app(AFTALEFLOW_ATTACHMENTS_DIR=str(tmp_path)).test_client()


@pytest.fixture
def in_consultation(
    session: Session, make_login_user: Callable[..., User], make_case: Callable[..., Case]
) -> tuple[Case, User]:
    """A joint agreement of TSS's, moved into its consultation state by TSS's secretariat."""
    sec = make_login_user("secretariat@TSS")
    case = make_case("joint_agreement", origin="TSS", state="drafting",
                     title="Fælles aftale om forløb for ældre")  # fmt: skip
    decide(case, "start_consultation", sec, data={"consultation_deadline": "2020-09-30"})
    return case, sec


def _as(client: FlaskClient, user: User, password: str) -> None:
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 303


def _party_user(session: Session, make_login_user: Callable[..., User], party: Party) -> User:
    user = make_login_user()
    user.party_id = party.id
    session.commit()
    return user


def test_the_secretariat_sends_a_draft_parties_answer_and_the_summary_lists_them(
    web: FlaskClient,
    session: Session,
    in_consultation: tuple[Case, User],
    make_login_user: Callable[..., User],
    body: Callable[[str], Body],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    case, sec = in_consultation
    gentofte, plo = _party(session, "Gentofte Kommune"), _party(session, "PLO")
    answerer = _party_user(session, make_login_user, gentofte)
    plo_user = _party_user(session, make_login_user, plo)
    _as(web, sec, password)

    case_page = text_of(web.get(f"/sager/{case.id}"))
    assert "Send sagen i høring" in case_page and "Sagens bilag" in case_page
    form = text_of(web.get(f"/hoering/sag/{case.id}"))
    assert "Parter, der høres" in form and "Gentofte Kommune" in form

    response = web.post(
        f"/hoering/sag/{case.id}/start",
        data={"title": "Høring om fælles aftale", "draft": "Udkast til aftale om ældre.",
              "deadline": "2020-09-30", "reminder_days": "3",
              "parties": [str(gentofte.id), str(plo.id)], "bodies": [str(body("FORUM-DATA").id)],
              "file": (io.BytesIO(b"%PDF-1.4\n% udkast\n"), "Udkast.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 303
    page = text_of(web.get(f"/hoering/sag/{case.id}"))
    assert "Høringen er sendt til 3 parter og organer." in page
    assert "Gentofte Kommune Afventer svar" in page and "Hent udkastet" in page
    assert "Send i høring" not in page  # one round per consultation state

    _as(web, answerer, password)
    listed = text_of(web.get("/hoering"))
    assert "Høring om fælles aftale (Fælles aftale om forløb for ældre) Gentofte Kommune" in listed
    page = text_of(web.get(f"/hoering/sag/{case.id}"))
    assert "Svar på vegne af Gentofte Kommune" in page
    assert "Svar på vegne af Almen praksis" not in page
    consultation = consultations.current(session, case)
    assert consultation is not None
    mine = next(r for r in consultation.responses if r.party_id == gentofte.id)
    theirs = next(r for r in consultation.responses if r.party_id == plo.id)
    response = web.post(
        f"/hoering/svar/{mine.id}",
        data={"text": "Gentofte støtter udkastet, men ønsker en fælles opfølgning.",
              "file": (io.BytesIO(PDF), "Høringssvar Gentofte.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 303
    assert mine.status is ResponseStatus.ANSWERED and mine.attachment_id is not None
    assert web.get(f"/bilag/{mine.attachment_id}").data == PDF

    # Gentofte cannot answer on PLO's behalf, nor mark anyone as not answering.
    refused = text_of(web.post(f"/hoering/svar/{theirs.id}", data={"text": "Ikke vores."},
                               follow_redirects=True))  # fmt: skip
    assert "Du kan kun svare på vegne af Almen praksis" in refused
    web.post(f"/hoering/svar/{theirs.id}/svarer-ikke")
    assert theirs.status is ResponseStatus.PENDING

    _as(web, plo_user, password)
    assert "Svar på vegne af Almen praksis" in text_of(web.get(f"/hoering/sag/{case.id}"))

    _as(web, sec, password)
    web.post(f"/hoering/svar/{theirs.id}/svarer-ikke")
    assert theirs.status is ResponseStatus.NO_ANSWER
    case_page = text_of(web.get(f"/sager/{case.id}"))
    assert "Høringen: 1 af 3 afventer svar, frist 30. september 2020" in case_page

    summary = text_of(web.get(f"/hoering/{consultation.id}/sammenfatning"))
    assert "1 har svaret, 1 svarer ikke, 1 afventer svar" in summary
    assert "Gentofte støtter udkastet, men ønsker en fælles opfølgning." in summary
    assert summary.index("Gentofte Kommune") < summary.index("Almen praksis")
    assert "Høringssvaret som fil" in summary
    for entry in (
        "Sendt i høring hos Gentofte Kommune",
        "Høringssvar fra Gentofte Kommune.",
        "Almen praksis (PLO-Hovedstaden) svarer ikke i høringen.",
    ):
        assert entry in case_page  # the case's timeline


def test_only_the_cases_secretariat_or_chairs_may_start_a_round(
    web: FlaskClient,
    session: Session,
    in_consultation: tuple[Case, User],
    make_login_user: Callable[..., User],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    case, _sec = in_consultation
    member = make_login_user("member@TSS")
    _as(web, member, password)
    page = text_of(web.get(f"/hoering/sag/{case.id}"))
    assert "Send i høring" not in page
    refused = web.post(
        f"/hoering/sag/{case.id}/start",
        data={"deadline": "2020-09-30", "parties": [str(_party(session, "PLO").id)]},
        follow_redirects=True,
    )
    assert "Kun sekretariatet eller formandskabet" in text_of(refused)
    assert session.scalar(select(Consultation).where(Consultation.case_id == case.id)) is None


def test_a_round_needs_someone_to_consult_and_a_future_deadline(
    web: FlaskClient, in_consultation: tuple[Case, User], password: str,
    text_of: Callable[[Any], str],
) -> None:  # fmt: skip
    case, sec = in_consultation
    _as(web, sec, password)
    nobody = web.post(
        f"/hoering/sag/{case.id}/start", data={"deadline": "2020-09-30"}, follow_redirects=True
    )
    assert "Vælg mindst én part eller ét organ" in text_of(nobody)
    past = web.post(
        f"/hoering/sag/{case.id}/start",
        data={"deadline": "2020-08-01", "bodies": ["1"]},
        follow_redirects=True,
    )
    assert "Angiv en høringsfrist, der ikke er overskredet." in text_of(past)


def test_outsiders_do_not_see_the_consultation(
    web: FlaskClient,
    in_consultation: tuple[Case, User],
    make_login_user: Callable[..., User],
    password: str,
) -> None:
    case, _sec = in_consultation
    _as(web, make_login_user(), password)
    assert web.get(f"/hoering/sag/{case.id}").status_code == 404
    # A member of an unrelated body reads the round but has nothing to answer.
    _as(web, make_login_user("member@SU-BYEN-PSYK"), password)
    page = web.get(f"/hoering/sag/{case.id}")
    assert page.status_code == 200
    assert "Svar på vegne af" not in page.get_data(as_text=True)


def test_forms_without_the_csrf_token_are_refused(
    make_app: Callable[..., Flask],
    in_consultation: tuple[Case, User],
    password: str,
) -> None:
    case, sec = in_consultation
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" type="hidden" value="')[-1].split('"')[0]
    client.post("/login", data={"email": sec.email, "password": password, "csrf_token": token})
    refused = client.post(f"/hoering/sag/{case.id}/start", data={"deadline": "2020-09-30"})
    assert refused.status_code == 400
    page = client.get(f"/hoering/sag/{case.id}").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_the_list_of_open_consultations_forgets_rounds_whose_case_moved_on(
    web: FlaskClient,
    session: Session,
    in_consultation: tuple[Case, User],
    make_login_user: Callable[..., User],
    body: Callable[[str], Body],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    case, sec = in_consultation
    forum_member = make_login_user("member@FORUM-DATA")
    observer = make_login_user("observer@FORUM-DATA")
    consultations.start(session, case, sec, title="Høring om data", parties=[],
                        bodies=[body("FORUM-DATA")])  # fmt: skip
    _as(web, forum_member, password)
    assert "Høring om data" in text_of(web.get("/hoering"))
    forum_member.locale = "en"
    session.commit()
    english = text_of(web.get(f"/hoering/sag/{case.id}"))
    assert "Answer on behalf of" in english and "Awaiting answer" in english
    forum_member.locale = "da"
    session.commit()
    _as(web, observer, password)
    assert "Der er ingen åbne høringer til dig." in text_of(web.get("/hoering"))
    consultation = consultations.current(session, case)
    assert consultation is not None
    consultations.mark_not_answering(session, consultation.responses[0], sec)
    decide(case, "end_consultation", sec)
    _as(web, forum_member, password)
    assert "Der er ingen åbne høringer til dig." in text_of(web.get("/hoering"))


def test_the_dashboard_asks_a_respondent_for_the_answers_still_due(
    web: FlaskClient,
    session: Session,
    in_consultation: tuple[Case, User],
    make_login_user: Callable[..., User],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    """A municipality's respondent belongs to no body: the dashboard used to say only "Du er
    ikke medlem af noget organ endnu" and nothing of the consultation to answer (found by the
    respondent's browser journey). It lists the rounds still waiting for the party's answer,
    and forgets one once it is answered."""
    case, sec = in_consultation
    gentofte, rudersdal = _party(session, "Gentofte Kommune"), _party(session, "Rudersdal")
    answerer = _party_user(session, make_login_user, gentofte)
    other = _party_user(session, make_login_user, rudersdal)
    consultations.start(session, case, sec, title="Høring om ældreforløb",
                        parties=[gentofte], bodies=[])  # fmt: skip

    _as(web, answerer, password)
    page = text_of(web.get("/"))
    assert "Høringer, der venter på jeres svar" in page
    assert "Høring om ældreforløb" in page and "30. september 2020" in page
    assert "men svarer på høringer for Gentofte Kommune" in page
    assert "Kontakt sekretariatet for at blive tilknyttet" not in page

    consultation = consultations.current(session, case)
    assert consultation is not None
    consultations.answer(session, consultation.responses[0], answerer, "Gentofte kan tiltræde.")
    page = text_of(web.get("/"))
    assert "Høring om ældreforløb" not in page
    assert "Ingen åbne høringer venter på jeres svar." in page

    _as(web, other, password)  # Rudersdal was not consulted
    page = text_of(web.get("/"))
    assert "Høring om ældreforløb" not in page
    assert "Ingen åbne høringer venter på jeres svar." in page


def test_members_see_the_section_only_when_their_body_is_asked(
    web: FlaskClient,
    session: Session,
    in_consultation: tuple[Case, User],
    make_login_user: Callable[..., User],
    body: Callable[[str], Body],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    case, sec = in_consultation
    forum_member = make_login_user("member@FORUM-DATA")
    _as(web, forum_member, password)
    assert "Høringer, der venter på jeres svar" not in text_of(web.get("/"))
    consultations.start(session, case, sec, title="Høring om data", parties=[],
                        bodies=[body("FORUM-DATA")])  # fmt: skip
    page = text_of(web.get("/"))
    assert "Høringer, der venter på jeres svar" in page and "Høring om data" in page
