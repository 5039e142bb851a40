"""The decision register and decision templates in the web app; follow-up reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AdminAuditEntry,
    AgendaItem,
    Body,
    Case,
    CaseEvent,
    DecisionTemplate,
    FollowUpItem,
    Meeting,
    MeetingStatus,
    Notification,
    User,
)
from workflow import scheduler
from workflow.engine import clock
from workflow.meetings import minutes


@pytest.fixture
def held_meeting(
    session: Session, body: Callable[[str], Body], make_case: Callable[..., Case]
) -> tuple[Meeting, AgendaItem, Case]:
    """A TSS meeting held this morning with one signature initiative on the agenda."""
    case = make_case(state="at_tss", title="Sammenhængende forløb for ældre")
    meeting = Meeting(
        body_id=body("TSS").id,
        title="TSS-møde september",
        starts_at=clock.now() - timedelta(hours=2),
        status=MeetingStatus.HELD,
    )
    session.add(meeting)
    session.flush()
    item = AgendaItem(meeting_id=meeting.id, case_id=case.id, position=2, title=case.title)
    session.add(item)
    session.commit()
    return meeting, item, case


def _as(client: FlaskClient, user: User, password: str) -> None:
    client.post("/logout")
    assert (
        client.post("/login", data={"email": user.email, "password": password}).status_code == 303
    )


def test_the_secretariat_keeps_decision_templates_and_archives_them_never_deleting(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    body: Callable[[str], Body],
    held_meeting: tuple[Meeting, AgendaItem, Case],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    meeting, item, _case = held_meeting
    sec = make_login_user("secretariat@TSS")
    _as(client, sec, password)
    client.post(
        "/moeder/beslutningsskabeloner",
        data={"body": str(body("TSS").id), "name": "Anbefales til SKU", "outcome": "recommended",
              "text": "TSS anbefaler {title} over for SKU."},
    )  # fmt: skip
    template = session.scalar(
        select(DecisionTemplate).where(DecisionTemplate.name == "Anbefales til SKU")
    )
    assert template is not None and template.body_id == body("TSS").id
    assert "TSS anbefaler {title} over for SKU." in text_of(
        client.get("/moeder/beslutningsskabeloner")
    )

    client.post(
        f"/moeder/beslutningsskabeloner/{template.id}",
        data={"body": str(template.body_id), "name": "Anbefales", "outcome": "recommended",
              "text": "TSS anbefaler »{title}« over for SKU med bemærkninger."},
    )  # fmt: skip
    assert template.name == "Anbefales"
    client.post(
        f"/moeder/{meeting.id}/punkter/{item.id}/udfald", data={"template_id": str(template.id)}
    )
    assert item.outcome == "recommended"
    assert item.decision_text == (
        "TSS anbefaler »Sammenhængende forløb for ældre« over for SKU med bemærkninger."
    )

    client.post(f"/moeder/beslutningsskabeloner/{template.id}/arkiver")
    assert template.active is False
    assert template not in minutes.templates_for(session, body("TSS").id)
    page = text_of(client.get("/moeder/beslutningsskabeloner"))
    assert "Anbefales (TSS, arkiveret)" in page and "Tag i brug igen" in page
    client.post(f"/moeder/beslutningsskabeloner/{template.id}/genbrug")
    assert template.active is True

    actions = session.scalars(
        select(AdminAuditEntry.action)
        .where(AdminAuditEntry.object_type == "decision_template",
               AdminAuditEntry.object_id == str(template.id))
        .order_by(AdminAuditEntry.id)
    ).all()  # fmt: skip
    assert actions == ["decision_template_added", "decision_template_changed",
                       "decision_template_archived", "decision_template_restored"]  # fmt: skip


def test_only_the_bodys_secretariat_changes_its_templates(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    body: Callable[[str], Body],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    sec = make_login_user("secretariat@TSS")
    template = minutes.add_template(
        session, body("TSS"), "Til efterretning", minutes.Outcome.NOTED, "Taget til efterretning.",
        sec,
    )  # fmt: skip
    member = make_login_user("member@TSS")
    _as(client, member, password)
    page = text_of(client.post(f"/moeder/beslutningsskabeloner/{template.id}/arkiver",
                               follow_redirects=True))  # fmt: skip
    assert "Du kan ikke ændre beslutningsskabeloner. Det kan kun sekretariatet for TSS." in page
    assert template.active is True
    refused = client.post(
        "/moeder/beslutningsskabeloner",
        data={"body": str(body("TSS").id), "name": "Egen", "outcome": "noted", "text": "Noteret."},
        follow_redirects=True,
    )
    assert "Du kan ikke ændre beslutningsskabeloner. Det kan kun sekretariatet" in text_of(refused)
    assert session.scalar(select(DecisionTemplate).where(DecisionTemplate.name == "Egen")) is None


def test_a_follow_up_is_in_the_register_reminded_by_the_sweep_and_marked_done(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    held_meeting: tuple[Meeting, AgendaItem, Case],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    meeting, item, case = held_meeting
    item.outcome = "recommended"
    sec = make_login_user("secretariat@TSS")
    owner = make_login_user("member@SU-NORD-SOM", name="Karen Opfølger")
    session.commit()
    _as(client, sec, password)
    client.post(
        f"/moeder/{meeting.id}/punkter/{item.id}/opfoelgning",
        data={"description": "Beskriv kommunernes udgifter.", "owner_email": owner.email,
              "due_on": "2020-09-20"},
    )  # fmt: skip
    follow_up = session.scalar(select(FollowUpItem).where(FollowUpItem.case_id == case.id))
    assert follow_up is not None
    page = text_of(client.get("/moeder/beslutningsregister"))
    assert "Beskriv kommunernes udgifter. Karen Opfølger 20. september 2020 Åben" in page

    def reminders_to(user: User) -> int:
        return len(session.scalars(select(Notification).where(
            Notification.recipient_id == user.id, Notification.kind == "reminder",
            Notification.case_id == case.id)).all())  # fmt: skip

    scheduler.sweep(session)
    assert reminders_to(owner) == reminders_to(sec) == 0  # nineteen days before
    clock.set_time(datetime(2020, 9, 13, 7, 0, tzinfo=UTC))  # a week before, 09:00 Danish
    scheduler.sweep(session)
    scheduler.sweep(session)
    assert reminders_to(owner) == 1 and reminders_to(sec) == 1
    owner_note = session.scalar(select(Notification).where(Notification.recipient_id == owner.id))
    assert owner_note is not None and "Beskriv kommunernes udgifter." in owner_note.body

    _as(client, owner, password)
    assert "Beskriv kommunernes udgifter." in text_of(client.get("/moeder/beslutningsregister"))
    client.post(f"/moeder/opfoelgning/{follow_up.id}/udfoert")
    assert follow_up.done_at is not None
    page = text_of(client.get("/moeder/beslutningsregister"))
    assert "Udført 13. september 2020" in page and "Der er ingen åbne opfølgninger." in page
    done = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.trigger == "follow_up_done")
    )
    assert done is not None and done.actor_id == owner.id

    clock.set_time(datetime(2020, 9, 19, 7, 0, tzinfo=UTC))  # the 1-day reminder is not due now
    scheduler.sweep(session)
    assert reminders_to(owner) == 1 and reminders_to(sec) == 1


def test_someone_else_cannot_mark_a_follow_up_done(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    held_meeting: tuple[Meeting, AgendaItem, Case],
    password: str,
) -> None:
    _meeting, item, _case = held_meeting
    sec = make_login_user("secretariat@TSS")
    owner = make_login_user("member@SU-NORD-SOM")
    item.outcome = "recommended"
    follow_up = minutes.add_follow_up(session, item, sec, description="Ret budgettet.",
                                      owner=owner, due_on=clock.now().date())  # fmt: skip
    _as(client, make_login_user("member@TSS"), password)
    client.post(f"/moeder/opfoelgning/{follow_up.id}/udfoert")
    assert follow_up.done_at is None


def test_a_follow_up_owner_with_a_nul_byte_is_refused_not_a_server_error(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    held_meeting: tuple[Meeting, AgendaItem, Case],
    password: str,
) -> None:
    """Found by the form fuzzer on PostgreSQL: the owner's e-mail was looked up before the
    form was validated, and PostgreSQL refuses a NUL byte in a query parameter (500)."""
    meeting, item, case = held_meeting
    sec = make_login_user("secretariat@TSS")
    session.commit()
    _as(client, sec, password)
    response = client.post(
        f"/moeder/{meeting.id}/punkter/{item.id}/opfoelgning",
        data={"description": "Noget", "owner_email": "\x00", "due_on": "2020-09-20"},
    )
    assert response.status_code < 500
    assert session.scalar(select(FollowUpItem).where(FollowUpItem.case_id == case.id)) is None


def test_the_register_prints_as_a_tagged_pdf_with_the_rows_the_reader_sees(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    held_meeting: tuple[Meeting, AgendaItem, Case],
    password: str,
) -> None:
    from support.documents import is_a4, pdf_facts, pdf_text

    meeting, item, _case = held_meeting
    item.outcome = "recommended"
    sec = make_login_user("secretariat@TSS")
    owner = make_login_user("member@SU-NORD-SOM", name="Karen Opfølger")
    outsider = make_login_user("member@SU-SYD-SOM", name="Ole Udenfor")
    session.commit()
    _as(client, sec, password)
    client.post(
        f"/moeder/{meeting.id}/punkter/{item.id}/opfoelgning",
        data={"description": "Beskriv kommunernes udgifter.", "owner_email": owner.email,
              "due_on": "2020-08-20"},
    )  # fmt: skip
    assert "/moeder/beslutningsregister.pdf" in client.get("/moeder/beslutningsregister").get_data(
        as_text=True
    )

    _as(client, owner, password)
    response = client.get("/moeder/beslutningsregister.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    facts = pdf_facts(response.data)
    assert facts.tagged and facts.has_structure_tree and facts.language == "da-DK"
    assert all(is_a4(size) and size[0] > size[1] for size in facts.page_sizes)
    assert {"Table", "TH", "TD"} <= facts.structure_roles
    text = pdf_text(response.data)
    assert "Beslutningsregister · udskrevet 1. september 2020 til Karen Opfølger" in text
    assert "Side 1 af 1" in text
    assert (
        "Sammenhængende forløb for ældre TSS-møde september, 1. september 2020 "
        "Beskriv kommunernes udgifter. Karen Opfølger 20. august 2020 Overskredet"
    ) in text

    _as(client, outsider, password)
    text = pdf_text(client.get("/moeder/beslutningsregister.pdf").data)
    assert "Beskriv kommunernes udgifter." not in text
    assert "Der er ingen åbne opfølgninger." in text


def test_the_templates_are_offered_beside_each_outcome_form_of_a_held_meeting_only(
    client: FlaskClient,
    session: Session,
    make_login_user: Callable[..., User],
    body: Callable[[str], Body],
    held_meeting: tuple[Meeting, AgendaItem, Case],
    password: str,
    text_of: Callable[[Any], str],
) -> None:
    meeting, item, _case = held_meeting
    session.add(
        DecisionTemplate(
            body_id=body("TSS").id, name="Godkendt som indstillet", outcome="approved", text="OK."
        )
    )
    session.commit()
    _as(client, make_login_user("secretariat@TSS"), password)
    page = client.get(f"/moeder/{meeting.id}").get_data(as_text=True)
    assert f'id="skabelon-{item.id}"' in page and "Godkendt som indstillet" in page
    meeting.status = MeetingStatus.CLOSED
    session.commit()
    page = client.get(f"/moeder/{meeting.id}").get_data(as_text=True)
    assert "skabelon-" not in page and "Brug skabelon" not in page
