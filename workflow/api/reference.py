"""Bodies, meetings, process definitions (and diagrams) and the caller's notifications."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import (
    Body,
    BodyParent,
    Case,
    FocusArea,
    Meeting,
    MeetingStatus,
    NationalGoal,
    Notification,
    Party,
    User,
)
from workflow import policy
from workflow.api.cases import CURSOR, LIMIT, find_case
from workflow.api.listing import cursor_id, encode_cursor
from workflow.api.problems import ApiProblem, json_response
from workflow.api.schema import INT32_MAX, array, integer, obj, string
from workflow.api.serialize import (
    BODY,
    FOCUS_AREA,
    INT,
    MEETING,
    MEETING_SUMMARY,
    NATIONAL_GOAL,
    NOTIFICATION,
    PARTY,
    PROCESS,
    PROCESS_SUMMARY,
    agenda_item_json,
    body_json,
    focus_area_json,
    meeting_summary,
    national_goal_json,
    notification_json,
    out,
    page,
    party_json,
    process_json,
    process_summary,
)
from workflow.api.spec import Call, Param, Reply, operation
from workflow.engine.definitions import ProcessDefinition
from workflow.engine.diagram import render_svg
from workflow.engine.processes import UnknownProcess, registry
from workflow.notifications import delivery as notify
from workflow.notifications.delivery import about_visible
from workflow.organisation import queries as organisation
from workflow.web import db

BODIES = out({"items": {"type": "array", "items": BODY}}, "BodyList")
MEETING_PAGE = page(MEETING_SUMMARY, "MeetingPage")
PROCESSES = out({"items": {"type": "array", "items": PROCESS_SUMMARY}}, "ProcessList")
NOTIFICATION_PAGE = page(NOTIFICATION, "NotificationPage")
VERSION = Param("version", integer(1), "En bestemt version (standard: den nyeste).")


@operation(
    "/bodies", "get", tag="Organisation", summary="List organer",
    ok={200: Reply("Alle organer, efter kode.", BODIES)},
)  # fmt: skip
def list_bodies(call: Call) -> Response:
    """List every body (also inactive ones, marked so) by code."""
    bodies = db().scalars(
        select(Body)
        .options(
            joinedload(Body.parent),
            selectinload(Body.former_parents).joinedload(BodyParent.parent),
        )
        .order_by(Body.code)
    )
    today = organisation.today()
    return json_response({"items": [body_json(b, today) for b in bodies]})


@operation(
    "/meetings", "get", tag="Møder", summary="List møder",
    query=(
        Param("body", string(32, 1), "Kun møder i organet (kode)."),
        Param("status", {"type": "string", "enum": [s.value for s in MeetingStatus]},
              "Kun møder med denne status."),
        LIMIT,
        CURSOR,
    ),
    ok={200: Reply("En side af møder, nyeste først.", MEETING_PAGE)},
)  # fmt: skip
def list_meetings(call: Call) -> Response:
    """List meetings, the newest first; filter by body and status."""
    session = db()
    query = select(Meeting).options(joinedload(Meeting.body))
    if call.args.get("body"):
        query = query.join(Meeting.body).where(Body.code == call.args["body"])
    if call.args.get("status"):
        query = query.where(Meeting.status == MeetingStatus(call.args["status"]))
    after = cursor_id(call.args.get("cursor"))
    if after is not None:
        query = query.where(Meeting.id < after)
    limit = call.args["limit"]
    meetings = list(session.scalars(query.order_by(Meeting.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(meetings[limit - 1].id) if len(meetings) > limit else None
    items = [
        meeting_summary(m) for m in meetings[:limit] if policy.may(call.actor, "view", m, session)
    ]
    return json_response({"items": items, "next_cursor": next_cursor})


@operation(
    "/meetings/<int:meeting_id>", "get", tag="Møder", summary="Hent et møde",
    ok={200: Reply("Mødet med dagsordenens punkter.", MEETING)},
)  # fmt: skip
def get_meeting(call: Call) -> Response:
    """Read a meeting and its agenda items; closed items (for a caller who is no member of the
    meeting's body) and items on cases the caller may not see in their public edition."""
    session = db()
    meeting_id = call.path["meeting_id"]
    meeting = (
        session.scalar(
            select(Meeting)
            .where(Meeting.id == meeting_id)
            .options(joinedload(Meeting.body), selectinload(Meeting.items))
        )
        if meeting_id <= INT32_MAX
        else None
    )
    if meeting is None or not policy.may(call.actor, "view", meeting, session):
        raise ApiProblem(
            "not-found",
            f"Møde nr. {meeting_id} findes ikke.",
            f"Meeting {meeting_id} does not exist.",
        )
    return json_response(meeting_json(session, meeting, call.actor))


def meeting_json(session: Session, meeting: Meeting, actor: User) -> dict[str, Any]:
    """A meeting with its agenda as `actor` may read it (closed items and cases by policy)."""
    items = sorted((i for i in meeting.items if i.removed_at is None), key=lambda i: i.position)
    case_ids = {i.case_id for i in items if i.case_id is not None}
    seen = (
        set(
            session.scalars(
                select(Case.id).where(Case.id.in_(case_ids), policy.visible_cases(session, actor))
            )
        )
        if case_ids
        else set()
    )
    sees_closed = policy.may(actor, "view_closed_items", meeting, session)
    return {
        **meeting_summary(meeting),
        "items": [
            agenda_item_json(i, sees_closed=sees_closed, sees_case=i.case_id in seen) for i in items
        ],
    }


READ_BODY = obj(
    {"ids": {**array(integer(1), uniqueItems=True, maxItems=500),
             "description": "De notifikationer, der er læst; udelades: alle."}},
)  # fmt: skip
READ_RESULT = out({"marked": INT, "unread": INT}, "NotificationsRead")


@operation(
    "/me/notifications/read", "post", tag="Mig", summary="Markér notifikationer som læst",
    body=READ_BODY,
    ok={200: Reply("Så mange blev markeret læst, og så mange er stadig ulæste.", READ_RESULT)},
)  # fmt: skip
def mark_notifications_read(call: Call) -> Response:
    """Mark the caller's own notifications read (those given, or all), as the inbox does;
    another user's notification is left alone."""
    session = db()
    marked = notify.mark_read(session, call.actor.id, call.body.get("ids"))
    unread = notify.unread_count(session, call.actor.id, policy.visible_cases(session, call.actor))
    return json_response({"marked": marked, "unread": unread})


PARTIES = out({"items": array(PARTY)}, "PartyList")
NATIONAL_GOALS = out({"items": array(NATIONAL_GOAL)}, "NationalGoalList")
FOCUS_AREAS = out({"items": array(FOCUS_AREA)}, "FocusAreaList")
Row = TypeVar("Row")


def list_of(rows: Iterable[Row], row_json: Callable[[Row], dict[str, Any]]) -> Response:
    """Answer a whole (short) reference list as `{"items": [...]}`."""
    return json_response({"items": [row_json(row) for row in rows]})


@operation(
    "/parties", "get", tag="Organisation", summary="Parterne",
    ok={200: Reply("Regionen, kommunerne, almen praksis og brugerorganisationerne.", PARTIES)},
)  # fmt: skip
def list_parties(call: Call) -> Response:
    """List the parties (for expenses and consultations), by code."""
    return list_of(db().scalars(select(Party).order_by(Party.code)), party_json)


@operation(
    "/national-goals", "get", tag="Organisation", summary="De nationale mål",
    ok={200: Reply("De nationale mål for sundhedsvæsenet, efter nummer.", NATIONAL_GOALS)},
)  # fmt: skip
def list_national_goals(call: Call) -> Response:
    """List the national quality goals a case may address (`national_goal_ids`)."""
    return list_of(
        db().scalars(select(NationalGoal).order_by(NationalGoal.number)), national_goal_json
    )


@operation(
    "/focus-areas", "get", tag="Organisation", summary="Fokusområderne",
    ok={200: Reply("Sundhedsaftalens fokusområder, efter kode.", FOCUS_AREAS)},
)  # fmt: skip
def list_focus_areas(call: Call) -> Response:
    """List the focus areas a case may belong to (`focus_area_id`)."""
    return list_of(db().scalars(select(FocusArea).order_by(FocusArea.code)), focus_area_json)


@operation(
    "/processes", "get", tag="Processer", summary="List processer",
    ok={200: Reply("Den nyeste version af hver proces.", PROCESSES)},
)  # fmt: skip
def list_processes(call: Call) -> Response:
    """List the newest version of every process definition."""
    return json_response({"items": [process_summary(d) for d in registry.all_latest(db())]})


def _definition(name: str, version: int | None) -> ProcessDefinition:
    session = db()
    try:
        if version is None:
            return registry.latest(session, name)
        return registry.get(session, name, version)
    except UnknownProcess:
        raise ApiProblem(
            "not-found",
            f"Processen '{name}'{f' i version {version}' if version else ''} findes ikke. "
            "Se GET /api/v1/processes.",
            f"The process '{name}' does not exist in that version.",
        ) from None


@operation(
    "/processes/<name>", "get", tag="Processer", summary="Hent en procesdefinition",
    query=(VERSION,),
    ok={200: Reply("Tilstande, handlinger (hvem må, regler, felter) og ruter.", PROCESS)},
)  # fmt: skip
def get_process(call: Call) -> Response:
    """Read a process definition as JSON."""
    return json_response(process_json(_definition(call.path["name"], call.args.get("version"))))


@operation(
    "/processes/<name>/diagram.svg", "get", tag="Processer", summary="Procesdiagram (SVG)",
    query=(
        VERSION,
        Param("lang", {"type": "string", "enum": ["da", "en"], "default": "da"}, "Sprog."),
        Param("case", integer(), "Fremhæv denne sags tilstand."),
    ),
    ok={200: Reply("Diagrammet som SVG.", {"type": "string"}, "image/svg+xml")},
)  # fmt: skip
def process_diagram(call: Call) -> Response:
    """Draw the process as an accessible SVG, optionally with a case's state highlighted."""
    definition = _definition(call.path["name"], call.args.get("version"))
    current = None
    if call.args.get("case") is not None:
        case = find_case(db(), call.args["case"], call.actor)
        if (case.process, case.process_version) == (definition.name, definition.version):
            current = case.state
    svg = render_svg(definition, current=current, lang=call.args["lang"])
    return Response(svg, content_type="image/svg+xml; charset=utf-8")


@operation(
    "/me/notifications", "get", tag="Mig", summary="Mine notifikationer",
    query=(
        Param("unread", {"type": "boolean"}, "true: kun ulæste; false: kun læste."),
        LIMIT,
        CURSOR,
    ),
    ok={200: Reply("En side af kalderens notifikationer, nyeste først.", NOTIFICATION_PAGE)},
)  # fmt: skip
def my_notifications(call: Call) -> Response:
    """List the notifications addressed to the token's user, the newest first; those of a
    case the user may not see (now) are left out."""
    session = db()
    query = select(Notification).where(
        Notification.recipient_id == call.actor.id,
        about_visible(policy.visible_cases(session, call.actor)),
    )
    unread = call.args.get("unread")
    if unread is not None:
        query = query.where(
            Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None)
        )
    after = cursor_id(call.args.get("cursor"))
    if after is not None:
        query = query.where(Notification.id < after)
    limit = call.args["limit"]
    found = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(found[limit - 1].id) if len(found) > limit else None
    items = [notification_json(n) for n in found[:limit]]
    return json_response({"items": items, "next_cursor": next_cursor})
