"""A signature initiative from draft to its implementation reports and follow-up, through the
API only (issue 17, items 1 and 5): the committee drafts and submits, TSS recommends, SKU
approves and spreads it to one planning area, each unit reports, the last report moves the case
on to its follow-up, TSS completes it, and its record for the archive verifies."""

from __future__ import annotations

import io

from sqlalchemy import select
from support.api import by_chairmanship, held_meeting, problem_of

from models import FocusArea, ImplementationStatus, PlanningArea
from workflow.cases import record_verify

PROPOSAL = {
    "summary": "Fælles indsats for borgere med kronisk sygdom.",
    "role_distribution": "Kommunen står for opfølgning, hospitalet for udredning.",
    "general_practice_role": "Almen praksis henviser og følger op.",
    "triple_aim_quality": "Færre genindlæggelser.",
    "triple_aim_economy": "Udgiftsneutral for parterne samlet.",
    "triple_aim_population": "Færre borgere bliver syge igen.",
    "triple_aim_experience": "Borgeren oplever ét samlet forløb.",
    "business_case": "Udgiftsneutral: færre genindlæggelser betaler opsporingen.",
}


def test_signature_initiative_from_draft_to_implementation_reports(api, session):
    su = api("chair@SU-NORD-SOM")
    area = session.scalar(select(PlanningArea).order_by(PlanningArea.code).limit(1))
    focus = session.scalar(select(FocusArea.id).order_by(FocusArea.id).limit(1))
    created = su.post(
        "/cases",
        json={"process": "signature_initiative", "originating_body": "SU-NORD-SOM",
              "title": "Opsporing af KOL", "focus_area_id": focus, "national_goal_ids": [1, 2],
              **PROPOSAL},
    )  # fmt: skip
    assert created.status_code == 201, created.get_data(as_text=True)
    case_id = created.get_json()["id"]
    submitted = by_chairmanship(api, "chair@SU-NORD-SOM", case_id, "submit")
    assert submitted.get_json()["state"] == "at_tss"
    recommended = by_chairmanship(api, "chair@TSS", case_id, "tss_recommend")
    assert recommended.get_json()["state"] == "at_sku"
    meeting = held_meeting(session, "SKU")
    waiting = api("secretariat@TSS").get(f"/cases/{case_id}/implementation").get_json()
    assert (waiting["implementing"], waiting["units"]) == (False, [])
    nowhere = api("chair@SKU").act(
        case_id, "sku_approve", data={"implementation_scope": "XX", "meeting_id": meeting}
    )
    assert problem_of(nowhere, 422)["rule"] == "implementation_scope_valid"
    approved = api("chair@SKU").act(
        case_id, "sku_approve", data={"implementation_scope": area.code, "meeting_id": meeting}
    )
    assert approved.get_json()["state"] == "implementation", approved.get_data(as_text=True)

    reporter = api("secretariat@TSS")
    picture = reporter.get(f"/cases/{case_id}/implementation").get_json()
    assert picture["implementing"] is True
    units = picture["units"]
    assert units and picture["progress"]["total"] == len(units)
    assert all(u["status"] == "not_started" and u["may_report"] for u in units)
    stored = session.scalars(
        select(ImplementationStatus).where(ImplementationStatus.case_id == case_id)
    ).all()
    assert {u.id for u in stored} == {u["id"] for u in units}

    first, *rest = units
    unexplained = reporter.post(
        f"/implementation-units/{first['id']}/reports", json={"status": "not_relevant"}
    )
    assert problem_of(unexplained, 422)["rule"] == "not_relevant_reason"
    future = reporter.post(
        f"/implementation-units/{first['id']}/reports",
        json={"status": "implemented", "implemented_on": "2199-01-01"},
    )
    assert problem_of(future, 422)["errors"][0]["field"] == "implemented_on"
    outsider = api("member@SU-SYD-SOM")  # sees the approved case, reports for no unit of it
    refused = outsider.post(
        f"/implementation-units/{first['id']}/reports", json={"status": "in_progress"}
    )
    assert problem_of(refused, 403)["rule"] == "may_report"

    started = reporter.post(
        f"/implementation-units/{first['id']}/reports", json={"status": "in_progress"}
    ).get_json()
    assert started["unit"]["status"] == "in_progress"
    assert started["unit"]["started_on"] is not None
    assert started["completed"] is False
    for unit in rest:
        reply = reporter.post(
            f"/implementation-units/{unit['id']}/reports",
            json={"status": "not_relevant", "reason": "Ingen borgere i målgruppen."},
        )
        assert reply.status_code == 200, reply.get_data(as_text=True)
    last = reporter.post(
        f"/implementation-units/{first['id']}/reports", json={"status": "implemented"}
    ).get_json()
    assert last["progress"]["complete"] is True
    assert last["completed"] is True
    case = reporter.get(f"/cases/{case_id}").get_json()
    assert case["state"] == last["case_state"] != "implementation"
    events = [e["trigger"] for e in reporter.get(f"/cases/{case_id}/events").get_json()["items"]]
    assert events.count("implementation_report") == len(units) + 1
    assert events[-1] == "report_implemented"
    late = reporter.post(
        f"/implementation-units/{first['id']}/reports", json={"status": "implemented"}
    )
    assert problem_of(late, 409)["rule"] == "case_implementing"

    # The follow-up: TSS concludes it, and the case is closed with its conclusion on record.
    assert case["state"] == "follow_up"
    unexplained = reporter.act(case_id, "complete")
    assert problem_of(unexplained, 422)["rules"] == ["field:comment"]
    completed = reporter.act(case_id, "complete", comment="Udbredt i hele planlægningsområdet.")
    assert completed.status_code == 200, completed.get_data(as_text=True)
    assert completed.get_json()["state"] == "completed"
    record = reporter.get(f"/cases/{case_id}/record")
    assert record.status_code == 200, record.get_data(as_text=True)
    assert record_verify.verify(io.BytesIO(record.get_data())).problems == []
