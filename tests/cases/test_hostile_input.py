"""Hostile input through the case pages: each is refused with a clear message (4xx), or made
harmless, and none answers 500 (issue 12)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models import Case, CaseExpense, FocusArea, Party, User
from workflow.cases import attachments

PDF = b"%PDF-1.4\n% svar\n"
HUGE_AMOUNT = "99999999999999999999999999"


def _form(session: Session, **overrides: str) -> dict[str, str]:
    focus = session.scalar(select(FocusArea.id).order_by(FocusArea.id))
    return {
        "originating_body": "SU-NORD-SOM",
        "title": "Fælles akutforløb",
        "summary": "Første linje.\r\nAnden linje.",
        "focus_area_id": str(focus),
        **overrides,
    }


def _party(session: Session) -> Party:
    party = session.scalar(select(Party).where(Party.active).order_by(Party.id))
    assert party is not None
    return party


def _cases(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


@pytest.mark.parametrize("title", ["Titel\r\nBcc: alle@example.dk", "Titel\x00", "Tit\x1bel"])
def test_a_title_with_a_line_break_or_control_character_is_refused(
    client: FlaskClient,
    logged_in: Callable[..., User],
    session: Session,
    text_of: Callable[[Any], str],
    title: str,
) -> None:
    logged_in("member@SU-NORD-SOM")
    before = _cases(session)
    response = client.post("/sager/ny/signature_initiative", data=_form(session, title=title))
    assert response.status_code == 422
    assert "Teksten må ikke indeholde linjeskift eller andre kontroltegn" in text_of(response)
    assert _cases(session) == before


def test_long_text_keeps_its_line_breaks(
    client: FlaskClient, logged_in: Callable[..., User], session: Session
) -> None:
    logged_in("member@SU-NORD-SOM")
    response = client.post("/sager/ny/signature_initiative", data=_form(session))
    assert response.status_code == 303
    case = session.scalar(select(Case).where(Case.title == "Fælles akutforløb"))
    assert case is not None and case.summary == "Første linje.\nAnden linje."


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (HUGE_AMOUNT, "Det største beløb, der kan gemmes, er 999.999.999.999,99 kr."),
        ("-5", "Beløbet kan ikke være negativt."),
        ("NaN", "Skriv beløbet som et tal"),
        ("1e400", "Beløbet er for stort."),
    ],
)  # fmt: skip
def test_an_amount_outside_the_columns_range_is_refused(
    client: FlaskClient,
    logged_in: Callable[..., User],
    session: Session,
    text_of: Callable[[Any], str],
    amount: str,
    message: str,
) -> None:
    logged_in("member@SU-NORD-SOM")
    data = _form(session, **{"expenses-0-party_id": str(_party(session).id),
                             "expenses-0-amount": amount})  # fmt: skip
    response = client.post("/sager/ny/signature_initiative", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert session.scalar(select(func.count()).select_from(CaseExpense)) == 0


def test_the_largest_amount_the_column_holds_is_saved(
    client: FlaskClient, logged_in: Callable[..., User], session: Session
) -> None:
    logged_in("member@SU-NORD-SOM")
    data = _form(session, **{"expenses-0-party_id": str(_party(session).id),
                             "expenses-0-amount": "999.999.999.999,99"})  # fmt: skip
    assert client.post("/sager/ny/signature_initiative", data=data).status_code == 303
    assert str(session.scalar(select(CaseExpense.amount_dkk))) == "999999999999.99"


@pytest.mark.parametrize("party", ["987654", str(2**31), str(2**63), "1; DROP TABLE cases"])
def test_an_expense_for_a_party_that_does_not_exist_is_refused(
    client: FlaskClient,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    session: Session,
    text_of: Callable[[Any], str],
    party: str,
) -> None:
    logged_in("member@SU-NORD-SOM")
    data = _form(session, **{"expenses-0-party_id": party, "expenses-0-amount": "100"})
    response = client.post("/sager/ny/signature_initiative", data=data)
    assert response.status_code == 422
    assert "Række 1: parten findes ikke. Vælg en part på listen." in text_of(response)
    case = make_case()
    data["expected_version"] = str(case.version)
    response = client.post(f"/sager/{case.id}/rediger", data=data)
    assert response.status_code == 422
    assert session.scalar(select(func.count()).select_from(CaseExpense)) == 0


def test_a_case_with_an_amount_stored_before_the_check_still_shows(
    client: FlaskClient,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    session: Session,
    text_of: Callable[[Any], str],
) -> None:
    """SQLite keeps any number it is given, so old data may hold an amount no form accepts
    now; the case, its edit page and the implementation report must still render."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses such an amount when it is written")
    logged_in("secretariat@TSS", "member@SU-NORD-SOM")
    case = make_case()
    session.execute(
        text(
            "INSERT INTO case_expenses (case_id, party_id, amount_dkk, note) "
            f"VALUES (:case, :party, {HUGE_AMOUNT}, '')"
        ),
        {"case": case.id, "party": _party(session).id},
    )
    session.commit()
    session.expire_all()
    for page in (f"/sager/{case.id}", f"/sager/{case.id}/rediger", "/rapporter/implementering"):
        assert client.get(page).status_code == 200, page
    assert " kr." in text_of(client.get(f"/sager/{case.id}"))


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_databases_range_is_not_found(
    client: FlaskClient,
    logged_in: Callable[..., User],
    text_of: Callable[[Any], str],
    number: int,
) -> None:
    logged_in("secretariat@TSS", "member@SU-NORD-SOM")
    for url in (f"/sager/{number}", f"/sager/{number}/rediger", f"/moeder/{number}",
                f"/bilag/{number}", f"/implementering/enhed/{number}"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Siden findes ikke" in text_of(response)
    for url in (f"/sager/{number}/handlinger/submit", f"/moeder/{number}/aflys",
                f"/hoering/svar/{number}", f"/profil/tokens/{number}/tilbagekald"):  # fmt: skip
        assert client.post(url).status_code == 404, url


@pytest.mark.parametrize("number", [str(2**31), str(2**63), "9" * 30])
def test_an_id_beyond_the_range_in_a_form_is_refused(
    client: FlaskClient,
    logged_in: Callable[..., User],
    session: Session,
    body: Callable[[str], Any],
    text_of: Callable[[Any], str],
    number: str,
) -> None:
    logged_in("secretariat@TSS")
    client.post(
        "/moeder/planlaeg",
        data={"body": "TSS", "title": "Grænsemøde", "day": "2020-11-13", "start": "09:00",
              "minutes_long": "60", "frequency": "", "interval": "1", "count": "1"},
    )  # fmt: skip
    meeting_id = session.scalar(text("SELECT id FROM meetings WHERE title = 'Grænsemøde'"))
    response = client.post(
        f"/moeder/{meeting_id}/punkter", data={"case_id": number, "kind": "decision"}
    )
    assert response.status_code < 500
    response = client.post(
        "/indikatorer/sag/1", data={"indicator": "X", "action": "link", "case_id": number}
    )
    assert response.status_code < 500


def test_a_nul_byte_in_an_uploaded_file_name_is_dropped(
    make_app: Callable[..., Any],
    make_login_user: Callable[..., User],
    make_case: Callable[..., Case],
    session: Session,
    tmp_path: Path,
    password: str,
) -> None:
    """PostgreSQL cannot store NUL in text; the name keeps the rest of what the user sent."""
    client = make_app(AFTALEFLOW_ATTACHMENTS_DIR=str(tmp_path)).test_client()
    case = make_case(state="at_tss")
    user = make_login_user("secretariat@TSS")
    client.post("/login", data={"email": user.email, "password": password})
    response = client.post(
        f"/bilag/sag/{case.id}",
        data={"file": (io.BytesIO(PDF), "Høring\x00svar\x1b.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert [a.filename for a in attachments.listed(session, case)] == ["Høringsvar.pdf"]
