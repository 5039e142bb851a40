"""The yearly implementation plan through the API only (issue 17, item 1): opened in TSS, a
line added and changed, proposed, discussed, concluded and adopted by its process's transitions
(SKU at a held meeting, after the budgets), then closed to changes — the annual cycle's
operations and rules, refusals named."""

from __future__ import annotations

from datetime import date

from support.api import held_meeting, problem_of

from workflow.engine import clock
from workflow.engine.calendar import local_date

LINE = {"title": "Opsporing af KOL", "purpose": "Færre akutte indlæggelser."}


def test_a_plan_from_opening_to_adoption_by_api_only(api, session):
    year = local_date(clock.now()).year + 1
    tss = api("secretariat@TSS")
    sku = api("secretariat@SKU")
    problem_of(tss.get(f"/plans/{year}"), 404)

    opened = tss.post("/plans", json={"year": year})
    assert opened.status_code == 201, opened.get_data(as_text=True)
    plan = opened.get_json()
    assert opened.headers["Location"] == f"/api/v1/plans/{year}"
    assert (plan["state"], plan["lines_open"], plan["editable"]) == ("preparation", True, True)
    assert [t["trigger"] for t in plan["allowed_triggers"]] == ["submit_for_discussion"]
    twice = tss.post("/plans", json={"year": year})
    assert problem_of(twice, 422)["rule"] == "one_plan_per_year"

    added = tss.post(f"/plans/{year}/lines", json=LINE)
    assert added.status_code == 201, added.get_data(as_text=True)
    (line,) = added.get_json()["lines"]
    assert line["title"] == "Opsporing af KOL"
    outsider = api("member@SU-NORD-SOM").post(f"/plans/{year}/lines", json=LINE)
    assert problem_of(outsider, 403)["rule"] == "may_edit_plan"
    backwards = tss.put(
        f"/plans/{year}/lines/{line['id']}",
        json={**LINE, "starts_on": f"{year}-06-01", "ends_on": f"{year}-01-01"},
    )
    assert problem_of(backwards, 422)["rules"] == ["field:ends_on"]
    changed = tss.put(f"/plans/{year}/lines/{line['id']}", json={**LINE, "economy_dkk": "250000"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["lines"][0]["economy_dkk"] == "250000.00"

    case_id = plan["case_id"]
    at_meeting = {"meeting_id": held_meeting(session, "SKU")}  # SKU decides at its meetings
    assert tss.act(case_id, "submit_for_discussion").status_code == 200
    assert sku.act(case_id, "discuss", data=at_meeting).status_code == 200
    undocumented = tss.act(case_id, "conclude_dialogue")
    assert problem_of(undocumented, 422)["rule"] == "kkr_dialogue_recorded"
    dialogue = {
        "dialogue_on": local_date(clock.now()).isoformat(),
        "dialogue_participants": "KKR Hovedstadens formandskab",
        "dialogue_outcome": "Planen drøftet; kommunernes bemærkninger indarbejdes.",
    }
    assert tss.act(case_id, "record_kkr_dialogue", data=dialogue).status_code == 200
    assert tss.act(case_id, "conclude_dialogue").status_code == 200
    clock.set_time(clock.now().replace(year=year - 1, month=10, day=20))
    early = sku.act(case_id, "adopt", data=at_meeting)
    assert problem_of(early, 422)["rule"] == "after_budget_adoption"
    budgets = {
        "municipal_budgets_adopted_on": f"{year - 1}-10-13",
        "regional_budget_adopted_on": f"{year - 1}-10-06",
    }
    assert tss.act(case_id, "record_budget_adoption", data=budgets).status_code == 200
    at_meeting = {"meeting_id": held_meeting(session, "SKU")}
    adopted = sku.act(case_id, "adopt", data=at_meeting)
    assert adopted.status_code == 200, adopted.get_data(as_text=True)

    read = tss.get(f"/plans/{year}")
    assert read.headers["ETag"] == f'"case-{case_id}-v{read.get_json()["version"]}"'
    assert (read.get_json()["state"], read.get_json()["lines_open"]) == ("in_effect", False)
    closed = tss.post(f"/plans/{year}/lines", json=LINE)
    assert problem_of(closed, 422)["rule"] == "plan_adopted"
    problem_of(tss.put(f"/plans/{year}/lines/999999", json=LINE), 404)
    assert date.fromisoformat(read.get_json()["milestones"][0]["due"]).year in (year - 1, year)
