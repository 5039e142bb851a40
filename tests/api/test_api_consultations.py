"""A type A agreement through its consultation, through the API only (issue 17, item 1):
terms approved, sent in consultation, one party answers with a file, another is recorded as
not answering, the round closes by the case's own rule, and TSS and SKU approve."""

from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import select
from support.api import by_chairmanship, held_meeting, problem_of

from models import Notification, Party
from workflow.engine import clock

PROPOSAL = {
    "summary": "Fælles aftale om udskrivning af ældre medicinske patienter.",
    "role_distribution": "Hospitalet planlægger udskrivningen, kommunen modtager borgeren.",
    "general_practice_role": "Almen praksis følger op inden for en uge.",
    "triple_aim_quality": "Færre genindlæggelser.",
    "triple_aim_economy": "Udgiftsneutral for parterne samlet.",
    "triple_aim_population": "Færre borgere bliver syge igen.",
    "triple_aim_experience": "Borgeren oplever ét samlet forløb.",
    "business_case": "Færre genindlæggelser betaler den ekstra opfølgning.",
}


def _party(session, name_part):
    return session.scalar(select(Party).where(Party.name.contains(name_part)).limit(1))


def test_type_a_agreement_through_its_consultation_by_api_only(api, session):
    secretariat = api("secretariat@TSS")
    gentofte, plo = _party(session, "Gentofte"), _party(session, "PLO")
    answerer = api()
    answerer.user.party_id = gentofte.id
    session.commit()

    created = secretariat.post(
        "/cases",
        json={"process": "joint_agreement", "originating_body": "TSS",
              "title": "Udskrivning af ældre medicinske patienter", **PROPOSAL},
    )  # fmt: skip
    assert created.status_code == 201, created.get_data(as_text=True)
    case_id = created.get_json()["id"]
    assert created.get_json()["state"] == "terms_of_reference"
    approved = by_chairmanship(
        api, "chair@TSS", case_id, "approve_terms", data={"drafting_body": "SU-MIDT-SOM"}
    )
    assert approved.get_json()["state"] == "drafting"

    deadline = (clock.now() + timedelta(days=21)).date().isoformat()
    early = secretariat.post(f"/cases/{case_id}/consultations", json={"party_ids": [plo.id]})
    assert problem_of(early, 422)["rule"] == "case_in_consultation"
    moved = secretariat.act(case_id, "start_consultation", data={"consultation_deadline": deadline})
    assert moved.get_json()["state"] == "consultation", moved.get_data(as_text=True)

    nobody = secretariat.post(f"/cases/{case_id}/consultations", json={"title": "Høring"})
    assert problem_of(nobody, 422)["rule"] == "someone_consulted"
    started = secretariat.post(
        f"/cases/{case_id}/consultations",
        json={"title": "Høring om udskrivningsaftalen", "draft": "Se udkastet.",
              "party_ids": [gentofte.id, plo.id]},
    )  # fmt: skip
    assert started.status_code == 201, started.get_data(as_text=True)
    consultation = started.get_json()
    assert consultation["deadline"] == deadline
    assert consultation["open"] is True
    responses = {r["party"]["id"]: r for r in consultation["responses"]}
    assert {r["status"] for r in responses.values()} == {"pending"}
    told = session.scalars(select(Notification).where(Notification.kind == "consultation"))
    assert answerer.user.id in {n.recipient_id for n in told}

    gentofte_answer = f"/consultation-responses/{responses[gentofte.id]['id']}/answer"
    not_mine = secretariat.post(gentofte_answer, json={"text": "Vi svarer for Gentofte."})
    assert problem_of(not_mine, 403)["rule"] == "answers_for_own_party"
    empty = answerer.post(gentofte_answer, json={"text": "  "})
    assert problem_of(empty, 422)["rule"] == "answer_given"
    letter = "Gentofte Kommune støtter aftalen.".encode()
    answered = answerer.post(
        gentofte_answer,
        json={"text": "Vi støtter aftalen.",
              "file": {"filename": "svar.txt",
                       "content_base64": base64.b64encode(letter).decode()}},
    )  # fmt: skip
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert answered.get_json()["status"] == "answered"
    attachment_id = answered.get_json()["attachment_id"]
    download = answerer.client.get(
        f"/api/v1/attachments/{attachment_id}", headers=secretariat.headers()
    )
    assert download.data == letter

    closed_early = problem_of(secretariat.act(case_id, "end_consultation"), 422)
    assert closed_early["rule"] == "consultation_closed"
    assert plo.name in closed_early["reasons"]["da"]

    plo_no_answer = f"/consultation-responses/{responses[plo.id]['id']}/no-answer"
    problem_of(answerer.post(plo_no_answer), 403)
    assert secretariat.post(plo_no_answer).get_json()["status"] == "no_answer"

    assert secretariat.act(case_id, "end_consultation").get_json()["state"] == "at_tss"
    rounds = secretariat.get(f"/cases/{case_id}/consultations").get_json()["items"]
    statuses = {r["party"]["code"]: r["status"] for r in rounds[0]["responses"]}
    assert statuses == {gentofte.code: "answered", plo.code: "no_answer"}
    assert rounds[0]["open"] is False
    assert by_chairmanship(api, "chair@TSS", case_id, "tss_approve").get_json()["state"] == "at_sku"
    at_meeting = {"meeting_id": held_meeting(session, "SKU")}  # SKU decides at its meetings
    sku = api("chair@SKU").act(case_id, "sku_approve", data=at_meeting)
    assert sku.get_json()["state"] == "implementation", sku.get_data(as_text=True)
    triggers = [
        e["trigger"] for e in secretariat.get(f"/cases/{case_id}/events").get_json()["items"]
    ]
    assert triggers[:5] == [
        "create", "formandskab_proposed", "approve_terms", "start_consultation",
        "consultation_started",
    ]  # fmt: skip
    assert "consultation_answered" in triggers and "consultation_no_answer" in triggers
