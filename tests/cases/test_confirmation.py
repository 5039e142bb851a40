"""An irreversible action (`confirm = true`) asks for confirmation on a page of its own, without
JavaScript, before it fires; the API does not ask (issue 11, item 6)."""

from __future__ import annotations

import re

from sqlalchemy import select
from support.formandskab import proposed_by_co_chair

from models import CaseEvent
from workflow.auth import tokens
from workflow.engine import core as engine


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def _triggers(session, case) -> list[str]:
    return list(
        session.scalars(
            select(CaseEvent.trigger).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )


def test_approval_asks_first_and_fires_only_when_confirmed(
    client, session, logged_in, make_case, make_meeting, text_of
):
    case = make_case(state="at_sku")
    logged_in("chair@SKU")
    meeting = make_meeting("SKU")  # SKU decides at its meetings (its terms)
    asked = client.post(
        f"/sager/{case.id}/handlinger/sku_approve",
        data={
            "expected_version": str(case.version),
            "comment": "Godkendt af SKU.",
            "meeting_id": str(meeting.id),
        },
    )
    assert asked.status_code == 200
    page = text_of(asked)
    assert "Du er ved at udføre »Godkend« på sagen »Testsag«." in page
    assert "Sagen går fra »Til beslutning i SKU« til »Udbredelse og implementering«." in page
    assert "Det kan ikke fortrydes." in page
    assert "Orienteres: KKR, KKU." in page
    assert "Godkendt af SKU." in page
    assert case.state == "at_sku"
    assert _triggers(session, case) == ["create"]

    html = asked.get_data(as_text=True)
    assert "<script" not in html.split("<main", 1)[1]  # a plain form, no JavaScript
    carried = _hidden(html)
    assert carried["confirmed"] == "ja"
    assert carried["expected_version"] == str(case.version)
    assert carried["comment"] == "Godkendt af SKU."
    assert f'href="/sager/{case.id}"' in html  # cancel: back to the case, nothing done

    done = client.post(f"/sager/{case.id}/handlinger/sku_approve", data=carried)
    assert done.status_code == 303
    assert case.state == "implementation"
    [approval] = [e for e in session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.trigger == "sku_approve")
    )]  # fmt: skip
    assert approval.comment == "Godkendt af SKU."


def test_a_reversible_action_fires_at_once(client, logged_in, make_case):
    case = make_case(state="at_tss")
    chair = logged_in("chair@TSS")
    proposed_by_co_chair(case, "tss_return", chair, comment="Økonomien mangler.")
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_return",
        data={"expected_version": str(case.version), "comment": "Økonomien mangler."},
    )
    assert response.status_code == 303
    assert case.state == "draft"


def test_a_refused_action_is_explained_without_asking(client, logged_in, make_case, text_of):
    case = make_case(state="draft")
    logged_in("chair@SU-NORD-SOM")
    response = client.post(
        f"/sager/{case.id}/handlinger/withdraw",
        data={"expected_version": str(case.version), "comment": " "},
    )
    assert response.status_code == 422
    assert "Feltet 'Begrundelse' skal udfyldes." in text_of(response)
    assert "Det kan ikke fortrydes." not in text_of(response)


def test_a_change_made_while_confirming_is_a_conflict(
    client, session, logged_in, make_case, make_user, text_of
):
    case = make_case(state="draft")
    logged_in("secretariat@SU-NORD-SOM")
    asked = client.post(
        f"/sager/{case.id}/handlinger/withdraw",
        data={"expected_version": str(case.version), "comment": "Dobbeltsag."},
    )
    assert asked.status_code == 200
    carried = _hidden(asked.get_data(as_text=True))
    # Someone else edits the case before the user confirms.
    engine.edit_case(case, make_user("member@SU-NORD-SOM"), {"summary": "Nyt resumé."})
    response = client.post(f"/sager/{case.id}/handlinger/withdraw", data=carried)
    assert response.status_code == 409
    assert case.state == "draft"


def test_the_api_fires_an_irreversible_action_without_asking(client, session, make_case, make_user):
    case = make_case(state="draft")
    user = make_user("chair@SU-NORD-SOM")
    token = tokens.create_token(session, user, "test").plain
    response = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={"trigger": "withdraw", "expected_version": case.version, "comment": "Dobbeltsag."},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert case.state == "withdrawn"
