"""Refusals through the API explain themselves as the page does: the rule's name, its reason
in Danish and English, and `detail` in the language the request asks for (issue 17, item 2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from support.api import problem_of

from models import CaseExpense, Party, PartyKind
from workflow.engine import core as engine


def _municipal_expense(session, case):
    party = session.scalar(select(Party).where(Party.kind == PartyKind.MUNICIPALITY).limit(1))
    session.add(CaseExpense(case_id=case.id, party_id=party.id, amount_dkk=Decimal("250000")))
    session.commit()


def test_mandate_refusal_names_within_mandate_with_the_pages_wording(api, make_case, session):
    case = make_case("forum_matter", origin="FORUM-DATA", principled=True, state="in_forum")
    page_wording = next(
        f for f in engine.check(case, "decide", None, "Besluttet.") if f.rule == "within_mandate"
    )
    chair = api("chair@FORUM-DATA")
    response = chair.act(case.id, "decide", comment="Forummet beslutter.")
    problem = problem_of(response, 422)
    assert problem["rule"] == "within_mandate"
    assert "within_mandate" in problem["rules"]
    assert page_wording.message in problem["reasons"]["da"]
    assert page_wording.message_en in problem["reasons"]["en"]
    assert "kan den ikke afgøres under TSS" in problem["detail"]


def test_financing_refusal_names_financing_follows(api, make_case, session):
    case = make_case(state="at_tss", business_case="", financing_proposal="")
    _municipal_expense(session, case)
    problem = problem_of(api("chair@TSS").act(case.id, "tss_recommend"), 422)
    # Named among the rules refused (the business case every agreement needs comes first).
    assert {"business_case_stated", "financing_follows"} <= set(problem["rules"])
    entry = next(e for e in problem["errors"] if e["rule"] == "financing_follows")
    assert "businesscase" in entry["message_da"]
    assert entry["message_en"] and entry["message_en"] != entry["message_da"]


@pytest.mark.parametrize(
    ("accept", "language"), [("en", "en"), ("en-GB,en;q=0.9", "en"), ("da", "da"), ("fr", "da")]
)
def test_detail_is_in_the_language_the_request_asks_for(api, make_case, accept, language):
    case = make_case(state="at_tss", triple_aim_economy="")
    caller = api("chair@TSS")
    version = caller.get(f"/cases/{case.id}").get_json()["version"]
    response = caller.post(
        f"/cases/{case.id}/transitions",
        json={"trigger": "tss_recommend", "expected_version": version},
        headers={"Accept-Language": accept},
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["detail"] == problem["reasons"][language]
    assert problem["rule"] == "triple_aim_described"
    title = "Rules not satisfied" if language == "en" else "Reglerne er ikke opfyldt"
    assert problem["title"] == title


def test_a_user_who_reads_english_gets_english_without_asking(api, make_case, session):
    case = make_case(state="at_tss", triple_aim_economy="")
    caller = api("chair@TSS")
    caller.user.locale = "en"
    session.commit()
    response = caller.act(case.id, "tss_recommend")
    problem = response.get_json()
    assert problem["detail"] == problem["reasons"]["en"] != problem["reasons"]["da"]


def test_conflicts_name_their_rule(api, make_case):
    case = make_case(state="at_tss")
    chair = api("chair@TSS")
    stale = chair.post(
        f"/cases/{case.id}/transitions",
        json={"trigger": "tss_return", "comment": "Mere", "expected_version": case.version + 5},
    )
    assert problem_of(stale, 409)["rule"] == "current_version"
    invalid = chair.act(case.id, "sku_approve")
    assert problem_of(invalid, 409)["rule"] == "valid_trigger"


def test_refused_creation_names_the_rule_and_the_unknown_reference(api):
    caller = api("member@SU-NORD-SOM")
    other_body = caller.post(
        "/cases",
        json={"process": "signature_initiative", "originating_body": "TSS", "title": "Forsøg"},
    )
    assert problem_of(other_body, 403)["rule"] == "member_of_originating_body"
    unknown = caller.post(
        "/cases", json={"process": "findes_ikke", "originating_body": "SU-NORD-SOM", "title": "X"}
    )
    problem = problem_of(unknown, 422)
    assert problem["rule"] == "known_process"
    assert problem["errors"][0]["rule"] == "known_process"


def test_automatic_escalation_is_reported_with_its_reason(api, make_case):
    case = make_case("forum_matter", origin="FORUM-DATA", political=True)
    result = api("secretariat@FORUM-DATA").act(case.id, "raise")
    assert result.status_code == 200, result.get_data(as_text=True)
    body = result.get_json()
    assert body["state"] == "at_tss"
    (routed,) = body["routed"]
    assert routed["trigger"] == "escalate"
    assert "skal den drøftes i TSS før beslutning" in routed["comment"]
    assert routed["data"]["reason_en"].startswith("The matter is principled")
