"""Attachments through the web: upload on a case, download only for those who see it."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Case, User
from workflow.cases import attachments

PDF = b"%PDF-1.4\n% svar\n"


def test_upload_and_download_through_the_web(
    session: Session,
    make_app: Callable[..., Any],
    make_login_user: Callable[..., User],
    make_case: Callable[..., Case],
    tmp_path: Path,
    password: str,
) -> None:
    app = make_app(AFTALEFLOW_ATTACHMENTS_DIR=str(tmp_path))
    client: FlaskClient = app.test_client()
    case = make_case(state="at_tss")
    user = make_login_user("secretariat@TSS")
    client.post("/login", data={"email": user.email, "password": password})
    response = client.post(
        f"/bilag/sag/{case.id}",
        data={"file": (io.BytesIO(PDF), "Høringssvar.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(f"/bilag/sag/{case.id}").get_data(as_text=True)
    assert "Høringssvar.pdf" in page
    attachment = attachments.listed(session, case)[0]
    assert client.get(f"/bilag/{attachment.id}").data == PDF
    client.post("/logout")
    # Everyone in the organisation reads a shared case's files; an account without any
    # membership reads none (docs/access.md).
    colleague = make_login_user("member@FORUM-DATA")
    client.post("/login", data={"email": colleague.email, "password": password})
    assert client.get(f"/bilag/{attachment.id}").data == PDF
    client.post("/logout")
    outsider = make_login_user()
    client.post("/login", data={"email": outsider.email, "password": password})
    assert client.get(f"/bilag/{attachment.id}").status_code == 404
