"""The case record (sagsakt) through the API, read back as an archive would (issue 17, item 5):
every checksum matches, the case file is PDF/A with the case's title, the chain verifies from
the ZIP alone, a tampered event fails, and an unreadable case is a 404."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
from datetime import timedelta

import pikepdf
import pytest
from click.testing import CliRunner
from support.api import problem_of
from support.documents import pdf_text
from support.records import exports_of

from models import Attachment
from workflow.cases import record_verify
from workflow.cli import main
from workflow.engine import audit, clock
from workflow.meetings import agenda
from workflow.meetings import operations as meetings

NOTE = b"Notat om forloebet.\n"


@pytest.fixture
def app(make_app, tmp_path):
    """The app with its attachments in the test's own folder."""
    return make_app(AFTALEFLOW_ATTACHMENTS_DIR=str(tmp_path / "files"))


def _attach(caller, case_id, name, data):
    body = {"filename": name, "content_base64": base64.b64encode(data).decode()}
    response = caller.post(f"/cases/{case_id}/attachments", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _record(caller, case_id):
    response = caller.get(f"/cases/{case_id}/record")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "application/zip"
    assert "sagsakt.zip" in response.headers["Content-Disposition"]
    return response.get_data()


def _rewrite(data, name, content):
    """The ZIP with one file's content replaced (as someone editing the archive would)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == name else source.read(info))
    return out.getvalue()


def _key():
    return os.environ["AFTALEFLOW_AUDIT_KEY"].strip().encode()


@pytest.fixture
def recorded(api, make_case):
    """A case with an attachment, moved on once, and its record as the SU's chair takes it."""
    case = make_case(title="Fælles forløb for KOL-patienter")
    su = api("chair@SU-NORD-SOM")
    attachment = _attach(su, case.id, "notat.txt", NOTE)
    return case, su, attachment, _record(su, case.id)


def test_the_record_reads_back_with_every_checksum_and_the_chain(recorded):
    case, _su, attachment, data = recorded
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    stored = f"attachments/{attachment['id']:08d}-notat.txt"
    assert names == ["case.pdf", "events.json", stored, "manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["name"] for f in manifest["files"]] == names[:-1]
    for listed in manifest["files"]:
        content = archive.read(listed["name"])
        assert hashlib.sha256(content).hexdigest() == listed["sha256"]
        assert len(content) == listed["size"]
    assert archive.read(stored) == NOTE
    assert manifest["case"]["id"] == case.id
    assert manifest["case"]["title"] == "Fælles forløb for KOL-patienter"
    assert manifest["case"]["process"] == "signature_initiative"
    assert manifest["case"]["originating_body"]["code"] == "SU-NORD-SOM"
    events = json.loads(archive.read("events.json"))
    assert [e["trigger"] for e in events["events"]] == ["create", "attachment_added"]
    assert manifest["chain"] == {
        "file": "events.json", "events": 2, "head": events["events"][-1]["hash"],
    }  # fmt: skip
    report = record_verify.verify(io.BytesIO(data))
    assert report.problems == [] and report.events == 2 and report.files == 3
    keyed = record_verify.verify(io.BytesIO(data), _key())
    assert keyed.problems == [] and keyed.keyed


def test_the_case_file_is_pdf_a_with_the_case_in_its_text(recorded):
    _case, _su, _attachment, data = recorded
    case_pdf = zipfile.ZipFile(io.BytesIO(data)).read("case.pdf")
    with pikepdf.open(io.BytesIO(case_pdf)) as document:
        metadata = document.open_metadata()
        assert metadata.get("pdfaid:part") == "3"
        assert metadata.get("pdfaid:conformance") == "B"
    text = pdf_text(case_pdf)
    assert "Fælles forløb for KOL-patienter" in text
    assert "notat.txt" in text  # the attachments are listed
    assert "Bilag vedhæftet" in text  # the timeline


def test_the_same_case_gives_the_same_bytes(recorded):
    case, su, _attachment, data = recorded
    assert _record(su, case.id) == data


def test_a_tampered_event_fails_verification(recorded):
    _case, _su, _attachment, data = recorded
    archive = zipfile.ZipFile(io.BytesIO(data))
    events = json.loads(archive.read("events.json"))
    events["events"][0]["comment"] = "Oprettet af en anden"
    edited = json.dumps(events, ensure_ascii=False).encode()
    # The edit alone: the manifest's checksum no longer matches.
    bare = record_verify.verify(io.BytesIO(_rewrite(data, "events.json", edited)))
    assert any("events.json: SHA-256" in p for p in bare.problems)
    # The edit with the manifest's checksum rewritten: the event's own digest gives it away.
    manifest = json.loads(archive.read("manifest.json"))
    for listed in manifest["files"]:
        if listed["name"] == "events.json":
            listed["sha256"], listed["size"] = hashlib.sha256(edited).hexdigest(), len(edited)
    forged = _rewrite(
        _rewrite(data, "events.json", edited), "manifest.json", json.dumps(manifest).encode()
    )
    report = record_verify.verify(io.BytesIO(forged))
    assert report.problems == ["events.json: Hændelse 1: indholdet er ændret (SHA-256 passer ikke)"]
    # Even with the digest recomputed, the seal needs the audit key.
    message = ("case_event\n" + json.dumps(
        {k: events["events"][0][k] for k in events["fields"]}, sort_keys=True, ensure_ascii=False
    )).encode()  # fmt: skip
    events["events"][0]["sha256"] = hashlib.sha256(message).hexdigest()
    recomputed = json.dumps(events, ensure_ascii=False).encode()
    for listed in manifest["files"]:
        if listed["name"] == "events.json":
            listed["sha256"] = hashlib.sha256(recomputed).hexdigest()
            listed["size"] = len(recomputed)
    resealed = _rewrite(
        _rewrite(data, "events.json", recomputed), "manifest.json", json.dumps(manifest).encode()
    )
    assert record_verify.verify(io.BytesIO(resealed)).problems == []
    keyed = record_verify.verify(io.BytesIO(resealed), _key())
    assert keyed.problems == ["events.json: Hændelse 1: seglet passer ikke med revisionsnøglen"]


def test_an_archivist_verifies_the_zip_on_the_command_line(recorded, tmp_path):
    _case, _su, _attachment, data = recorded
    intact = tmp_path / "sagsakt.zip"
    intact.write_bytes(data)
    key_file = tmp_path / "audit.key"
    key_file.write_bytes(_key())
    runner = CliRunner()
    result = runner.invoke(main, ["record", "verify", str(intact), "--key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    assert "er intakt" in result.output and "seglene" in result.output
    broken = tmp_path / "broken.zip"
    broken.write_bytes(_rewrite(data, "case.pdf", b"%PDF-1.7 tom"))
    failed = runner.invoke(main, ["record", "verify", str(broken)])
    assert failed.exit_code == 1
    assert "case.pdf: SHA-256 passer ikke med manifestet" in failed.output


def test_a_case_the_caller_may_not_see_has_no_record(api, make_case):
    draft = make_case(title="Nordens kladde")
    problem_of(api("member@SU-SYD-SOM").get(f"/cases/{draft.id}/record"), 404)
    problem_of(api("member@SU-SYD-SOM").get("/cases/999999/record"), 404)


def test_a_closed_item_is_printed_in_full_only_for_its_body(
    api, make_case, make_user, session, body
):
    case = make_case(state="at_tss", title="Fortrolig økonomiforhandling")
    sec = make_user("secretariat@TSS")
    tss = meetings.plan_meeting(session, body("TSS"), clock.now() + timedelta(days=30), sec)
    item = agenda.add_case(
        session, tss, case, sec, closed=True, public_summary="Udgiftsfordeling for hjælpemidler."
    )
    item.outcome, item.decision_text = "rejected", "Afvist i lukket møde."
    session.commit()

    def printed(*roles):
        data = _record(api(*roles), case.id)
        return pdf_text(zipfile.ZipFile(io.BytesIO(data)).read("case.pdf"))

    member = printed("member@TSS")
    assert "Afvist i lukket møde." in member
    outsider = printed("member@SU-NORD-SOM")
    assert "Afvist i lukket møde." not in outsider and "Afvist" not in outsider
    assert "Udgiftsfordeling for hjælpemidler." in outsider


def test_each_record_taken_is_logged_with_its_channel_and_fingerprint(recorded, session):
    case, su, _attachment, data = recorded
    (entry,) = exports_of(session, case.id)
    manifest = zipfile.ZipFile(io.BytesIO(data)).read("manifest.json")
    assert entry.actor_id == su.user.id
    assert entry.object_type == "case" and entry.object_id == str(case.id)
    assert entry.data["channel"] == "api"
    assert entry.data["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert entry.data["chain_head"] == json.loads(manifest)["chain"]["head"]
    _record(su, case.id)
    assert [e.data["channel"] for e in exports_of(session, case.id)] == ["api", "api"]


def test_a_refused_record_is_not_logged(api, make_case, session, tmp_path):
    draft = make_case(title="Nordens kladde")
    problem_of(api("member@SU-SYD-SOM").get(f"/cases/{draft.id}/record"), 404)
    case = make_case(title="Bilaget er væk")
    su = api("chair@SU-NORD-SOM")
    stored = _attach(su, case.id, "notat.txt", NOTE)
    key = session.get(Attachment, stored["id"]).storage_key
    (tmp_path / "files" / key).unlink()
    problem = problem_of(su.get(f"/cases/{case.id}/record"), 422)
    assert problem["rule"] == "file_intact"
    assert exports_of(session, draft.id) == [] and exports_of(session, case.id) == []


def test_taking_records_leaves_the_case_chain_and_earlier_records_intact(
    recorded, session, audit_checkpoint_dir
):
    """The log is on the admin chain: the case's events, and so every record already handed
    out, stay as they were; `record verify` (with the key) and `audit verify` both pass."""
    case, su, _attachment, first = recorded
    for _ in range(3):
        assert _record(su, case.id) == first
    su.post(f"/cases/{case.id}/attachments", json={
        "filename": "bilag2.txt", "content_base64": base64.b64encode(b"Mere.\n").decode(),
    })  # fmt: skip
    later = _record(su, case.id)
    assert later != first
    assert record_verify.verify(io.BytesIO(first), _key()).problems == []
    assert record_verify.verify(io.BytesIO(later), _key()).problems == []
    earlier_events = json.loads(zipfile.ZipFile(io.BytesIO(first)).read("events.json"))["events"]
    later_events = json.loads(zipfile.ZipFile(io.BytesIO(later)).read("events.json"))["events"]
    assert later_events[: len(earlier_events)] == earlier_events
    assert [e["trigger"] for e in later_events] == [
        "create", "attachment_added", "attachment_added",
    ]  # fmt: skip
    assert len(exports_of(session, case.id)) == 5
    report = audit.verify(session, audit_checkpoint_dir)
    assert report.problems == []


def test_a_head_request_for_the_record_builds_and_logs_nothing(api, make_case, session):
    case = make_case(title="Sagsakt der kun spørges til")
    su = api("chair@SU-NORD-SOM")
    answer = su.client.head(f"/api/v1/cases/{case.id}/record", headers=su.headers())
    assert answer.status_code == 200 and answer.get_data() == b""
    assert answer.content_type == "application/zip"
    assert exports_of(session, case.id) == []
