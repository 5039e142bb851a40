"""The what-if page: admins only, errors at the field (4xx, never 500), Danish and English."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from support.html_checker import check_pages, checker_or_none, report
from support.phone import phone_browser, phone_problems
from support.whatif import build

from models import Case, Meeting, User

STATES = Path(__file__).resolve().parents[2] / "states"
URL = "/admin/hvad-hvis"


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="form-error-message" id="{field}-fejl">(.*?)</p>', html, re.S)
    assert found, f"no error at {field}"
    return found.group(1)


def test_only_admins_may_replay(
    client: FlaskClient, logged_in: Callable[..., User], text_of: Callable[[Any], str]
) -> None:
    assert client.get(URL).status_code == 302  # to the login page
    logged_in("chair@TSS", "secretariat@SKU")
    for response in (client.get(URL), client.post(URL, data={"months": "12"})):
        assert response.status_code == 403
        assert "Kun administratorer kan genafspille" in text_of(response)


def test_admin_sees_the_form_and_the_link_in_the_admin_menu(
    client: FlaskClient, logged_in: Callable[..., User], text_of: Callable[[Any], str]
) -> None:
    logged_in(is_admin=True)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Genafspil" in text_of(page)
    assert f'href="{URL}"' in client.get("/admin").get_data(as_text=True)


def test_a_bad_draft_is_refused_with_the_loaders_error_at_the_field(
    client: FlaskClient, logged_in: Callable[..., User]
) -> None:
    logged_in(is_admin=True)
    source = (STATES / "signature_initiative.toml").read_text(encoding="utf-8")
    broken = source.replace('deadline = { kind = "material" }', 'deadline = { kind = "moede" }', 1)
    response = client.post(URL, data={"months": "12", "draft": broken})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "states.at_tss.deadline.kind: ukendt fristtype &#39;moede&#39;" in _field_error(
        html, "draft"
    )
    assert 'href="#draft"' in html  # the error summary links to the field
    # The draft is kept in the form, so the admin can correct it.
    assert "kind = &#34;moede&#34;" in html or 'kind = "moede"' in html


def test_bad_numbers_and_dates_are_refused_at_their_fields(
    client: FlaskClient, logged_in: Callable[..., User]
) -> None:
    logged_in(is_admin=True)
    cases = [
        ({"months": "0"}, "months"),
        ({"months": "12", "material_body": "TSS", "material_days": "-3"}, "material_days"),
        ({"months": "12", "material_body": "TSS"}, "material_days"),
        ({"months": "12", "material_days": "4"}, "material_body"),
        ({"months": "12", "calendar_body": "TSS", "meeting_days": "2021-02-30"}, "meeting_days"),
        ({"months": "12", "material_body": "NOPE", "material_days": "4"}, "material_body"),
        ({"months": "12", "version": "signature_initiative:999"}, "version"),
    ]
    for data, field in cases:
        response = client.post(URL, data=data)
        assert response.status_code == 422, (data, response.status_code)
        assert _field_error(response.get_data(as_text=True), field)


def test_the_page_says_which_cases_reach_an_earlier_meeting(
    session: Session,
    client: FlaskClient,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
    text_of: Callable[[Any], str],
) -> None:
    build(session, make_case, make_user, make_meeting)
    logged_in(is_admin=True)
    response = client.post(URL, data={"months": "12", "material_body": "TSS", "material_days": "4"})
    assert response.status_code == 200
    text = text_of(response)
    assert "6 sager oprettet" in text
    assert "3 behandlinger når et tidligere møde (3 ét møde tidligere); 0 kommer til" in text
    assert "Indsendt 20.10 TSS 26. november 2020 29. oktober 2020 1" in text
    html = response.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in html
    assert '<title id="hvad-hvis-organ-titel">' in html


def test_a_pasted_draft_shows_its_deadline_breaches_by_state(
    session: Session,
    client: FlaskClient,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
    text_of: Callable[[Any], str],
) -> None:
    build(session, make_case, make_user, make_meeting)
    logged_in(is_admin=True)
    source = (STATES / "signature_initiative.toml").read_text(encoding="utf-8")
    draft = source.replace(
        'deadline = { kind = "material" }', 'deadline = { kind = "days_after_entry", days = 30 }', 1
    )
    response = client.post(URL, data={"months": "12", "draft": draft})
    assert response.status_code == 200
    text = text_of(response)
    assert "Overskredne frister: i dag 0, i kladden 4." in text
    assert "Signaturindsats Til behandling i TSS 0 4" in text


def test_the_page_in_english(
    session: Session,
    client: FlaskClient,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
    text_of: Callable[[Any], str],
) -> None:
    build(session, make_case, make_user, make_meeting)
    user = logged_in(is_admin=True)
    user.locale = "en"
    session.commit()
    response = client.post(URL, data={"months": "12", "material_body": "TSS", "material_days": "4"})
    text = text_of(response)
    assert "What if: replay the cases" in text
    assert "3 treatments reach an earlier meeting (3 one meeting earlier)" in text
    refused = client.post(URL, data={"months": "12", "material_days": "4"})
    assert "Choose the body whose deadline for papers changes." in text_of(refused)


# The markup does not depend on the database: checked in the SQLite run, as the crawl does.
@pytest.mark.sqlite_only
def test_the_result_and_the_refusal_are_valid_fit_a_phone_and_pass_axe(
    session: Session,
    client: FlaskClient,
    app: Flask,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
    tmp_path: Path,
) -> None:
    build(session, make_case, make_user, make_meeting)
    logged_in(is_admin=True)
    result = client.post(URL, data={"months": "12", "material_body": "TSS", "material_days": "4"})
    refused = client.post(URL, data={"months": "12", "draft": "name = 3"})
    assert (result.status_code, refused.status_code) == (200, 422)
    pages = {URL: result.get_data(as_text=True), URL + "?fejl": refused.get_data(as_text=True)}
    java = checker_or_none()
    if java is not None:
        errors, where = check_pages(java, pages, tmp_path)
        assert errors == [], report(errors, where)
    with phone_browser() as browser:
        for path, html in pages.items():
            assert phone_problems(browser, app, {path: html}) == {}
