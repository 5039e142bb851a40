"""/api/v1: every endpoint and status code, bearer tokens, problems and the OpenAPI document."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from support.api import problem_of

from models import (
    ApiToken,
    Case,
    CaseExpense,
    Notification,
    Party,
    PartyKind,
)
from workflow.api.spec import openapi_path
from workflow.auth import tokens
from workflow.engine import clock
from workflow.meetings import agenda
from workflow.meetings import operations as meetings


def add_municipal_expense(session: Session, case: Case) -> None:
    party = session.scalar(select(Party).where(Party.kind == PartyKind.MUNICIPALITY).limit(1))
    session.add(CaseExpense(case_id=case.id, party_id=party.id, amount_dkk=Decimal("250000")))
    session.commit()


# --- Authentication and tokens ---


def test_missing_token_is_401_with_bearer_challenge(client):
    response = client.get("/api/v1/cases")
    problem = problem_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in problem["detail"]


@pytest.mark.parametrize("header", ["Bearer afl_forkert", "Basic dXNlcjpwdw==", "Bearer "])
def test_wrong_or_malformed_token_is_401(client, header):
    response = client.get("/api/v1/cases", headers={"Authorization": header})
    problem_of(response, 401)
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_token_is_stored_as_its_sha256_only(api, session):
    caller = api("member@SU-NORD-SOM")
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == caller.user.id))
    assert row.token_hash == hashlib.sha256(caller.token.encode()).hexdigest()
    assert caller.token.startswith("afl_") and len(caller.token) >= 40
    stored = session.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": row.id})
    assert caller.token not in " ".join(str(v) for v in stored.one())


def test_use_records_last_used_time(api, session):
    caller = api("member@SU-NORD-SOM")
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == caller.user.id))
    assert row.last_used_at is None
    assert caller.get("/bodies").status_code == 200
    assert row.last_used_at == clock.now()


def test_revoked_token_is_refused(api, session):
    caller = api("member@SU-NORD-SOM")
    assert caller.get("/bodies").status_code == 200
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == caller.user.id))
    tokens.revoke_token(session, row)
    problem_of(caller.get("/bodies"), 401)


def test_token_of_an_inactive_user_is_refused(api, session):
    caller = api("chair@TSS")
    caller.user.active = False
    session.commit()
    problem = problem_of(caller.get("/bodies"), 401)
    assert "deaktiveret" in problem["detail"]


def test_api_needs_no_csrf_token_but_a_bearer_token(make_app, api, make_case):
    csrf_app: Flask = make_app(WTF_CSRF_ENABLED=True)
    caller = api("member@SU-NORD-SOM")
    caller.client = csrf_app.test_client()
    response = caller.post(
        "/cases",
        json={"process": "signature_initiative", "originating_body": "SU-NORD-SOM", "title": "X"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_logged_in_browser_session_does_not_authenticate_the_api(client, logged_in):
    logged_in("member@SU-NORD-SOM")
    problem_of(client.get("/api/v1/cases"), 401)


# --- Cases ---


def test_list_cases_filters_and_pages_with_an_opaque_cursor(api, make_case, body):
    caller = api("member@SU-NORD-SOM")
    ours = [make_case(title=f"Nordsag {n}") for n in range(3)]
    other = make_case(origin="SU-SYD-SOM", title="Sydsag", state="at_tss")
    make_case(origin="SU-SYD-SOM", title="Sydkladde")  # another body's draft: not shown
    at_tss = make_case(state="at_tss", title="Ved TSS")

    response = caller.get("/cases", query_string={"body": "SU-SYD-SOM"})
    assert [c["id"] for c in response.get_json()["items"]] == [other.id]

    states = caller.get("/cases", query_string={"state": "at_tss"}).get_json()["items"]
    assert at_tss.id in {c["id"] for c in states}
    assert {c["state"] for c in states} == {"at_tss"}

    found = caller.get("/cases", query_string={"q": "nordsag"}).get_json()["items"]
    assert {c["id"] for c in found} == {c.id for c in ours}

    first = caller.get("/cases", query_string={"q": "nordsag", "limit": 2}).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = caller.get(
        "/cases", query_string={"q": "nordsag", "limit": 2, "cursor": first["next_cursor"]}
    ).get_json()
    assert second["next_cursor"] is None
    paged = [c["id"] for c in first["items"] + second["items"]]
    assert paged == sorted((c.id for c in ours), reverse=True)


def test_list_cases_by_focus_area_national_goal_and_overdue(api, make_case, session):
    caller = api("member@SU-NORD-SOM")
    with_goals = make_case(title="Med mål")
    without = make_case(title="Uden mål", goals=False)
    focus = with_goals.focus_area_id

    by_focus = caller.get("/cases", query_string={"focus_area": focus, "q": "mål"}).get_json()
    assert [c["id"] for c in by_focus["items"]] == [with_goals.id]
    by_goal = caller.get("/cases", query_string={"national_goal": 1, "q": "mål"}).get_json()
    assert [c["id"] for c in by_goal["items"]] == [with_goals.id]

    late = make_case(state="implementation", title="Forsinket mål")
    session.execute(
        text("UPDATE deadlines SET due_at = :due WHERE case_id = :id"),
        {"due": clock.now() - timedelta(days=3), "id": late.id},
    )
    session.execute(
        text(
            "INSERT INTO deadlines (case_id, kind, state, due_at, reminder_days, escalation_level,"
            " created_at) VALUES (:id, 'state', 'implementation', :due, '[]', 0, :now)"
        ),
        {"id": late.id, "due": clock.now() - timedelta(days=3), "now": clock.now()},
    )
    session.commit()
    overdue = caller.get("/cases", query_string={"overdue": "true", "q": "mål"}).get_json()
    assert [c["id"] for c in overdue["items"]] == [late.id]
    on_time = caller.get("/cases", query_string={"overdue": "false", "q": "mål"}).get_json()
    assert {c["id"] for c in on_time["items"]} == {with_goals.id, without.id}


@pytest.mark.parametrize(
    "query",
    [{"cursor": "ikke-en-cursor"}, {"limit": 0}, {"limit": "mange"}, {"overdue": "måske"},
     {"focus_area": "x"}, {"updated_since": "i går"}],
)  # fmt: skip
def test_bad_list_parameters_are_400_problems(api, query):
    caller = api("member@SU-NORD-SOM")
    problem = problem_of(caller.get("/cases", query_string=query), 400)
    assert problem["errors"][0]["message_da"] and problem["errors"][0]["message_en"]


def test_create_a_draft(api, session):
    caller = api("member@SU-NORD-SOM")
    response = caller.post(
        "/cases",
        json={
            "process": "signature_initiative",
            "originating_body": "SU-NORD-SOM",
            "title": "Ældres overgange",
            "summary": "Sammenhæng for ældre medicinske patienter.",
            "cost_driving": True,
            "national_goal_ids": [1, 3],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert response.headers["Location"] == f"/api/v1/cases/{created['id']}"
    assert response.content_type == "application/json"
    assert "Ældres" in response.get_data(as_text=True)  # UTF-8, not \u escapes
    assert (created["state"], created["version"]) == ("draft", 1)
    assert created["originating_body"]["code"] == "SU-NORD-SOM"
    assert created["fields"]["cost_driving"] is True
    assert [g["id"] for g in created["national_goals"]] == [1, 3]
    assert created["created_at"].endswith("+00:00")
    case = session.get(Case, created["id"])
    assert case.created_by_id == caller.user.id


def test_create_is_403_for_a_non_member_and_422_for_unknown_references(api):
    outsider = api("member@SU-SYD-SOM")
    body = {"process": "signature_initiative", "originating_body": "SU-NORD-SOM", "title": "X"}
    problem = problem_of(outsider.post("/cases", json=body), 403)
    assert "SU-NORD-SOM" in problem["detail"]
    assert problem["allowed"] == ["member@SU-NORD-SOM"]

    member = api("member@SU-NORD-SOM")
    for change, field in [
        ({"process": "ukendt_proces"}, "process"),
        ({"originating_body": "INGEN"}, "originating_body"),
        ({"focus_area_id": 9999}, "focus_area_id"),
        ({"national_goal_ids": [9999]}, "national_goal_ids"),
    ]:
        problem = problem_of(member.post("/cases", json={**body, **change}), 422)
        assert problem["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "payload",
    [
        {"process": "signature_initiative", "originating_body": "SU-NORD-SOM"},
        {"process": "signature_initiative", "originating_body": "SU-NORD-SOM", "title": 7},
        {"process": "signature_initiative", "originating_body": "SU-NORD-SOM", "title": "a\x00b"},
        {"process": "signature_initiative", "originating_body": "SU-NORD-SOM", "title": "X",
         "ukendt": 1},
        [],
    ],
)  # fmt: skip
def test_malformed_create_bodies_are_400(api, payload):
    problem_of(api("member@SU-NORD-SOM").post("/cases", json=payload), 400)


def test_non_json_body_is_400(api):
    caller = api("member@SU-NORD-SOM")
    response = caller.post("/cases", data=b"{ikke json", content_type="application/json")
    problem_of(response, 400)


def test_get_case_shows_fields_deadlines_and_the_callers_triggers(api, make_case):
    case = make_case(state="at_tss")
    chair = api("chair@TSS")
    detail = chair.get(f"/cases/{case.id}").get_json()
    assert (detail["state"], detail["version"]) == ("at_tss", case.version)
    assert detail["state_label"] == "Til behandling i TSS"
    triggers = {t["trigger"]: t for t in detail["allowed_triggers"]}
    assert set(triggers) == {"tss_recommend", "tss_return", "tss_reject"}
    assert triggers["tss_recommend"]["as_chair"] is True
    assert triggers["tss_return"]["fields"][0]["name"] == "comment"
    member = api("member@SU-NORD-SOM")
    assert member.get(f"/cases/{case.id}").get_json()["allowed_triggers"] == []
    assert "fields" in detail and "role_distribution" in detail["fields"]
    assert isinstance(detail["deadlines"], list)


def test_unknown_case_is_a_404_problem(api):
    caller = api("member@SU-NORD-SOM")
    problem = problem_of(caller.get("/cases/999999"), 404)
    assert "999999" in problem["detail"]
    problem_of(caller.get("/cases/99999999999999999999"), 404)
    act = {"trigger": "submit", "expected_version": 1}
    problem_of(caller.post("/cases/999999/transitions", json=act), 404)
    problem_of(caller.get("/cases/999999/events"), 404)


def test_patch_edits_fields_through_the_engine_with_the_version(api, make_case, session):
    case = make_case()
    before = case.version
    caller = api("member@SU-NORD-SOM")
    response = caller.patch(
        f"/cases/{case.id}",
        json={"expected_version": case.version, "business_case": "Sparer 2 mio.",
              "received_on": "2020-08-30"},
    )  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    edited = response.get_json()
    assert edited["fields"]["business_case"] == "Sparer 2 mio."
    assert edited["fields"]["received_on"] == "2020-08-30"
    assert edited["version"] == before + 1
    events = caller.get(f"/cases/{case.id}/events").get_json()["items"]
    assert events[-1]["trigger"] == "edit"
    assert events[-1]["data"]["fields"] == ["business_case", "received_on"]

    # Another body's draft does not exist for an outsider; a shared case is readable but not
    # theirs to change.
    outsider = api("member@SU-SYD-SOM")
    payload = {"expected_version": case.version, "summary": "Udefra"}
    problem_of(outsider.patch(f"/cases/{case.id}", json=payload), 404)
    shared = make_case(state="at_tss")
    payload = {"expected_version": shared.version, "summary": "Udefra"}
    problem_of(outsider.patch(f"/cases/{shared.id}", json=payload), 403)


def test_patch_with_a_stale_version_is_409(api, make_case):
    case = make_case()
    caller = api("member@SU-NORD-SOM")
    caller.patch(f"/cases/{case.id}", json={"expected_version": case.version, "summary": "A"})
    problem = problem_of(
        caller.patch(f"/cases/{case.id}", json={"expected_version": 1, "summary": "B"}), 409
    )
    assert problem["expected_version"] == 1
    assert problem["actual_version"] == case.version


# --- Transitions: 200, 403, 409, 422 ---


def test_transition_returns_the_new_state_and_version(api, make_case):
    case = make_case()
    co_chair = api("vice_chair@SU-NORD-SOM")
    proposal = co_chair.act(case.id, "submit", comment="Klar til TSS").get_json()
    assert (proposal["state"], proposal["event"]["trigger"]) == ("draft", "formandskab_proposed")
    chair = api("chair@SU-NORD-SOM")
    response = chair.act(case.id, "submit", comment="Klar til TSS")
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["state"] == "at_tss"
    assert result["version"] == case.version
    assert result["current_body"]["code"] == "TSS"
    assert result["event"]["trigger"] == "submit"
    assert result["event"]["actor"]["id"] == chair.user.id
    assert result["event"]["data"]["on_behalf_of_body"] is True
    assert result["event"]["data"]["co_chairs"] == [co_chair.user.id, chair.user.id]


def test_an_su_member_cannot_decide_at_sku(api, make_case, meeting):
    case = make_case(state="at_sku")
    su_member = api("member@SU-NORD-SOM", "chair@SU-NORD-SOM")
    response = su_member.act(case.id, "sku_approve", data={"meeting_id": meeting("SKU").id})
    problem = problem_of(response, 403)
    assert problem["allowed"] == ["chair@SKU", "secretariat@SKU"]
    assert "formandskabet for SKU" in problem["detail"]
    assert "the chairs of SKU" in problem["detail_en"]
    assert su_member.get(f"/cases/{case.id}").get_json()["state"] == "at_sku"


def test_stale_version_is_409_and_lists_the_valid_triggers(api, make_case):
    case = make_case(state="at_tss")
    chair = api("chair@TSS")
    body = {"trigger": "tss_recommend", "expected_version": case.version + 5}
    problem = problem_of(chair.post(f"/cases/{case.id}/transitions", json=body), 409)
    assert problem["type"].endswith("stale-version")
    assert problem["actual_version"] == case.version
    assert problem["valid_triggers"] == ["tss_recommend", "tss_return", "tss_reject"]


def test_trigger_invalid_in_this_state_is_409_with_the_valid_ones(api, make_case):
    case = make_case(state="at_tss")
    problem = problem_of(api("chair@SKU").act(case.id, "sku_approve"), 409)
    assert problem["type"].endswith("invalid-trigger")
    assert problem["valid_triggers"] == ["tss_recommend", "tss_return", "tss_reject"]
    assert "Til behandling i TSS" in problem["detail"]


def test_failed_guard_is_422_with_each_rule_in_danish_and_english(api, make_case):
    case = make_case(state="at_tss", triple_aim_economy="")
    problem = problem_of(api("chair@TSS").act(case.id, "tss_recommend"), 422)
    rules = {e["rule"]: e for e in problem["errors"]}
    assert "triple_aim_described" in rules
    assert (
        rules["triple_aim_described"]["message_da"] != rules["triple_aim_described"]["message_en"]
    )


def test_missing_required_field_is_422_naming_the_field(api, make_case):
    case = make_case(state="at_tss")
    problem = problem_of(api("chair@TSS").act(case.id, "tss_return"), 422)
    assert problem["errors"][0]["field"] == "comment"


@pytest.mark.parametrize(
    "payload",
    [{"expected_version": 1}, {"trigger": "submit", "expected_version": "1"},
     {"trigger": "submit", "expected_version": 1, "data": {"meeting_id": "x"}},
     {"trigger": "submit", "expected_version": 1, "data": {"note": [1, 2]}}],
)  # fmt: skip
def test_malformed_transition_bodies_are_400(api, make_case, payload):
    case = make_case()
    caller = api("chair@SU-NORD-SOM")
    problem_of(caller.post(f"/cases/{case.id}/transitions", json=payload), 400)


def test_events_list_the_audit_trail(api, make_case):
    case = make_case()
    chair = api("chair@SU-NORD-SOM")
    api("vice_chair@SU-NORD-SOM").act(case.id, "submit")  # the co-chair proposes
    chair.act(case.id, "submit")  # and the chair consents
    events = chair.get(f"/cases/{case.id}/events").get_json()["items"]
    assert [(e["seq"], e["trigger"], e["to_state"]) for e in events] == [
        (1, "create", "draft"),
        (2, "formandskab_proposed", "draft"),
        (3, "submit", "at_tss"),
    ]
    assert len(events[1]["hash"]) == 64


# --- Organisation, meetings, processes, notifications ---


def test_bodies(api):
    bodies = api("member@SU-NORD-SOM").get("/bodies").get_json()["items"]
    codes = [b["code"] for b in bodies]
    assert {"SKU", "TSS", "SU-NORD-SOM", "KKR"} <= set(codes)
    assert codes == sorted(codes)


def test_meetings_list_and_detail(api, meeting):
    caller = api("member@SU-NORD-SOM")
    held = meeting("TSS")
    listed = caller.get("/meetings", query_string={"body": "TSS"}).get_json()["items"]
    assert held.id in [m["id"] for m in listed]
    assert {m["body"]["code"] for m in listed} == {"TSS"}
    detail = caller.get(f"/meetings/{held.id}").get_json()
    assert (detail["status"], detail["items"]) == ("held", [])
    assert detail["starts_at"].endswith("+00:00")
    problem_of(caller.get("/meetings/999999"), 404)
    problem_of(caller.get("/meetings", query_string={"status": "glemt"}), 400)


@pytest.fixture
def agenda_with_secrets(session, make_user, make_case, body):
    """A planned TSS meeting with an open item, a closed item (decided) and a removed item,
    and an SU-SYD-SOM meeting with the committee's own draft on its agenda."""
    sec = make_user("secretariat@TSS")
    tss = meetings.plan_meeting(session, body("TSS"), clock.now() + timedelta(days=30), sec)
    shared = make_case(state="at_tss", title="Åbent punkt om forløb")
    secret = make_case(state="at_tss", title="Fortrolig økonomiforhandling")
    gone = make_case(state="at_tss", title="Fjernet punkt")
    agenda.add_case(session, tss, shared, sec)
    closed = agenda.add_case(
        session, tss, secret, sec, closed=True, public_summary="Udgiftsfordeling for hjælpemidler."
    )
    removed = agenda.add_case(session, tss, gone, sec)
    agenda.remove_item(session, removed, sec)
    closed.outcome, closed.decision_text = "rejected", "Afvist i lukket møde."
    su_sec = make_user("secretariat@SU-SYD-SOM")
    su = meetings.plan_meeting(
        session, body("SU-SYD-SOM"), clock.now() + timedelta(days=30), su_sec
    )
    draft = make_case(origin="SU-SYD-SOM", title="Syds kladde")
    agenda.add_case(session, su, draft, su_sec)
    session.commit()
    return {"tss": tss, "su": su, "secret": secret, "shared": shared, "draft": draft}


def test_a_closed_item_is_given_to_non_members_in_its_public_edition(api, agenda_with_secrets):
    tss = agenda_with_secrets["tss"]
    outsider = api("member@SU-NORD-SOM").get(f"/meetings/{tss.id}").get_json()["items"]
    titles = [i["title"] for i in outsider]
    assert "Fjernet punkt" not in titles  # removed items are not on the agenda
    # As on the meeting page and in the public agenda: the title, not the case or the outcome.
    closed = next(i for i in outsider if i["closed"])
    assert closed["title"] == "Fortrolig økonomiforhandling"
    assert (closed["case_id"], closed["outcome"]) == (None, None)
    assert "Afvist" not in str(outsider) and "rejected" not in str(outsider)
    shared = next(i for i in outsider if i["title"] == "Åbent punkt om forløb")
    assert shared["case_id"] == agenda_with_secrets["shared"].id
    for member in (api("member@TSS"), api(is_admin=True)):
        items = member.get(f"/meetings/{tss.id}").get_json()["items"]
        closed = next(i for i in items if i["closed"])
        assert closed["title"] == "Fortrolig økonomiforhandling"
        assert closed["case_id"] == agenda_with_secrets["secret"].id
        assert closed["outcome"] == "rejected"


def test_an_item_on_a_case_the_caller_may_not_see_names_no_case(api, agenda_with_secrets):
    su, draft = agenda_with_secrets["su"], agenda_with_secrets["draft"]
    items = api("member@TSS").get(f"/meetings/{su.id}").get_json()["items"]
    assert draft.id not in [i["case_id"] for i in items]
    # The agenda's text is the committee's, as its meeting page shows it to everyone.
    assert (items[-1]["title"], items[-1]["case_id"]) == ("Syds kladde", None)
    items = api("member@SU-SYD-SOM").get(f"/meetings/{su.id}").get_json()["items"]
    assert (items[-1]["title"], items[-1]["case_id"]) == ("Syds kladde", draft.id)


def test_a_user_without_memberships_sees_no_meetings(api, meeting):
    held = meeting("TSS")
    nobody = api()
    problem_of(nobody.get(f"/meetings/{held.id}"), 404)
    assert nobody.get("/meetings").get_json()["items"] == []


def test_notifications_of_a_case_the_caller_may_not_see_are_left_out(
    api, session, make_case, make_user
):
    caller = api("chair@TSS")
    draft = make_case(origin="SU-SYD-SOM", title="Syds kladde")
    shared = make_case(origin="SU-SYD-SOM", state="at_tss", title="Til TSS")
    for index, case in enumerate([draft, shared, None]):
        session.add(
            Notification(
                idempotency_key=f"api-visible-{index}", message_id=f"<api-visible-{index}@af>",
                recipient_id=caller.user.id, kind="reminder", subject=f"Besked {index}",
                body="…", case_id=case.id if case else None,
            )
        )  # fmt: skip
    session.commit()
    mine = caller.get("/me/notifications").get_json()["items"]
    assert [n["subject"] for n in mine] == ["Besked 2", "Besked 1"]


def test_processes_definition_and_diagram(api):
    caller = api("member@SU-NORD-SOM")
    names = {p["name"] for p in caller.get("/processes").get_json()["items"]}
    assert {"signature_initiative", "forum_matter"} <= names
    definition = caller.get("/processes/signature_initiative").get_json()
    approve = next(t for t in definition["transitions"] if t["trigger"] == "sku_approve")
    assert approve["allowed"] == ["chair@SKU", "secretariat@SKU"]
    assert approve["guards"] == [
        "business_case_stated",
        "financing_follows",
        "implementation_scope_valid",
    ]
    assert {s["name"] for s in definition["states"]} >= {"draft", "at_tss", "at_sku"}
    postpone = next(t for t in definition["transitions"] if t["trigger"] == "sku_postpone")
    assert postpone["records_only"] is False  # a postponement enters the state again
    plan = caller.get("/processes/implementation_plan").get_json()
    assert {t["trigger"] for t in plan["transitions"] if t["records_only"]} == {
        "record_kkr_dialogue", "record_budget_adoption"
    }  # fmt: skip
    svg = caller.get("/processes/signature_initiative/diagram.svg", query_string={"lang": "en"})
    assert svg.status_code == 200
    assert svg.content_type.startswith("image/svg+xml")
    assert "<svg" in svg.get_data(as_text=True)
    problem_of(caller.get("/processes/ukendt"), 404)
    problem_of(caller.get("/processes/ukendt/diagram.svg"), 404)
    problem_of(caller.get("/processes/signature_initiative", query_string={"version": 99}), 404)


def test_my_notifications_are_only_mine(api, session, make_user):
    caller = api("member@SU-NORD-SOM")
    someone = make_user("member@TSS")
    for index, recipient in enumerate([caller.user, someone, caller.user]):
        session.add(
            Notification(
                idempotency_key=f"api-test-{index}",
                message_id=f"<api-test-{index}@aftaleflow>",
                recipient_id=recipient.id,
                kind="reminder",
                subject=f"Påmindelse {index}",
                body="Fristen nærmer sig.",
                read_at=clock.now() if index == 2 else None,
            )
        )
    session.commit()
    mine = caller.get("/me/notifications").get_json()["items"]
    assert [n["subject"] for n in mine] == ["Påmindelse 2", "Påmindelse 0"]
    unread = caller.get("/me/notifications", query_string={"unread": "true"}).get_json()
    assert [n["subject"] for n in unread["items"]] == ["Påmindelse 0"]


# --- Routing problems, the document and its page ---


def test_unknown_api_address_is_a_404_problem_and_a_wrong_method_405(api):
    caller = api("member@SU-NORD-SOM")
    problem_of(caller.get("/findes-ikke"), 404)
    problem_of(caller.client.get("/api/v1/cases/abc"), 404)
    response = caller.client.delete("/api/v1/cases")
    problem_of(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_openapi_document_lists_exactly_the_registered_routes(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    registered = {
        (openapi_path(rule.rule.removeprefix("/api/v1")), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.not_found"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == registered
    assert {("/api/v1/cases", "POST"), ("/api/v1/cases/{case_id}/transitions", "POST")} <= (
        documented
    )


def test_every_operation_documents_its_problems(client):
    document = client.get("/api/v1/openapi.json").get_json()
    transitions = document["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "412", "422", "428"} <= set(
        transitions["responses"]
    )
    problem = transitions["responses"]["422"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_docs_page_is_readable_and_uses_no_other_hosts(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "POST /api/v1/cases/{case_id}/transitions" in page
    assert 'id="problem-guard-failed"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
