"""Expenses and attachments through the API only, with the page's rules (issue 17, item 1):
the municipal extra expense the financing rule reads, and files on a case."""

from __future__ import annotations

import base64
import hashlib

from sqlalchemy import select
from support.api import by_chairmanship, problem_of

from models import CaseEvent, Party, PartyKind


def _municipality(session):
    return session.scalar(
        select(Party).where(Party.kind == PartyKind.MUNICIPALITY).order_by(Party.id).limit(1)
    )


def test_expenses_entered_through_the_api_drive_the_financing_rule(api, make_case, session):
    case = make_case(business_case="", financing_proposal="")
    municipality = _municipality(session)
    su = api("chair@SU-NORD-SOM")
    tss = api("chair@TSS")
    etag = su.get(f"/cases/{case.id}").headers["ETag"]
    line = {"party_id": municipality.id, "amount_dkk": "250000.50", "note": "Hjemmesygepleje"}
    edited = su.patch(f"/cases/{case.id}", json={"expenses": [line]}, headers={"If-Match": etag})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    (expense,) = edited.get_json()["expenses"]
    assert expense == {
        "party": {"id": municipality.id, "code": municipality.code, "name": municipality.name},
        "amount_dkk": "250000.50",
        "note": "Hjemmesygepleje",
    }
    assert by_chairmanship(api, "chair@SU-NORD-SOM", case.id, "submit").status_code == 200
    refused = problem_of(tss.act(case.id, "tss_recommend"), 422)
    # Every agreement needs a business case (seed 001); the expense adds the financing rule.
    assert {"business_case_stated", "financing_follows"} <= set(refused["rules"])
    etag = tss.get(f"/cases/{case.id}").headers["ETag"]
    supplied = tss.patch(
        f"/cases/{case.id}",
        json={"business_case": "Gevinst efter to år.", "financing_proposal": "Regionen år 1."},
        headers={"If-Match": etag},
    )
    assert supplied.status_code == 200, supplied.get_data(as_text=True)
    recommended = by_chairmanship(api, "chair@TSS", case.id, "tss_recommend")
    assert recommended.get_json()["state"] == "at_sku"
    edits = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.trigger == "edit")
    ).all()
    assert edits, "the expense change is on the case's audit trail"


def test_expenses_are_replaced_as_a_list_and_refused_when_wrong(api, make_case, session):
    case = make_case()
    municipality = _municipality(session)
    su = api("chair@SU-NORD-SOM")

    def patch(lines):
        version = su.get(f"/cases/{case.id}").get_json()["version"]
        return su.patch(f"/cases/{case.id}", json={"expected_version": version, "expenses": lines})

    twice = [{"party_id": municipality.id, "amount_dkk": "1"}] * 2
    assert problem_of(patch(twice), 422)["rule"] == "one_line_per_party"
    assert problem_of(patch([{"party_id": 999999, "amount_dkk": "1"}]), 422)["rule"] == (
        "known_party"
    )
    problem_of(patch([{"party_id": municipality.id, "amount_dkk": "-5"}]), 400)
    problem_of(patch([{"party_id": municipality.id, "amount_dkk": "1,5"}]), 400)
    assert patch([{"party_id": municipality.id, "amount_dkk": "10"}]).get_json()["expenses"]
    assert patch([]).get_json()["expenses"] == []


def _file(name, data):
    return {"filename": name, "content_base64": base64.b64encode(data).decode("ascii")}


def test_attach_list_and_download_a_file(api, make_case, session):
    case = make_case()
    su = api("secretariat@SU-NORD-SOM")
    content = "Notat om forløbet.\nAnden linje: æøå.".encode()
    created = su.post(f"/cases/{case.id}/attachments", json=_file("notat.txt", content))
    assert created.status_code == 201, created.get_data(as_text=True)
    attachment = created.get_json()
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    assert attachment["size_bytes"] == len(content)
    listed = su.get(f"/cases/{case.id}/attachments").get_json()["items"]
    assert [a["filename"] for a in listed] == ["notat.txt"]
    downloaded = su.client.get(created.headers["Location"], headers=su.headers())
    assert downloaded.status_code == 200
    assert downloaded.data == content
    assert "notat.txt" in downloaded.headers["Content-Disposition"]
    events = su.get(f"/cases/{case.id}/events").get_json()["items"]
    assert events[-1]["trigger"] == "attachment_added"


def test_attachments_are_refused_with_the_pages_rules(api, make_case):
    case = make_case()
    su = api("secretariat@SU-NORD-SOM")
    wrong_type = su.post(f"/cases/{case.id}/attachments", json=_file("virus.exe", b"MZ"))
    assert problem_of(wrong_type, 422)["rule"] == "allowed_file_type"
    empty = su.post(f"/cases/{case.id}/attachments", json=_file("tom.txt", b""))
    assert problem_of(empty, 422)["rule"] == "file_not_empty"
    fake_pdf = su.post(f"/cases/{case.id}/attachments", json=_file("x.pdf", b"not a pdf"))
    assert problem_of(fake_pdf, 422)["rule"] == "content_matches_extension"
    bad = su.post(
        f"/cases/{case.id}/attachments", json={"filename": "a.txt", "content_base64": "@@@"}
    )
    problem_of(bad, 400)
    outsider = api("member@SU-SYD-SOM")
    problem_of(outsider.get(f"/cases/{case.id}/attachments"), 404)
    stranger = outsider.post(f"/cases/{case.id}/attachments", json=_file("a.txt", b"hej"))
    problem_of(stranger, 404)


def test_a_file_of_a_case_the_caller_cannot_see_is_not_found(api, make_case):
    case = make_case()
    su = api("secretariat@SU-NORD-SOM")
    created = su.post(f"/cases/{case.id}/attachments", json=_file("a.txt", b"hemmeligt"))
    outsider = api("member@SU-SYD-SOM")
    problem_of(outsider.client.get(created.headers["Location"], headers=outsider.headers()), 404)
