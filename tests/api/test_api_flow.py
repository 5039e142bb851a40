"""Done when: a script with tokens takes a signature initiative from draft to SKU approval
through the API alone, and is told the financing rule when it skips the business case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models import Meeting, MeetingStatus
from workflow.auth import tokens
from workflow.engine import clock
from workflow.engine.formandskab import PROPOSED


class Script:
    """What an integration does: HTTP calls with one token each, nothing else."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.open(f"/api/v1{path}", method=method, json=body, headers=self.headers)

    def act(self, case_id: int, trigger: str, **body: Any) -> Any:
        version = self.call("GET", f"/cases/{case_id}").get_json()["version"]
        return self.call(
            "POST",
            f"/cases/{case_id}/transitions",
            {"trigger": trigger, "expected_version": version, **body},
        )


def test_signature_initiative_from_draft_to_sku_approval_through_the_api(
    client, session, make_user, body
):
    su_chair = make_user("chair@SU-NORD-SOM")
    su_co_chair = make_user("vice_chair@SU-NORD-SOM")
    tss_chair = make_user("chair@TSS")
    tss_co_chair = make_user("vice_chair@TSS")
    sku_secretariat = make_user("secretariat@SKU")
    sku_meeting = Meeting(
        body_id=body("SKU").id,
        title="SKU-møde",
        starts_at=clock.now() - timedelta(hours=1),
        status=MeetingStatus.HELD,
    )
    session.add(sku_meeting)
    session.commit()
    su, su2, tss, tss2, sku = (
        Script(client, tokens.create_token(session, user, "script").plain)
        for user in (su_chair, su_co_chair, tss_chair, tss_co_chair, sku_secretariat)
    )

    # The SU opens a draft that gives municipalities new tasks with extra expense.
    created = su.call(
        "POST",
        "/cases",
        {
            "process": "signature_initiative",
            "originating_body": "SU-NORD-SOM",
            "title": "Fælles forløb for borgere med KOL",
            "cost_driving": True,
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    case_id = created.get_json()["id"]

    # Submitting an incomplete draft is refused with the rules that fail.
    refused = su.act(case_id, "submit")
    assert refused.status_code == 422
    assert {e["rule"] for e in refused.get_json()["errors"]} >= {
        "focus_and_goals_stated",
        "role_distribution_stated",
    }

    # The SU fills in the fields through PATCH, with the version it read.
    version = su.call("GET", f"/cases/{case_id}").get_json()["version"]
    edited = su.call(
        "PATCH",
        f"/cases/{case_id}",
        {
            "expected_version": version,
            "summary": "Sammenhængende forløb på tværs af sektorer.",
            "focus_area_id": 1,
            "national_goal_ids": [1, 2],
            "role_distribution": "Kommunen følger op; hospitalet udreder.",
            "general_practice_role": "Almen praksis henviser.",
            "triple_aim_quality": "Færre genindlæggelser.",
            "triple_aim_economy": "Kommunale merudgifter på 2 mio. kr. årligt.",
            "triple_aim_population": "Færre borgere bliver syge igen.",
            "triple_aim_experience": "Ét samlet forløb.",
        },
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)

    # A formandskab decision: one co-chair's action is a proposal, the other's takes it.
    proposed = su.act(case_id, "submit", comment="Indstilles til TSS")
    assert proposed.status_code == 200, proposed.get_data(as_text=True)
    assert proposed.get_json()["state"] == "draft"
    assert proposed.get_json()["event"]["trigger"] == "formandskab_proposed"
    submitted = su2.act(case_id, "submit", comment="Indstilles til TSS")
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    assert submitted.get_json()["state"] == "at_tss"

    # TSS recommends without a business case: 422 naming the financing rule, in both languages.
    skipped = tss.act(case_id, "tss_recommend")
    assert skipped.status_code == 422
    assert skipped.content_type == "application/problem+json"
    financing = next(e for e in skipped.get_json()["errors"] if e["rule"] == "financing_follows")
    assert "businesscase" in financing["message_da"]
    assert "business case" in financing["message_en"]
    assert tss.call("GET", f"/cases/{case_id}").get_json()["state"] == "at_tss"

    # Add the business case and financing, then TSS recommends and SKU approves at its meeting.
    version = tss.call("GET", f"/cases/{case_id}").get_json()["version"]
    financed = tss.call(
        "PATCH",
        f"/cases/{case_id}",
        {
            "expected_version": version,
            "business_case": "Investering 2 mio., gevinst 3 mio. over tre år.",
            "financing_proposal": "Finansieres af regionens pulje for sammenhæng.",
        },
    )
    assert financed.status_code == 200, financed.get_data(as_text=True)
    assert tss.act(case_id, "tss_recommend").get_json()["state"] == "at_tss"  # proposed
    recommended = tss2.act(case_id, "tss_recommend")
    assert recommended.status_code == 200, recommended.get_data(as_text=True)
    assert recommended.get_json()["state"] == "at_sku"

    approved = sku.act(case_id, "sku_approve", data={"meeting_id": sku_meeting.id})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    result = approved.get_json()
    assert result["state"] == "implementation"
    assert result["event"]["meeting_id"] == sku_meeting.id

    history = sku.call("GET", f"/cases/{case_id}/events").get_json()["items"]
    assert [e["trigger"] for e in history if e["trigger"] not in ("edit", PROPOSED)] == [
        "create",
        "submit",
        "tss_recommend",
        "sku_approve",
        "implementation_units",  # approval creates the units that must implement it
    ]
