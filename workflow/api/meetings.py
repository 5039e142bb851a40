"""Meetings through the API: plan, move, cancel, take a step of the meeting's life (publish,
hold, approve the minutes …), build the agenda, record outcomes and attendance. Each call is
the operation the meeting page calls, with its rules and audit."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AgendaItem, Body, Case, ItemKind, Meeting, User
from workflow import policy
from workflow.api.cases import find_case
from workflow.api.problems import ApiProblem, json_response
from workflow.api.reference import meeting_json
from workflow.api.reference_data import REFERENCE, SOURCES
from workflow.api.refusals import refusal
from workflow.api.schema import (
    array,
    integer,
    nullable,
    obj,
    parse_date_time,
    string,
    text,
)
from workflow.api.serialize import MEETING
from workflow.api.spec import Call, Reply, operation
from workflow.engine.errors import WorkflowError
from workflow.meetings import agenda, attendance, lifecycle, minutes
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import Outcome
from workflow.web import db

TIME_INPUT = {"type": "string", "format": "date-time"}


def plain_steps() -> list[str]:
    """The steps of states/meeting.toml the API takes by name: all but those only their own
    operation takes (cancelling has its own call, which moves the material deadlines too)."""
    return [t.trigger for t in lifecycle.definition().transitions if not t.own_operation]


PLAN_BODY = obj(
    {
        "body": {**string(32, 1), REFERENCE: "bodies"},
        "starts_at": TIME_INPUT,
        "ends_at": nullable(TIME_INPUT),
        "title": string(300),
        "location": string(300),
        "online_url": nullable(string(500)),
    },
    required=("body", "starts_at"),
)
MOVE_BODY = obj({"starts_at": TIME_INPUT, "comment": text(2000)}, required=("starts_at",))
COMMENT_BODY = obj({"comment": text(2000)})
# The steps are listed in the served document (x-reference), not on the readable page.
SOURCES["meeting_steps"] = lambda _session: plain_steps()
STEP_BODY = obj(
    {"step": {**string(64, 1, pattern="^[a-z_]+$"), REFERENCE: "meeting_steps"},
     "comment": text(2000)},
    required=("step",),
)  # fmt: skip
AGENDA_BODY = obj(
    {
        "case_id": nullable(integer(1)),
        "title": string(300),
        "kind": {"type": "string", "enum": [k.value for k in ItemKind]},
        "recommendation": text(),
        "closed": {"type": "boolean"},
        "public_summary": text(),
    },
    description="Et punkt: en sag (case_id) eller et punkt uden sag (title).",
)
OUTCOME_BODY = obj(
    {"outcome": {"type": "string", "enum": [o.value for o in Outcome]},
     "decision_text": text()},
    required=("outcome",),
)  # fmt: skip
ATTENDANCE_BODY = obj(
    {
        "present": array(integer(1), uniqueItems=True, maxItems=500),
        "absent": array(integer(1), uniqueItems=True, maxItems=500),
        "minute_taker": nullable(integer(1)),
    },
    description="Fremmødet (bruger-id'er); erstatter det registrerede.",
)


def find_meeting(session: Session, call: Call) -> Meeting:
    meeting = session.get(Meeting, call.path["meeting_id"])
    if meeting is None or not policy.may(call.actor, "view", meeting, session):
        raise ApiProblem(
            "not-found",
            f"Møde nr. {call.path['meeting_id']} findes ikke.",
            f"Meeting {call.path['meeting_id']} does not exist.",
        )
    return meeting


def _answer(session: Session, meeting: Meeting, actor: User, status: int = 200) -> Response:
    session.refresh(meeting)
    response = json_response(meeting_json(session, meeting, actor), status)
    response.headers["Location"] = url_for("api.get_meeting", meeting_id=meeting.id)
    return response


def unknown_reference(field: str, da: str, en: str) -> ApiProblem:
    rule = f"known_{field.removesuffix('_id')}"
    return ApiProblem(
        "unprocessable", da, en, rule=rule,
        errors=[{"field": field, "rule": rule, "message": da, "message_da": da,
                 "message_en": en}],
    )  # fmt: skip


@operation(
    "/meetings", "post", tag="Møder", summary="Planlæg et møde", body=PLAN_BODY,
    ok={201: Reply("Mødet er planlagt med dagsordenens første punkt.", MEETING)},
    errors=(403, 422),
)  # fmt: skip
def plan_meeting(call: Call) -> Response:
    """Plan a meeting of a body (its secretariat, chairs or an admin)."""
    session = db()
    body = session.scalar(select(Body).where(Body.code == call.body["body"]))
    if body is None:
        raise unknown_reference(
            "body", f"Organet '{call.body['body']}' findes ikke.", "No such body."
        )
    ends = call.body.get("ends_at")
    try:
        meeting = meetings.plan_meeting(
            session, body, parse_date_time(call.body["starts_at"]), call.actor,
            ends_at=parse_date_time(ends) if ends else None,
            title=call.body.get("title") or "", location=call.body.get("location") or "",
            online_url=call.body.get("online_url"),
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, meeting, call.actor, 201)


@operation(
    "/meetings/<int:meeting_id>/move", "post", tag="Møder", summary="Flyt et møde",
    body=MOVE_BODY, ok={200: Reply("Mødet og dets sagers frister er flyttet.", MEETING)},
    errors=(403, 409, 422),
)  # fmt: skip
def move_meeting(call: Call) -> Response:
    """Move the meeting; the material deadlines of its cases move with it."""
    session = db()
    meeting = find_meeting(session, call)
    try:
        meetings.move_meeting(
            session, meeting, parse_date_time(call.body["starts_at"]), call.actor,
            comment=call.body.get("comment") or "",
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, meeting, call.actor)


@operation(
    "/meetings/<int:meeting_id>/cancel", "post", tag="Møder", summary="Aflys et møde",
    body=COMMENT_BODY, ok={200: Reply("Mødet er aflyst; sagernes frister går til næste møde.",
                                      MEETING)},
    errors=(403, 409, 422),
)  # fmt: skip
def cancel_meeting(call: Call) -> Response:
    """Cancel the meeting (it stays, marked cancelled)."""
    session = db()
    meeting = find_meeting(session, call)
    try:
        meetings.cancel_meeting(
            session, meeting, call.actor, comment=call.body.get("comment") or ""
        )
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, meeting, call.actor)


@operation(
    "/meetings/<int:meeting_id>/steps", "post", tag="Møder", summary="Tag et skridt i mødets liv",
    body=STEP_BODY,
    ok={200: Reply("Mødets nye status; at godkende referatet gennemfører beslutningerne.",
                   MEETING)},
    errors=(403, 409, 422),
)  # fmt: skip
def meeting_step(call: Call) -> Response:
    """Send for review, publish (freezes the agenda), hold, approve the minutes (fires the
    recorded decisions on their cases), close or reopen (states/meeting.toml)."""
    session = db()
    meeting = find_meeting(session, call)
    name = call.body["step"]
    steps = plain_steps()
    if name not in steps:
        listed = ", ".join(steps)
        raise ApiProblem(
            "unprocessable", f"Skridtet '{name}' findes ikke. Mulige: {listed}.",
            f"No step '{name}'. Possible: {listed}.", rule="known_step",
        )  # fmt: skip
    try:
        if name == "publish":
            agenda.publish(session, meeting, call.actor)
        elif name == "approve_minutes":
            minutes.approve_minutes(session, meeting, call.actor)
        else:
            meetings.step(
                session, meeting, name, call.actor, comment=call.body.get("comment") or ""
            )
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, meeting, call.actor)


@operation(
    "/meetings/<int:meeting_id>/agenda", "post", tag="Møder", summary="Sæt et punkt på dagsordenen",
    body=AGENDA_BODY, ok={201: Reply("Punktet er på dagsordenen.", MEETING)},
    errors=(403, 422),
)  # fmt: skip
def add_agenda_item(call: Call) -> Response:
    """Put a case (its sections filled from the case; its material deadline set) or an item
    without a case on the agenda."""
    session = db()
    meeting = find_meeting(session, call)
    body = call.body
    kind = ItemKind(body["kind"]) if body.get("kind") else None
    try:
        if body.get("case_id") is not None:
            case: Case = find_case(session, body["case_id"], call.actor)
            agenda.add_case(
                session, meeting, case, call.actor, kind=kind or ItemKind.DECISION,
                closed=bool(body.get("closed")), public_summary=body.get("public_summary") or "",
            )  # fmt: skip
        else:
            agenda.add_item(
                session, meeting, call.actor, title=body.get("title") or "",
                kind=kind or ItemKind.INFORMATION, recommendation=body.get("recommendation") or "",
            )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, meeting, call.actor, 201)


def find_item(session: Session, meeting: Meeting, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id or item.removed_at is not None:
        raise ApiProblem(
            "not-found",
            f"Punkt nr. {item_id} findes ikke på mødet.",
            f"Item {item_id} is not on the meeting.",
        )
    return item


@operation(
    "/meetings/<int:meeting_id>/items/<int:item_id>/outcome", "post", tag="Møder",
    summary="Registrér et punkts udfald (referat)", body=OUTCOME_BODY,
    ok={200: Reply("Udfaldet står i referatet; det gennemføres, når referatet godkendes.",
                   MEETING)},
    errors=(403, 422),
)  # fmt: skip
def record_outcome(call: Call) -> Response:
    """Record an item's outcome and decision text in the minutes."""
    session = db()
    meeting = find_meeting(session, call)
    item = find_item(session, meeting, call.path["item_id"])
    try:
        minutes.record_outcome(
            session, item, call.actor, Outcome(call.body["outcome"]),
            call.body.get("decision_text") or "",
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, meeting, call.actor)


@operation(
    "/meetings/<int:meeting_id>/attendance", "put", tag="Møder", summary="Registrér fremmødet",
    body=ATTENDANCE_BODY, ok={200: Reply("Fremmødet er registreret.", MEETING)},
    errors=(403, 422),
)  # fmt: skip
def record_attendance(call: Call) -> Response:
    """Replace the meeting's attendance: who was present, absent, and who took the minutes."""
    session = db()
    meeting = find_meeting(session, call)
    wanted: dict[str, Any] = call.body
    ids = {*wanted.get("present", []), *wanted.get("absent", [])}
    if wanted.get("minute_taker") is not None:
        ids.add(wanted["minute_taker"])
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    if missing := sorted(ids - set(users)):
        listed = ", ".join(str(m) for m in missing)
        raise unknown_reference("user_id", f"Brugerne {listed} findes ikke.", f"No users {listed}.")
    try:
        attendance.record_attendance(
            session, meeting, call.actor,
            present=[users[i] for i in wanted.get("present", [])],
            absent=[users[i] for i in wanted.get("absent", [])],
            minute_taker=users.get(wanted["minute_taker"]) if wanted.get("minute_taker") else None,
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, meeting, call.actor)
