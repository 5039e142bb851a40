"""The case record from the case page: a button for whoever may take it, the same ZIP as the
API's, streamed after the request without touching the database, each download logged on the
admin chain (never on the case's own), and a 404 for those who may not see the case."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import event, func, select
from support.records import exports_of
from support.web import PASSWORD

from models import Case, CaseEvent
from workflow.cases import attachments, record_verify
from workflow.engine import audit

NOTE = "Referat af dialogmødet.\n".encode()


@pytest.fixture
def app(make_app, tmp_path):
    """The app with its attachments in the test's own folder."""
    return make_app(AFTALEFLOW_ATTACHMENTS_DIR=str(tmp_path / "files"))


@pytest.fixture
def files(tmp_path):
    return tmp_path / "files"


def test_the_case_page_offers_the_record_and_it_verifies(client, logged_in, make_case):
    case = make_case(title="Sagsakt fra siden")
    logged_in("member@SU-NORD-SOM")
    page = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert "Hent sagsakten til journalisering (ZIP)" in page
    assert f'href="/sager/{case.id}/sagsakt.zip"' in page
    response = client.get(f"/sager/{case.id}/sagsakt.zip")
    assert response.status_code == 200
    assert response.content_type == "application/zip"
    data = response.get_data()
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert record_verify.verify(io.BytesIO(data)).problems == []


def test_the_record_streams_after_the_request_without_the_database(
    client, logged_in, make_case, session, db_engine, files
):
    """Regression: the ZIP's generator read each attachment through the request's session
    (and the policy) as its turn came, so a download that outlived its request read outside its
    unit of work. The stream now reads only the stored files: no SQL once the view returned."""
    case = make_case(title="Sagsakt med bilag")
    user = logged_in("chair@SU-NORD-SOM")
    first = attachments.upload(session, case, user, "referat.txt", NOTE, folder=files)
    figures = b"kommune;antal\nA;3\n"
    second = attachments.upload(session, case, user, "tal.csv", figures, folder=files)
    response = client.get(f"/sager/{case.id}/sagsakt.zip", buffered=False)
    assert response.status_code == 200
    assert not response.is_sequence  # streamed: nothing of the body is read yet
    statements: list[str] = []

    def executed(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db_engine, "before_cursor_execute", executed)
    try:
        data = b"".join(response.iter_encoded())
    finally:
        event.remove(db_engine, "before_cursor_execute", executed)
        response.close()
    assert statements == []
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read(f"attachments/{first.id:08d}-referat.txt") == NOTE
    assert archive.read(f"attachments/{second.id:08d}-tal.csv").startswith(b"kommune;antal")
    assert record_verify.verify(io.BytesIO(data)).problems == []


def test_a_file_damaged_in_storage_is_refused_before_the_download_and_not_logged(
    client, logged_in, make_case, session, files
):
    """Same size, other bytes: found by its SHA-256 before the first byte, not halfway."""
    case = make_case(title="Sagsakt med et ødelagt bilag")
    user = logged_in("chair@SU-NORD-SOM")
    stored = attachments.upload(session, case, user, "referat.txt", NOTE, folder=files)
    path = files / stored.storage_key
    path.write_bytes(b"X" * len(NOTE))
    response = client.get(f"/sager/{case.id}/sagsakt.zip")
    assert response.status_code == 303
    assert response.location.endswith(f"/sager/{case.id}")
    page = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert "Sagsakten kunne ikke dannes" in page and "referat.txt" in page
    assert exports_of(session, case.id) == []


def test_taking_the_record_is_logged_on_the_admin_chain_not_on_the_case(
    client, logged_in, make_case, session, files, audit_checkpoint_dir
):
    case = make_case(title="Sagsakt der udleveres")
    user = logged_in("chair@SU-NORD-SOM")
    attachments.upload(session, case, user, "referat.txt", NOTE, folder=files)
    events_before = session.scalar(select(func.count()).where(CaseEvent.case_id == case.id))
    version_before = case.version

    data = client.get(f"/sager/{case.id}/sagsakt.zip").get_data()
    again = client.get(f"/sager/{case.id}/sagsakt.zip").get_data()

    assert again == data  # taking the record does not change it
    session.expire_all()
    assert session.scalar(select(func.count()).where(CaseEvent.case_id == case.id)) == (
        events_before
    )
    assert session.get(Case, case.id).version == version_before
    logged = exports_of(session, case.id)
    assert len(logged) == 2
    entry = logged[0]
    manifest = zipfile.ZipFile(io.BytesIO(data)).read("manifest.json")
    chain = json.loads(manifest)["chain"]
    assert entry.actor_id == user.id and entry.object_type == "case"
    assert entry.data == {
        "channel": "page",
        "as_of": json.loads(manifest)["as_of"],
        "events": chain["events"],
        "chain_head": chain["head"],
        "files": 3,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }
    assert entry.request_id  # the log line of the request that served it
    assert audit.verify(session, audit_checkpoint_dir).problems == []


def test_the_admin_overview_names_a_record_taken(
    app, client, logged_in, make_case, make_login_user
):
    case = make_case(title="Sagsakt i oversigten")
    logged_in("member@SU-NORD-SOM")
    assert client.get(f"/sager/{case.id}/sagsakt.zip").status_code == 200
    admin = make_login_user(is_admin=True)
    other = app.test_client()
    login = {"email": admin.email, "password": PASSWORD}
    assert other.post("/login", data=login).status_code == 303
    page = other.get("/admin").get_data(as_text=True)
    assert "Sagsakt udleveret til journalisering" in page
    assert f"case {case.id}" in page


def test_no_record_of_a_case_the_user_may_not_see(client, logged_in, make_case, session):
    draft = make_case(title="Nordens kladde")
    logged_in("member@SU-SYD-SOM")
    assert client.get(f"/sager/{draft.id}/sagsakt.zip").status_code == 404
    assert client.get("/sager/999999/sagsakt.zip").status_code == 404
    assert exports_of(session, draft.id) == []


def test_a_head_request_builds_and_logs_nothing(client, logged_in, make_case, session):
    """A HEAD asks whether the record can be had: 200 with its type, no body, no disclosure."""
    case = make_case(title="Sagsakt der kun spørges til")
    logged_in("chair@SU-NORD-SOM")
    response = client.head(f"/sager/{case.id}/sagsakt.zip")
    assert response.status_code == 200
    assert response.content_type == "application/zip"
    assert response.get_data() == b""
    assert exports_of(session, case.id) == []
    assert client.head("/sager/999999/sagsakt.zip").status_code == 404
