"""The search page, the API's search and the reindex command, as a user and a client meet them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import AgendaItem, Case, Meeting, User
from workflow.cli import main
from workflow.engine import clock
from workflow.search import queries


def _closed_item(session: Session, meeting: Meeting, case: Case) -> AgendaItem:
    item = AgendaItem(
        meeting_id=meeting.id, case_id=case.id, position=1, title="Lukket punkt om løn",
        closed=True, background="Forhandling om saxofonkvartetter.",
    )  # fmt: skip
    session.add(item)
    session.commit()
    return item


def test_the_search_page_shows_ranked_marked_hits_with_their_place(
    client: FlaskClient,
    session: Session,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    make_meeting: Callable[..., Meeting],
) -> None:
    case = make_case(title="Saxofonkvartetter i psykiatrien", state="at_tss")
    _closed_item(session, make_meeting("TSS"), case)
    logged_in("member@SU-NORD-SOM")
    page = client.get("/soeg", query_string={"q": "saxofonkvartetten"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1 resultat" in html and "<mark>Saxofonkvartetter</mark>" in html
    assert f'href="/sager/{case.id}"' in html
    # The closed item's words are neither shown nor counted for a non-member of TSS.
    assert "Lukket punkt" not in html and "løn" not in html and "Dagsordenspunkt:" not in html
    assert client.get("/soeg").status_code == 200  # the empty form
    # Filters and pages that make no sense are ignored, not errors.
    odd = {"q": '"', "type": "x", "aar": "99999", "side": "0", "proces": "nej", "tilstand": "a:b"}
    assert client.get("/soeg", query_string=odd).status_code == 200


def test_a_member_finds_the_closed_item_and_is_led_to_it(
    client: FlaskClient,
    session: Session,
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    make_meeting: Callable[..., Meeting],
) -> None:
    case = make_case(title="Budget", state="at_tss")
    meeting = make_meeting("TSS", clock.now() - timedelta(days=1))
    item = _closed_item(session, meeting, case)
    logged_in("member@TSS")
    html = client.get("/soeg", query_string={"q": "saxofonkvartetterne", "type": "item"}).get_data(
        as_text=True
    )
    assert f'href="/moeder/{meeting.id}#punkt-{item.id}"' in html
    assert "<mark>saxofonkvartetter</mark>" in html


def test_the_api_search_answers_within_the_policy(
    api: Callable[..., Any],
    session: Session,
    make_case: Callable[..., Case],
    make_meeting: Callable[..., Meeting],
) -> None:
    case = make_case(title="Saxofonkvartetter i almen praksis", state="at_tss")
    _closed_item(session, make_meeting("TSS"), case)
    member, outsider = api("member@TSS"), api("member@SU-NORD-SOM")
    seen = member.get("/search?q=saxofonkvartetten").get_json()
    assert seen["total"] == 2 and seen["counts"] == {"case": 1, "item": 1}
    first = outsider.get("/search?q=saxofonkvartetten").get_json()
    assert first["total"] == 1 and first["counts"] == {"case": 1}
    hit = first["items"][0]
    assert hit["case_id"] == case.id and hit["link"] == f"/api/v1/cases/{case.id}"
    assert hit["title_html"] == "<mark>Saxofonkvartetter</mark> i almen praksis"
    assert outsider.get("/search").get_json()["total"] == 0
    assert outsider.get("/search?q=saxofon&type=nope").status_code == 400
    assert outsider.get("/search?q=saxofon&page=0").status_code == 400
    assert seen["capped"] is False


def test_past_the_cap_the_page_and_the_api_say_more_than(
    client: FlaskClient,
    api: Callable[..., Any],
    logged_in: Callable[..., User],
    make_case: Callable[..., Case],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queries, "RANKED", 2)
    for n in range(3):
        make_case(title=f"Kanelsnegle nummer {n}", state="at_tss")
    logged_in("member@TSS")
    html = client.get("/soeg", query_string={"q": "kanelsnegle"}).get_data(as_text=True)
    assert "Mere end 2 resultater" in html and "De 2 nyeste er rangeret" in html
    assert html.count('class="snippet"') == 2
    found = api("member@TSS").get("/search?q=kanelsnegle").get_json()
    assert found["capped"] is True and found["total"] == 2 and len(found["items"]) == 2


def test_reindex_command_rebuilds_the_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", url, "init-db"]).exit_code == 0
    first = runner.invoke(main, ["--database-url", url, "search", "reindex"])
    assert first.exit_code == 0, first.output
    assert "Søgeindekset er bygget: 0 dokumenter" in first.output
    again = runner.invoke(main, ["--database-url", url, "search", "reindex", "--no-files"])
    assert again.exit_code == 0 and "0 dokumenter" in again.output
