"""A meeting's whole life through the API only (issue 17, item 1): planned, an agenda with a
case and an item without one, moved, sent for review and published, held, attendance and the
outcome recorded, the minutes approved (which fires the decision on the case); another meeting
is cancelled. The page's operations and rules, refusals named."""

from __future__ import annotations

from datetime import timedelta

from support.api import by_chairmanship, problem_of

from workflow.engine import clock

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


def _at(days: int) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


def _submitted_case(api) -> int:
    created = api("chair@SU-NORD-SOM").post(
        "/cases",
        json={"process": "signature_initiative", "originating_body": "SU-NORD-SOM",
              "title": "Opsporing af KOL", "focus_area_id": 1, "national_goal_ids": [1],
              **PROPOSAL},
    ).get_json()  # fmt: skip
    submitted = by_chairmanship(api, "chair@SU-NORD-SOM", created["id"], "submit")
    assert submitted.get_json()["state"] == "at_tss"
    return created["id"]


def test_a_meeting_from_planning_to_approved_minutes_by_api_only(api):
    case_id = _submitted_case(api)
    secretariat = api("secretariat@TSS")
    chair = api("chair@TSS")

    refused = api("member@SU-SYD-SOM").post("/meetings", json={"body": "TSS", "starts_at": _at(9)})
    assert problem_of(refused, 403)["rule"] == "may_plan_meetings"
    planned = secretariat.post(
        "/meetings",
        json={"body": "TSS", "starts_at": _at(10), "title": "TSS-møde", "location": "Hillerød"},
    )
    assert planned.status_code == 201, planned.get_data(as_text=True)
    meeting = planned.get_json()
    path = f"/meetings/{meeting['id']}"
    assert (meeting["status"], meeting["title"]) == ("planned", "TSS-møde")

    with_case = secretariat.post(f"{path}/agenda", json={"case_id": case_id})
    assert with_case.status_code == 201, with_case.get_data(as_text=True)
    twice = secretariat.post(f"{path}/agenda", json={"case_id": case_id})
    assert problem_of(twice, 422)["detail"].startswith("Sagen står allerede på en dagsorden")
    secretariat.post(f"{path}/agenda", json={"title": "Eventuelt"})
    items = secretariat.get(path).get_json()["items"]
    assert [i["title"] for i in items][1:] == ["Opsporing af KOL", "Eventuelt"]
    case_item = items[1]

    moved = secretariat.post(f"{path}/move", json={"starts_at": _at(12), "comment": "Ferie"})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.get_json()["starts_at"][:10] == _at(12)[:10]

    for step in ("send_for_review", "publish"):
        stepped = secretariat.post(f"{path}/steps", json={"step": step})
        assert stepped.status_code == 200, (step, stepped.get_data(as_text=True))
    assert secretariat.get(path).get_json()["status"] == "published"
    too_early = secretariat.post(f"{path}/steps", json={"step": "hold"})
    assert problem_of(too_early, 422)["rule"] == "meeting_started"

    clock.advance(timedelta(days=12, hours=1))
    assert secretariat.post(f"{path}/steps", json={"step": "hold"}).get_json()["status"] == "held"
    present = secretariat.put(
        f"{path}/attendance",
        json={"present": [chair.user.id], "absent": [], "minute_taker": secretariat.user.id},
    )
    assert present.status_code == 200, present.get_data(as_text=True)
    outcome = secretariat.post(
        f"{path}/items/{case_item['id']}/outcome",
        json={"outcome": "recommended", "decision_text": "TSS indstiller til SKU."},
    )
    assert outcome.status_code == 200, outcome.get_data(as_text=True)
    approved = chair.post(f"{path}/steps", json={"step": "approve_minutes"})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["status"] == "minutes_approved"
    case = chair.get(f"/cases/{case_id}").get_json()
    assert case["state"] == "at_sku"
    events = chair.get(f"/cases/{case_id}/events").get_json()["items"]
    assert events[-1]["trigger"] == "tss_recommend"
    assert events[-1]["meeting_id"] == meeting["id"]


def test_a_meeting_is_cancelled_and_stays_cancelled(api):
    secretariat = api("secretariat@TSS")
    meeting = secretariat.post("/meetings", json={"body": "TSS", "starts_at": _at(20)}).get_json()
    path = f"/meetings/{meeting['id']}"
    cancelled = secretariat.post(f"{path}/cancel", json={"comment": "Intet at behandle."})
    assert cancelled.get_json()["status"] == "cancelled"
    again = secretariat.post(f"{path}/move", json={"starts_at": _at(21)})
    assert "aflyst" in problem_of(again, 422)["reasons"]["da"]
    problem_of(secretariat.post("/meetings/999999/cancel", json={}), 404)


def test_the_steps_the_api_takes_by_name_are_the_lifecycles_own(api):
    """The API names the steps of states/meeting.toml; cancelling is its own call, which also
    moves the material deadlines, so it is refused as a plain step and the meeting stays."""
    secretariat = api("secretariat@TSS")
    meeting = secretariat.post("/meetings", json={"body": "TSS", "starts_at": _at(20)}).get_json()
    path = f"/meetings/{meeting['id']}"
    refused = problem_of(secretariat.post(f"{path}/steps", json={"step": "cancel"}), 422)
    listed = refused["reasons"]["en"]
    for step in ("send_for_review", "return_to_draft", "publish", "hold", "approve_minutes",
                 "close", "reopen"):  # fmt: skip
        assert step in listed
    assert "cancel," not in listed and not listed.rstrip(".").endswith("cancel")
    assert secretariat.get(path).get_json()["status"] == "planned"
