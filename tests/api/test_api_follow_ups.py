"""The decision register and its follow-ups through the API only (issue 17, item 1): a follow-up
registered on a decided item, listed in the register with filters, read and reported done by
its owner — the page's operations, rows and rules, refusals named."""

from __future__ import annotations

from datetime import timedelta

from support.api import problem_of

from workflow.engine import clock
from workflow.engine.calendar import local_date


def _on_agenda(api, make_case):
    case = make_case(state="at_tss", title="Opsporing af KOL")
    secretariat = api("secretariat@TSS")
    starts = (clock.now() + timedelta(days=10)).isoformat()
    meeting = secretariat.post("/meetings", json={"body": "TSS", "starts_at": starts}).get_json()
    added = secretariat.post(f"/meetings/{meeting['id']}/agenda", json={"case_id": case.id})
    assert added.status_code == 201, added.get_data(as_text=True)
    item = next(i for i in added.get_json()["items"] if i["case_id"] == case.id)
    return case, secretariat, meeting, item


def test_a_follow_up_from_registration_to_done_by_api_only(api, make_case):
    case, secretariat, meeting, item = _on_agenda(api, make_case)
    owner = api("chair@SU-NORD-SOM")
    due = (local_date(clock.now()) + timedelta(days=30)).isoformat()
    path = f"/meetings/{meeting['id']}/items/{item['id']}/follow-ups"
    body = {"description": "Afrapportér til TSS", "owner_id": owner.user.id, "due_on": due}

    refused = api("member@SU-SYD-SOM").post(path, json=body)
    assert problem_of(refused, 403)["rule"]
    created = secretariat.post(path, json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    follow_up = created.get_json()
    assert created.headers["Location"] == f"/api/v1/follow-ups/{follow_up['id']}"
    assert follow_up["case_id"] == case.id and follow_up["case_title"] == "Opsporing af KOL"
    assert (follow_up["status"], follow_up["due_on"]) == ("open", due)
    assert follow_up["meeting"]["body"] == "TSS"
    assert follow_up["owner"] == {"id": owner.user.id, "name": owner.user.name}

    listed = secretariat.get("/follow-ups", query_string={"status": "open", "body": "TSS"})
    assert [f["id"] for f in listed.get_json()["items"]] == [follow_up["id"]]
    assert secretariat.get("/follow-ups", query_string={"body": "SKU"}).get_json()["items"] == []
    assert secretariat.get("/follow-ups", query_string={"status": "done"}).get_json()["items"] == []
    mine = owner.get("/follow-ups", query_string={"owner_id": owner.user.id}).get_json()
    assert [f["id"] for f in mine["items"]] == [follow_up["id"]]
    problem_of(secretariat.get("/follow-ups", query_string={"status": "glemt"}), 400)

    # Neither the owner nor the secretariat: not in their register, so not there at all.
    outsider = api("member@SU-SYD-SOM")
    problem_of(outsider.get(f"/follow-ups/{follow_up['id']}"), 404)
    problem_of(outsider.post(f"/follow-ups/{follow_up['id']}/done"), 404)

    done = owner.post(f"/follow-ups/{follow_up['id']}/done")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "done" and done.get_json()["done_at"]
    again = owner.post(f"/follow-ups/{follow_up['id']}/done")
    assert problem_of(again, 422)["rule"] == "follow_up_open"
    finished = secretariat.get("/follow-ups", query_string={"status": "done"}).get_json()
    assert [f["id"] for f in finished["items"]] == [follow_up["id"]]
    events = owner.get(f"/cases/{case.id}/events").get_json()["items"]
    assert [e["trigger"] for e in events][-2:] == ["follow_up_added", "follow_up_done"]


def test_a_follow_up_is_refused_with_its_rule(api, make_case):
    _case, secretariat, meeting, item = _on_agenda(api, make_case)
    path = f"/meetings/{meeting['id']}/items/{item['id']}/follow-ups"
    due = (local_date(clock.now()) + timedelta(days=5)).isoformat()
    blank = secretariat.post(
        path, json={"description": "   ", "owner_id": secretariat.user.id, "due_on": due}
    )
    assert problem_of(blank, 422)["rule"] == "follow_up_described"
    nobody = secretariat.post(path, json={"description": "X", "owner_id": 999999, "due_on": due})
    assert problem_of(nobody, 422)["rule"] == "known_owner"
    problem_of(secretariat.get("/follow-ups/999999"), 404)


def test_an_overdue_follow_up_is_listed_as_overdue(api, make_case):
    _case, secretariat, meeting, item = _on_agenda(api, make_case)
    due = (local_date(clock.now()) + timedelta(days=2)).isoformat()
    secretariat.post(
        f"/meetings/{meeting['id']}/items/{item['id']}/follow-ups",
        json={"description": "Send notat", "owner_id": secretariat.user.id, "due_on": due},
    )
    clock.advance(timedelta(days=4))
    overdue = secretariat.get("/follow-ups", query_string={"status": "overdue"}).get_json()
    assert [(f["status"], f["overdue"]) for f in overdue["items"]] == [("overdue", True)]
    assert (
        len(secretariat.get("/follow-ups", query_string={"status": "open"}).get_json()["items"])
        == 1
    )
