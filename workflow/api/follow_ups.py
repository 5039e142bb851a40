"""The decision register (beslutningsregister) and its follow-ups through the API: list the
caller's register with filters, read one, register a follow-up on a decided item and report it
done — the rows and operations of the register page (workflow.meetings.register, .minutes)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, url_for
from sqlalchemy.orm import Session

from models import Body, Case, FollowUpItem, Meeting, User
from workflow.api.meetings import find_item, find_meeting, unknown_reference
from workflow.api.problems import ApiProblem, json_response
from workflow.api.reference_data import REFERENCE
from workflow.api.refusals import refusal
from workflow.api.schema import date_input, integer, obj, string, text
from workflow.api.serialize import BOOL, DAY, INT, STR, TIME, iso, iso_date, maybe, out
from workflow.api.spec import Call, Param, Reply, component, operation
from workflow.engine import clock
from workflow.engine.calendar import local_date
from workflow.engine.errors import WorkflowError
from workflow.meetings import minutes
from workflow.meetings.register import may_read, register_of
from workflow.web import db

STATUSES = ["open", "overdue", "done"]
PERSON = component(
    "Person", {"type": "object", "properties": {"id": INT, "name": STR}, "required": ["id", "name"]}
)
MEETING_REF = component(
    "MeetingRef",
    {
        "type": "object",
        "properties": {"id": INT, "body": STR, "starts_at": TIME},
        "required": ["id", "body", "starts_at"],
    },
)
FOLLOW_UP = out(
    {
        "id": INT,
        "case_id": INT,
        "case_title": STR,
        "meeting": maybe(MEETING_REF),
        "agenda_item_id": {"type": ["integer", "null"]},
        "description": STR,
        "owner": maybe(PERSON),
        "due_on": DAY,
        "done_at": {"type": ["string", "null"], "format": "date-time"},
        "status": {"type": "string", "enum": STATUSES},
        "overdue": BOOL,
    },
    "FollowUp",
)
FOLLOW_UPS = out({"items": {"type": "array", "items": FOLLOW_UP}}, "FollowUpList")
LINKS = {
    "GetFollowUp": {
        "operationId": "get_follow_up",
        "parameters": {"path.follow_up_id": "$response.body#/id"},
    },
    "CompleteFollowUp": {
        "operationId": "complete_follow_up",
        "parameters": {"path.follow_up_id": "$response.body#/id"},
        "description": "Meld opfølgningen udført (den ansvarlige eller sekretariatet).",
    },
    "GetCase": {
        "operationId": "get_case",
        "parameters": {"path.case_id": "$response.body#/case_id"},
    },
}
QUERY = (
    Param(
        "status",
        {"type": "string", "enum": STATUSES, "examples": ["open"]},
        "open: ikke udført (også de overskredne); overdue: fristen er overskredet; done: udført "
        "(de seneste 50, som registret viser).",
    ),
    Param(
        "body",
        {**string(32, 1), REFERENCE: "bodies"},
        "Kun opfølgninger fra organets møder (kode).",
    ),
    Param("case_id", integer(), "Kun opfølgninger på sagen."),
    Param("owner_id", integer(), "Kun opfølgninger med denne ansvarlige (bruger-id)."),
    Param("due_before", date_input(), "Kun opfølgninger med frist på eller før dagen."),
)
CREATE_BODY = obj(
    {
        "description": {**text(2000), "minLength": 1, "examples": ["Afrapportér til TSS"]},
        "owner_id": integer(description="Den ansvarlige bruger (id)."),
        "due_on": date_input(),
    },
    required=("description", "owner_id", "due_on"),
    description="En opfølgning, beslutningen beder om: hvad, hvem og hvornår.",
)


def _status(follow_up: FollowUpItem, today: date) -> str:
    if follow_up.done_at is not None:
        return "done"
    return "overdue" if follow_up.due_on < today else "open"


def _meeting_ref(meeting: Meeting | None, body: Body | None) -> dict[str, Any] | None:
    if meeting is None:
        return None
    code = body.code if body else ""
    return {"id": meeting.id, "body": code, "starts_at": iso(meeting.starts_at)}


def follow_up_json(session: Session, follow_up: FollowUpItem, today: date) -> dict[str, Any]:
    """A follow-up as the register lists it."""
    case = session.get(Case, follow_up.case_id)
    case_title = case.title if case is not None else ""
    meeting = session.get(Meeting, follow_up.meeting_id) if follow_up.meeting_id else None
    body = session.get(Body, meeting.body_id) if meeting else None
    owner = session.get(User, follow_up.owner_id)
    status = _status(follow_up, today)
    return {
        "id": follow_up.id,
        "case_id": follow_up.case_id,
        "case_title": case_title,
        "meeting": _meeting_ref(meeting, body),
        "agenda_item_id": follow_up.agenda_item_id,
        "description": follow_up.description,
        "owner": {"id": owner.id, "name": owner.name} if owner else None,
        "due_on": iso_date(follow_up.due_on),
        "done_at": iso(follow_up.done_at),
        "status": status,
        "overdue": status == "overdue",
    }


def _wanted(session: Session, follow_up: FollowUpItem, query: dict[str, Any], today: date) -> bool:
    status = query.get("status")
    if (
        status
        and _status(follow_up, today) != status
        and not (status == "open" and follow_up.done_at is None)
    ):
        return False
    if query.get("case_id") and follow_up.case_id != query["case_id"]:
        return False
    if query.get("owner_id") and follow_up.owner_id != query["owner_id"]:
        return False
    if query.get("due_before") and follow_up.due_on > date.fromisoformat(query["due_before"]):
        return False
    if query.get("body"):
        meeting = session.get(Meeting, follow_up.meeting_id) if follow_up.meeting_id else None
        body = session.get(Body, meeting.body_id) if meeting else None
        if body is None or body.code != query["body"]:
            return False
    return True


@operation(
    "/follow-ups", "get", tag="Beslutningsregister", summary="Beslutningsregistret",
    query=QUERY,
    ok={200: Reply("Kalderens beslutningsregister: de åbne opfølgninger med den tidligste frist "
                   "først, derefter de senest udførte.", FOLLOW_UPS)},
)  # fmt: skip
def list_follow_ups(call: Call) -> Response:
    """List the follow-ups the register page shows the caller, filtered."""
    session = db()
    found = register_of(session, call.actor)
    today = local_date(clock.now())
    items = [
        follow_up_json(session, f, today)
        for f in found.open_items + found.done_items
        if _wanted(session, f, call.args, today)
    ]
    return json_response({"items": items})


def _find(session: Session, call: Call) -> FollowUpItem:
    follow_up = session.get(FollowUpItem, call.path["follow_up_id"])
    if follow_up is None or not may_read(session, call.actor, follow_up):
        raise ApiProblem(
            "not-found",
            f"Opfølgning nr. {call.path['follow_up_id']} findes ikke.",
            f"Follow-up {call.path['follow_up_id']} does not exist.",
        )
    return follow_up


def _answer(session: Session, follow_up: FollowUpItem, status: int = 200) -> Response:
    response = json_response(follow_up_json(session, follow_up, local_date(clock.now())), status)
    response.headers["Location"] = url_for("api.get_follow_up", follow_up_id=follow_up.id)
    return response


@operation(
    "/follow-ups/<int:follow_up_id>", "get", tag="Beslutningsregister",
    summary="Hent en opfølgning",
    ok={200: Reply("Opfølgningen.", FOLLOW_UP, links=LINKS)},
)  # fmt: skip
def get_follow_up(call: Call) -> Response:
    """Read one follow-up of the caller's register."""
    session = db()
    return _answer(session, _find(session, call))


@operation(
    "/meetings/<int:meeting_id>/items/<int:item_id>/follow-ups", "post",
    tag="Beslutningsregister", summary="Registrér en opfølgning på et punkt", body=CREATE_BODY,
    ok={201: Reply("Opfølgningen står i beslutningsregistret med sin frist og påmindelser.",
                   FOLLOW_UP, links=LINKS)},
    errors=(403, 422),
)  # fmt: skip
def add_follow_up(call: Call) -> Response:
    """Register a follow-up a decision asks for (the secretariat of the meeting's body)."""
    session = db()
    meeting = find_meeting(session, call)
    item = find_item(session, meeting, call.path["item_id"])
    owner = session.get(User, call.body["owner_id"])
    if owner is None or not owner.active:
        raise unknown_reference(
            "owner_id",
            f"Bruger nr. {call.body['owner_id']} findes ikke eller er ikke aktiv.",
            f"User {call.body['owner_id']} does not exist or is not active.",
        )
    try:
        follow_up = minutes.add_follow_up(
            session, item, call.actor, description=call.body["description"], owner=owner,
            due_on=date.fromisoformat(call.body["due_on"]),
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, follow_up, 201)


@operation(
    "/follow-ups/<int:follow_up_id>/done", "post", tag="Beslutningsregister",
    summary="Meld en opfølgning udført",
    ok={200: Reply("Opfølgningen er udført; det står på sagens tidslinje.", FOLLOW_UP,
                   links=LINKS)},
    errors=(403, 422),
)  # fmt: skip
def complete_follow_up(call: Call) -> Response:
    """Report a follow-up done (its owner or the secretariat); its deadline is met."""
    session = db()
    follow_up = _find(session, call)
    try:
        minutes.complete_follow_up(session, follow_up, call.actor)
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, follow_up)
