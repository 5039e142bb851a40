"""The what-if page: admins only, errors at the field (4xx, never 500), Danish and English."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from support.html_checker import check_pages, checker_or_none, report
from support.phone import phone_browser, phone_problems

from models import User

URL = "/admin/hvad-hvis"
# Today's replay with TSS's materialefrist at 4 working days instead of 8.
FOUR_DAYS = {"material_body": "TSS", "material_days": "4"}


def test_only_admins_may_replay(
    client: FlaskClient,
    logged_in: Callable[..., User],
    post_whatif: Callable[..., Any],
    text_of: Callable[[Any], str],
) -> None:
    assert client.get(URL).status_code == 302  # to the login page
    logged_in("chair@TSS", "secretariat@SKU")
    for response in (client.get(URL), post_whatif()):
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
    logged_in: Callable[..., User],
    signature_draft: Callable[..., str],
    post_whatif: Callable[..., Any],
    field_error: Callable[[str, str], str],
) -> None:
    logged_in(is_admin=True)
    response = post_whatif(draft=signature_draft('deadline = { kind = "moede" }'))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "states.at_tss.deadline.kind: ukendt fristtype &#39;moede&#39;" in field_error(
        html, "draft"
    )
    assert 'href="#draft"' in html  # the error summary links to the field
    # The draft is kept in the form, so the admin can correct it.
    assert "kind = &#34;moede&#34;" in html or 'kind = "moede"' in html


def test_bad_numbers_and_dates_are_refused_at_their_fields(
    logged_in: Callable[..., User],
    post_whatif: Callable[..., Any],
    field_error: Callable[[str, str], str],
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
        response = post_whatif(**data)
        assert response.status_code == 422, (data, response.status_code)
        assert field_error(response.get_data(as_text=True), field)


@pytest.mark.usefixtures("replaying_admin")
def test_the_page_says_which_cases_reach_an_earlier_meeting(
    post_whatif: Callable[..., Any],
    text_of: Callable[[Any], str],
) -> None:
    response = post_whatif(**FOUR_DAYS)
    assert response.status_code == 200
    text = text_of(response)
    assert "6 sager oprettet" in text
    assert "3 behandlinger når et tidligere møde (3 ét møde tidligere); 0 kommer til" in text
    assert "Indsendt 20.10 TSS 26. november 2020 29. oktober 2020 1" in text
    html = response.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in html
    assert '<title id="hvad-hvis-organ-titel">' in html


@pytest.mark.usefixtures("replaying_admin")
def test_a_pasted_draft_shows_its_deadline_breaches_by_state(
    signature_draft: Callable[..., str],
    post_whatif: Callable[..., Any],
    text_of: Callable[[Any], str],
) -> None:
    draft = signature_draft('deadline = { kind = "days_after_entry", days = 30 }')
    response = post_whatif(draft=draft)
    assert response.status_code == 200
    text = text_of(response)
    assert "Overskredne frister: i dag 0, i kladden 4." in text
    assert "Signaturindsats Til behandling i TSS 0 4" in text


def test_the_page_in_english(
    session: Session,
    replaying_admin: User,
    post_whatif: Callable[..., Any],
    text_of: Callable[[Any], str],
) -> None:
    replaying_admin.locale = "en"
    session.commit()
    text = text_of(post_whatif(**FOUR_DAYS))
    assert "What if: replay the cases" in text
    assert "3 treatments reach an earlier meeting (3 one meeting earlier)" in text
    refused = post_whatif(material_days="4")
    assert "Choose the body whose deadline for papers changes." in text_of(refused)


# The markup does not depend on the database: checked in the SQLite run, as the crawl does.
@pytest.mark.sqlite_only
@pytest.mark.usefixtures("replaying_admin")
def test_the_result_and_the_refusal_are_valid_fit_a_phone_and_pass_axe(
    app: Flask,
    post_whatif: Callable[..., Any],
    tmp_path: Path,
) -> None:
    result = post_whatif(**FOUR_DAYS)
    refused = post_whatif(draft="name = 3")
    assert (result.status_code, refused.status_code) == (200, 422)
    pages = {URL: result.get_data(as_text=True), URL + "?fejl": refused.get_data(as_text=True)}
    java = checker_or_none()
    if java is not None:
        errors, where = check_pages(java, pages, tmp_path)
        assert errors == [], report(errors, where)
    with phone_browser() as browser:
        for path, html in pages.items():
            assert phone_problems(browser, app, {path: html}) == {}
