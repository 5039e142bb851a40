"""Hostile input through /api/v1: refused as problem documents with Danish and English
messages (4xx), never a 500 (issue 12). The same value rules as the web forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Case, User
from workflow.auth import tokens

PROBLEM = "application/problem+json"


@pytest.fixture
def call(
    client: FlaskClient, make_user: Callable[..., User], session: Session
) -> Callable[..., Any]:
    """Call the API as a member of SU-NORD-SOM and secretariat of TSS."""
    user = make_user("member@SU-NORD-SOM", "secretariat@TSS")
    headers = {"Authorization": f"Bearer {tokens.create_token(session, user, 'test').plain}"}

    def send(method: str, path: str, **kwargs: Any) -> Any:
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return send


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    document: dict[str, Any] = response.get_json()
    assert document["detail_da"] and document["detail_en"]
    return document


@pytest.mark.parametrize("title", ["Titel\r\nBcc: alle@example.dk", "Titel\n", "T\x00", "T\x85"])
def test_a_title_with_a_line_break_or_control_character_is_refused(
    call: Callable[..., Any], session: Session, make_case: Callable[..., Case], title: str
) -> None:
    before = session.scalar(select(func.count()).select_from(Case))
    created = call(
        "POST", "/cases",
        json={"process": "signature_initiative", "originating_body": "SU-NORD-SOM", "title": title},
    )  # fmt: skip
    document = problem(created, 400)
    assert "må ikke indeholde linjeskift eller andre kontroltegn" in document["detail_da"]
    assert "must not contain line breaks" in document["detail_en"]
    assert session.scalar(select(func.count()).select_from(Case)) == before
    case = make_case(title="Uændret")
    edited = call("PATCH", f"/cases/{case.id}", json={"expected_version": 1, "title": title})
    problem(edited, 400)
    session.refresh(case)
    assert case.title == "Uændret"


def test_long_text_keeps_line_breaks_as_lf(
    call: Callable[..., Any], make_case: Callable[..., Case], session: Session
) -> None:
    case = make_case()
    summary = "Første linje.\r\nAnden linje.\tMed tabulator."
    edited = call("PATCH", f"/cases/{case.id}", json={"expected_version": 1, "summary": summary})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["fields"]["summary"] == "Første linje.\nAnden linje.\tMed tabulator."
    refused = call("PATCH", f"/cases/{case.id}", json={"expected_version": 2, "summary": "Lyd\x07"})
    assert "kun linjeskift og tabulatorer" in problem(refused, 400)["detail_da"]


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_databases_range_in_the_address_is_not_found(
    call: Callable[..., Any], number: int
) -> None:
    for method, path in (
        ("GET", f"/cases/{number}"),
        ("GET", f"/cases/{number}/events"),
        ("GET", f"/meetings/{number}"),
        ("PATCH", f"/cases/{number}"),
        ("POST", f"/cases/{number}/transitions"),
    ):
        problem(call(method, path, json={"expected_version": 1, "trigger": "submit"}), 404)


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_databases_range_in_a_payload_is_refused(
    call: Callable[..., Any], make_case: Callable[..., Case], number: int
) -> None:
    case = make_case(state="at_tss")
    for payload in (
        {"expected_version": 1, "focus_area_id": number},
        {"expected_version": 1, "national_goal_ids": [number]},
    ):
        assert call("PATCH", f"/cases/{case.id}", json=payload).status_code == 400
    acted = call(
        "POST", f"/cases/{case.id}/transitions",
        json={"trigger": "approve", "expected_version": case.version,
              "data": {"meeting_id": number}},
    )  # fmt: skip
    assert acted.status_code in (400, 409, 422)
    assert call("GET", "/cases", query_string={"focus_area": str(number)}).status_code == 400


def test_a_date_that_does_not_exist_is_refused(
    call: Callable[..., Any], make_case: Callable[..., Case]
) -> None:
    case = make_case()
    for day in ("2021-02-30", "2021-13-01", "0000-01-01", "２０２１-01-01"):
        refused = call(
            "PATCH", f"/cases/{case.id}", json={"expected_version": 1, "received_on": day}
        )
        assert "skal være en dato" in problem(refused, 400)["detail_da"], day


def test_json_nested_100000_deep_is_a_bad_request(call: Callable[..., Any]) -> None:
    depth = 100_000
    body = '{"title": ' + "[" * depth + "]" * depth + "}"
    response = call("POST", "/cases", data=body, content_type="application/json")
    document = problem(response, 400)
    assert "for dybt indlejret" in document["detail_da"]
    assert "nested too deeply" in document["detail_en"]
