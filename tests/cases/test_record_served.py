"""The case record served as `aftaleflow serve` serves it: waitress, the app's own engine, a
session per request closed at teardown. Both the page's download and the API's stream a record
with its attachments after their request has ended, read no SQL while they stream, leave no
connection checked out, and each is logged (committed) on the admin chain — on SQLite and, with
$TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import http.client
import io
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session
from support.web import PASSWORD, password_hash

from models import AdminAuditEntry, Body, Membership, Role, User
from workflow.app import create_app
from workflow.auth import tokens
from workflow.cases import attachments, operations, record_verify
from workflow.engine import audit, migrate
from workflow.engine import core as engine
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed
from workflow.web.server import serving

EMAIL = "formand.sagsakt@test.aftaleflow.dk"
# Larger than one piece of the stream (record.CHUNK), so the file is read in several.
MINUTES = ("Referat af dialogmødet om udskrivning.\n" * 40_000).encode()
FIGURES = b"kommune;antal\nAlbertslund;3\n"


@pytest.fixture
def own_database(db_engine: Engine, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own whose commits are real: a SQLite file, or a scratch
    database on $TEST_DATABASE_URL's server when the suite runs on PostgreSQL."""
    if db_engine.dialect.name == "postgresql":
        with scratch_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            yield url
        return
    yield f"sqlite:///{tmp_path / 'record.db'}"


def _populate(url: str, files: Path) -> tuple[int, str]:
    """An SU's chair (password and API token) and their case with two attachments."""
    database = make_engine(url)
    migrate.upgrade(database)
    with Session(database, expire_on_commit=False) as session:
        seed.run(session)
        su = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
        assert su is not None
        user = User(email=EMAIL, name="Formanden", password_hash=password_hash())
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, body_id=su.id, role=Role.CHAIR))
        session.commit()
        case = engine.create_case(
            session, process="signature_initiative", title="Sagsakt over nettet",
            originating_body=su, actor=user,
        )  # fmt: skip
        attachments.upload(session, case, user, "referat.txt", MINUTES, folder=files)
        attachments.upload(session, case, user, "tal.csv", FIGURES, folder=files)
        token = tokens.create_token(session, user, "sagsakt").plain
        case_id = case.id
    database.dispose()
    return case_id, token


def _get(address: tuple[str, int], path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=120)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def _log_in(address: tuple[str, int]) -> str:
    connection = http.client.HTTPConnection(*address, timeout=60)
    try:
        connection.request(
            "POST", "/login", body=urlencode({"email": EMAIL, "password": PASSWORD}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 303
        return answer.getheader("Set-Cookie", "").split(";", 1)[0]
    finally:
        connection.close()


def test_the_record_streams_through_the_server_after_its_request(own_database, tmp_path):
    files = tmp_path / "files"
    case_id, token = _populate(own_database, files)
    app = create_app({
        "DATABASE_URL": own_database, "SECRET_KEY": "sagsakt-" + "x" * 32, "TESTING": True,
        "WTF_CSRF_ENABLED": False, "AFTALEFLOW_ATTACHMENTS_DIR": str(files),
    })  # fmt: skip
    database: Engine = app.extensions["aftaleflow.database"].engine
    # Each request runs in one of waitress's threads, and its stream in the same thread after
    # the app returned: a statement there once the request's teardown ran is read too late.
    request = threading.local()
    late: list[str] = []

    @app.before_request
    def started() -> None:
        request.ended = False

    @app.teardown_appcontext
    def ended(_error: BaseException | None) -> None:
        request.ended = True

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if getattr(request, "ended", False):
            late.append(statement)

    event.listen(database, "before_cursor_execute", executed)
    try:
        with serving(app, threads=2) as address:
            cookie = _log_in(address)
            served = {
                "api": _get(address, f"/api/v1/cases/{case_id}/record",
                            {"Authorization": f"Bearer {token}"}),
                "page": _get(address, f"/sager/{case_id}/sagsakt.zip", {"Cookie": cookie}),
            }  # fmt: skip
        assert late == []
        assert database.pool.checkedout() == 0
    finally:
        event.remove(database, "before_cursor_execute", executed)
        database.dispose()

    for channel, (status, content_type, data) in served.items():
        assert (status, content_type) == (200, "application/zip"), (channel, data[:300])
        archive = zipfile.ZipFile(io.BytesIO(data))
        stored = {name.split("-", 1)[1]: name for name in archive.namelist() if "/" in name}
        assert archive.read(stored["referat.txt"]) == MINUTES
        assert archive.read(stored["tal.csv"]) == FIGURES
        assert record_verify.verify(io.BytesIO(data)).problems == [], channel
    assert served["api"][2] == served["page"][2]  # the same reader gets the same record

    check = make_engine(own_database)
    try:
        with Session(check) as session:
            logged = session.scalars(
                select(AdminAuditEntry)
                .where(AdminAuditEntry.action == operations.RECORD_EXPORTED)
                .order_by(AdminAuditEntry.seq)
            ).all()
            assert [(e.object_id, e.data["channel"]) for e in logged] == [
                (str(case_id), "api"), (str(case_id), "page"),
            ]  # fmt: skip
            assert audit.verify(session).problems == []
    finally:
        check.dispose()
