"""Attachments: type and size limits, stored outside the database, read only by those who may."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from models import Case, User
from workflow.cases import attachments
from workflow.engine.errors import NotAllowed, WorkflowError

PDF = b"%PDF-1.4\n% svar\n"


def test_a_file_is_stored_outside_the_database_and_read_back_by_those_who_see_the_case(
    session: Session, tmp_path: Path, make_user: Callable[..., User], make_case: Callable[..., Case]
) -> None:
    case = make_case(state="at_tss")
    author = make_user("secretariat@SU-NORD-SOM")
    stored = attachments.upload(session, case, author, "Bilag æøå.pdf", PDF, folder=tmp_path)
    assert (tmp_path / stored.storage_key).read_bytes() == PDF
    assert stored.filename == "Bilag æøå.pdf" and stored.content_type == "application/pdf"
    assert attachments.read(session, stored, make_user("member@TSS"), folder=tmp_path) == PDF
    # Past the draft, the case and its papers are open to everyone in the organisation …
    assert attachments.read(session, stored, make_user("member@FORUM-DATA"), folder=tmp_path)
    # … but not to an account that holds no membership.
    with pytest.raises(NotAllowed):
        attachments.read(session, stored, make_user(), folder=tmp_path)
    assert [a.filename for a in attachments.listed(session, case)] == ["Bilag æøå.pdf"]


def test_a_drafts_files_are_read_only_by_its_own_body(
    session: Session, tmp_path: Path, make_user: Callable[..., User], make_case: Callable[..., Case]
) -> None:
    draft = make_case(state="draft")
    stored = attachments.upload(
        session, draft, make_user("member@SU-NORD-SOM"), "Udkast.pdf", PDF, folder=tmp_path
    )
    assert attachments.read(session, stored, make_user("observer@SU-NORD-SOM"), folder=tmp_path)
    with pytest.raises(NotAllowed):
        attachments.read(session, stored, make_user("chair@TSS"), folder=tmp_path)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("program.exe", b"MZ", "Filtypen er ikke tilladt"),
        ("falsk.pdf", b"PK\x03\x04", "passer ikke til endelsen"),
        ("tom.txt", b"", "tom"),
        ("stor.txt", b"a" * (attachments.MAX_BYTES + 1), "for stor"),
    ],
)
def test_files_outside_the_limits_are_refused_with_a_reason(
    session: Session,
    tmp_path: Path,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    name: str,
    data: bytes,
    message: str,
) -> None:
    case = make_case(state="at_tss")
    with pytest.raises(WorkflowError, match=message):
        attachments.upload(session, case, make_user("secretariat@TSS"), name, data, folder=tmp_path)


def test_only_those_who_work_on_the_case_may_attach(
    session: Session, tmp_path: Path, make_user: Callable[..., User], make_case: Callable[..., Case]
) -> None:
    case = make_case(state="at_tss")
    with pytest.raises(NotAllowed):
        attachments.upload(session, case, make_user("observer@KKR"), "a.pdf", PDF, folder=tmp_path)


def test_a_member_of_a_consulted_body_may_attach_a_file_to_the_answer(
    session: Session,
    tmp_path: Path,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
    body: Callable[[str], object],
) -> None:
    from workflow.consultations import operations as consultations

    case = make_case("joint_agreement", origin="SU-MIDT-SOM", state="drafting")
    forum_member = make_user("member@FORUM-HJERNE")
    with pytest.raises(NotAllowed):
        attachments.upload(session, case, forum_member, "svar.pdf", PDF, folder=tmp_path)
    case.state = "consultation"
    session.commit()
    consultations.start(
        session, case, make_user("secretariat@SU-MIDT-SOM"), title="Høring",
        parties=[], bodies=[body("FORUM-HJERNE")], deadline=date(2020, 10, 1),
    )  # fmt: skip
    stored = attachments.upload(session, case, forum_member, "svar.pdf", PDF, folder=tmp_path)
    assert stored.filename == "svar.pdf"
