"""Cases through the API: list, open, read, edit and act — all through the engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Body, Case, CaseEvent, FocusArea, NationalGoal, Party, User
from workflow import policy
from workflow.api.listing import (
    CURSOR_DESCRIPTION,
    CURSOR_SCHEMA,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CaseFilter,
    case_page,
    cursor_id,
)
from workflow.api.preconditions import IF_MATCH_SCHEMA, case_etag, expected_version
from workflow.api.problems import ApiProblem, json_response
from workflow.api.reference_data import REFERENCE
from workflow.api.refusals import refusal
from workflow.api.schema import (
    INT32_MAX,
    JSON_INT_MAX,
    LONG_TEXT,
    Schema,
    array,
    integer,
    nullable,
    obj,
    parse_date_time,
    string,
    text,
)
from workflow.api.serialize import (
    AMOUNT_PATTERN,
    CASE,
    CASE_FIELDS,
    CASE_SUMMARY,
    EVENT,
    NATIONAL_GOAL_IDS,
    TRANSITION_RESULT,
    allowed_json,
    body_ref,
    case_field_input,
    case_json,
    case_summary,
    event_json,
    out,
    page,
)
from workflow.api.spec import Call, Param, Reply, operation
from workflow.cases import queries
from workflow.cases.queries import definitions
from workflow.engine import core as engine
from workflow.engine import values
from workflow.engine.errors import Conflict, WorkflowError
from workflow.engine.processes import registry
from workflow.web import db

NAME = string(64, 1, pattern="^[a-z0-9_]+$")
LIMIT = Param("limit", integer(1, MAX_LIMIT, default=DEFAULT_LIMIT), "Højst så mange pr. side.")
CURSOR = Param("cursor", CURSOR_SCHEMA, CURSOR_DESCRIPTION)
IF_MATCH = Param("If-Match", IF_MATCH_SCHEMA, "Sagens ETag fra det forrige svar.")

CASE_QUERY = (
    Param(
        "process",
        {**NAME, REFERENCE: "processes"},
        "Kun sager i denne proces (fx signature_initiative).",
    ),
    Param("state", {**NAME, REFERENCE: "states"}, "Kun sager i denne tilstand (fx at_tss)."),
    Param(
        "body",
        {**string(32, 1), REFERENCE: "bodies"},
        "Kun sager, der stammer fra eller behandles i organet (kode).",
    ),
    Param(
        "focus_area", {**integer(), REFERENCE: "focus_areas"}, "Kun sager under fokusområdet (id)."
    ),
    Param(
        "national_goal",
        {**integer(), REFERENCE: "national_goals"},
        "Kun sager, der adresserer det nationale mål (id).",
    ),
    Param("overdue", {"type": "boolean"}, "true: kun sager med en overskredet frist; false: uden."),
    Param("q", string(200, 1), "Fritekst i titel, resumé og ESDH-nummer, eller sagsnummer."),
    Param("updated_since", {"type": "string", "format": "date-time"}, "Kun sager ændret siden."),
    LIMIT,
    CURSOR,
)

FIELD_INPUTS: dict[str, Schema] = {name: case_field_input(name) for name in CASE_FIELDS}
CREATE_BODY = obj(
    {
        "process": {**NAME, REFERENCE: "processes"},
        "originating_body": {**string(32, 1), REFERENCE: "bodies"},
        **FIELD_INPUTS,
        "national_goal_ids": NATIONAL_GOAL_IDS,
    },
    required=("process", "originating_body", "title"),
    description="Opret en kladde; felterne er sagens felter.",
    # A complete proposal, one that meets every rule of its process (the Triple Aim texts say
    # something, roles and financing are stated): a client or a fuzzer starting from it can
    # carry the case on. The served document names a focus area and goals that exist.
    examples=[
        {
            "process": "signature_initiative",
            "originating_body": "SU-NORD-SOM",
            "title": "Fælles opsporing af KOL i almen praksis og kommunerne",
            "summary": "Tidlig opsporing af KOL gennem spirometri hos egen læge og i kommunen.",
            "role_distribution": "Kommunen tilbyder spirometri, hospitalet udreder, almen "
            "praksis følger op.",
            "general_practice_role": "Almen praksis henviser og følger op på behandlingen.",
            "triple_aim_population": "Færre borgere i regionen lever med uopdaget KOL.",
            "triple_aim_quality": "Flere borgere får stillet diagnosen i et tidligt stadie.",
            "triple_aim_economy": "Færre akutte indlæggelser opvejer udgiften til spirometri.",
            "triple_aim_experience": "Borgeren oplever ét sammenhængende forløb tæt på hjemmet.",
            "business_case": "Færre indlæggelser opvejer udgiften; ingen kommunal merudgift.",
            "focus_area_id": 1,
            "national_goal_ids": [1, 2],
        }
    ],
)
EXPECTED_VERSION = integer(
    1, description="Den version, ændringen bygger på (eller send sagens ETag i If-Match)."
)
EXPENSE_INPUT = obj(
    {
        "party_id": {**integer(1), REFERENCE: "parties"},
        "amount_dkk": {
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "description": "Merudgift pr. år i kr., 0 eller mere, højst to decimaler.",
            "examples": ["250000", "1250.50"],
        },
        "note": string(500),
    },
    required=("party_id", "amount_dkk"),
)
EXPENSES_INPUT: Schema = {
    **array(EXPENSE_INPUT, maxItems=100),
    "description": "Sagens merudgifter pr. part; listen erstatter de gemte (tom liste: ingen).",
}
EDIT_BODY = obj(
    {
        "expected_version": EXPECTED_VERSION,
        **FIELD_INPUTS,
        "national_goal_ids": NATIONAL_GOAL_IDS,
        "expenses": EXPENSES_INPUT,
    },
    description="Ret sagens felter (ikke dens tilstand); udeladte felter bevares.",
)
DATA_VALUE: Schema = {
    "type": ["string", "integer", "number", "boolean", "null"],
    "maxLength": 20_000,
    "pattern": LONG_TEXT,
    "minimum": -JSON_INT_MAX,
    "maximum": JSON_INT_MAX,
}
TRANSITION_BODY = obj(
    {
        "trigger": {**NAME, REFERENCE: "triggers"},
        "comment": nullable(text()),
        "data": {
            "type": "object",
            "properties": {
                "meeting_id": nullable(integer()),
                "all_answered": nullable({"type": ["boolean", "string"], "maxLength": 10}),
            },
            "additionalProperties": DATA_VALUE,
            "maxProperties": 50,
            "description": "Handlingens felter; 'meeting_id' for en beslutning på et møde.",
        },
        "expected_version": EXPECTED_VERSION,
    },
    required=("trigger",),
)
CASE_PAGE = page(CASE_SUMMARY, "CasePage")
EVENTS = out({"items": {"type": "array", "items": EVENT}}, "EventList")


ETAG_HEADER = {"ETag": {"type": "string", "pattern": r'^"case-[0-9]+-v[0-9]+"$'}}


def _links_from_case(id_pointer: str) -> dict[str, dict[str, Any]]:
    """How to go on from an answer that shows a case: read it, act on it, edit it."""
    case_id = f"$response.body#/{id_pointer}"
    at_this_version = {"path.case_id": case_id, "header.If-Match": "$response.header.ETag"}
    return {
        "GetCase": {"operationId": "get_case", "parameters": {"path.case_id": case_id}},
        "PerformAllowedTrigger": {
            "operationId": "perform",
            "parameters": at_this_version,
            "requestBody": {
                "trigger": "$response.body#/allowed_triggers/0/trigger",
                "expected_version": "$response.body#/version",
            },
            "description": "Udfør den første handling, kalderen må nu, på den viste version.",
        },
        "EditCase": {
            "operationId": "edit_case",
            "parameters": at_this_version,
            "requestBody": {"expected_version": "$response.body#/version"},
        },
        "CaseEvents": {"operationId": "case_events", "parameters": {"path.case_id": case_id}},
    }


def find_case(session: Session, case_id: int, actor: User) -> Case:
    """Load the case the caller may see, or answer 404 (as for a case that does not exist)."""
    case = queries.find_case(session, case_id) if case_id <= INT32_MAX else None
    if case is None or not policy.may(actor, "view", case, session):
        raise ApiProblem(
            "not-found",
            f"Sag nr. {case_id} findes ikke.",
            f"Case {case_id} does not exist.",
        )
    return case


def body_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Body.id, Body.code)).tuples().all())


def _case_response(session: Session, case: Case, actor: Any, status: int = 200) -> Response:
    deadlines = queries.case_deadlines(session, case)
    response = json_response(
        case_json(session, case, actor, deadlines, body_codes(session)), status
    )
    response.headers["Location"] = url_for("api.get_case", case_id=case.id)
    response.headers["ETag"] = case_etag(case)
    return response


@operation(
    "/cases", "get", tag="Sager", summary="List sager",
    query=CASE_QUERY, ok={200: Reply("En side af sager, nyeste først.", CASE_PAGE)},
)  # fmt: skip
def list_cases(call: Call) -> Response:
    """List cases with the web list's filters; page on with `cursor`."""
    session = db()
    args = call.args
    since = args.get("updated_since")
    case_filter = CaseFilter(
        process=args.get("process"),
        state=args.get("state"),
        body=args.get("body"),
        focus_area=args.get("focus_area"),
        national_goal=args.get("national_goal"),
        overdue=args.get("overdue"),
        q=args.get("q"),
        updated_since=parse_date_time(since) if since else None,
    )
    visible = policy.visible_cases(session, call.actor)
    rows, next_cursor = case_page(
        session, case_filter, args["limit"], cursor_id(args.get("cursor")), visible
    )
    known = definitions(session)
    items = [
        case_summary(case, known[(case.process, case.process_version)], due_at)
        for case, due_at in rows
    ]
    return json_response({"items": items, "next_cursor": next_cursor})


def _unknown_reference(field: str, da: str, en: str, rule: str | None = None) -> ApiProblem:
    """A reference to something that does not exist; the rule is `known_<field>`."""
    rule = rule or "known_" + field.removesuffix("_ids").removesuffix("_id")
    return ApiProblem(
        "unprocessable",
        da,
        en,
        errors=[{"field": field, "rule": rule, "message": da, "message_da": da, "message_en": en}],
        rule=rule,
    )


def _content_changes(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """The case fields in `body` as the model stores them; unknown references answer 422."""
    changes = {name: body[name] for name in CASE_FIELDS if name in body}
    for name in ("received_on", "sent_on"):
        if changes.get(name) is not None:
            changes[name] = date.fromisoformat(changes[name])
    for name, value in changes.items():
        if isinstance(value, str) and name not in ("received_on", "sent_on"):
            # The schema refused control characters; CR/LF line breaks are stored as LF.
            changes[name] = values.long_text(value).strip()
    focus = changes.get("focus_area_id")
    if focus is not None and session.get(FocusArea, focus) is None:
        raise _unknown_reference(
            "focus_area_id",
            f"Fokusområde {focus} findes ikke. Se fokusområderne i sagens proces.",
            f"Focus area {focus} does not exist.",
        )
    return changes


def _goal_ids(session: Session, body: dict[str, Any]) -> list[int] | None:
    wanted: list[int] | None = body.get("national_goal_ids")
    if wanted is None:
        return None
    found = set(session.scalars(select(NationalGoal.id).where(NationalGoal.id.in_(wanted))))
    missing = sorted(set(wanted) - found)
    if missing:
        listed = ", ".join(str(m) for m in missing)
        raise _unknown_reference(
            "national_goal_ids",
            f"De nationale mål {listed} findes ikke.",
            f"National goals {listed} do not exist.",
        )
    return wanted


def _expense_lines(
    session: Session, wanted: list[dict[str, Any]] | None
) -> list[engine.ExpenseLine] | None:
    """The body's expense lines for the engine; one line per party, and parties that exist."""
    if wanted is None:
        return None
    party_ids = [line["party_id"] for line in wanted]
    if len(set(party_ids)) != len(party_ids):
        raise _unknown_reference(
            "expenses",
            "En part står i flere linjer. Skriv partens samlede merudgift i én linje.",
            "A party appears in more than one line; give its total in one line.",
            rule="one_line_per_party",
        )
    found = set(session.scalars(select(Party.id).where(Party.id.in_(party_ids))))
    if missing := sorted(set(party_ids) - found):
        listed = ", ".join(str(m) for m in missing)
        raise _unknown_reference(
            "expenses",
            f"Parterne {listed} findes ikke. Se GET /api/v1/parties.",
            f"Parties {listed} do not exist.",
            rule="known_party",
        )
    return [
        engine.ExpenseLine(
            line["party_id"],
            Decimal(line["amount_dkk"]),
            values.single_line(line.get("note") or "").strip(),
        )
        for line in wanted
    ]


@operation(
    "/cases", "post", tag="Sager", summary="Opret en kladde",
    body=CREATE_BODY,
    ok={201: Reply("Sagen er oprettet i sin process første tilstand.", CASE, headers=ETAG_HEADER,
                   links=_links_from_case("id"))},
    errors=(403, 422),
)  # fmt: skip
def create_case(call: Call) -> Response:
    """Open a case (a draft) for a body the caller is a member of."""
    session = db()
    body = call.body
    if body["process"] not in registry.names(session):
        raise _unknown_reference(
            "process",
            f"Processen '{body['process']}' findes ikke. Se GET /api/v1/processes.",
            f"The process '{body['process']}' does not exist.",
        )
    origin = session.scalar(select(Body).where(Body.code == body["originating_body"]))
    if origin is None:
        raise _unknown_reference(
            "originating_body",
            f"Organet '{body['originating_body']}' findes ikke. Se GET /api/v1/bodies.",
            f"The body '{body['originating_body']}' does not exist.",
        )
    fields = _content_changes(session, body)
    title = fields.pop("title")
    try:
        case = engine.create_case(
            session,
            process=body["process"],
            title=title,
            originating_body=origin,
            actor=call.actor,
            national_goal_ids=_goal_ids(session, body),
            **fields,
        )
    except WorkflowError as error:
        raise refusal(error) from None
    return _case_response(session, case, call.actor, 201)


@operation(
    "/cases/<int:case_id>", "get", tag="Sager", summary="Hent en sag",
    ok={200: Reply("Sagen med felter, frister og kalderens mulige handlinger.", CASE,
                   headers=ETAG_HEADER, links=_links_from_case("id"))},
)  # fmt: skip
def get_case(call: Call) -> Response:
    """Read a case: fields, state, version, open deadlines and `allowed_triggers`."""
    session = db()
    return _case_response(session, find_case(session, call.path["case_id"], call.actor), call.actor)


@operation(
    "/cases/<int:case_id>", "patch", tag="Sager", summary="Ret en sags felter",
    body=EDIT_BODY, headers=(IF_MATCH,),
    ok={200: Reply("Sagen efter rettelsen.", CASE, headers=ETAG_HEADER,
                   links=_links_from_case("id"))},
    errors=(403, 409, 412, 422, 428),
)  # fmt: skip
def edit_case(call: Call) -> Response:
    """Change a case's fields through the engine (audited), refused if the version is stale:
    send the case's ETag in `If-Match` (412 when it is not current) or `expected_version`."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    version = expected_version(case, call.body.get("expected_version"))
    changes = _content_changes(session, call.body)
    goal_ids = _goal_ids(session, call.body)
    expenses = _expense_lines(session, call.body.get("expenses"))
    try:
        engine.edit_case(case, call.actor, changes, version, goal_ids, expenses)
    except WorkflowError as error:
        raise refusal(error) from None
    return _case_response(session, case, call.actor)


@operation(
    "/cases/<int:case_id>/transitions", "post", tag="Sager", summary="Udfør en handling",
    body=TRANSITION_BODY, headers=(IF_MATCH,),
    ok={200: Reply("Handlingen er udført; sagens nye tilstand og version.", TRANSITION_RESULT,
                   headers=ETAG_HEADER, links=_links_from_case("case_id"))},
    errors=(403, 409, 412, 422, 428),
)  # fmt: skip
def perform(call: Call) -> Response:
    """Fire a trigger through engine.perform(): 403 who may, 409 stale or invalid, 412 an
    `If-Match` that is not the case's ETag, 422 the rules (each named in `rule`)."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    body = call.body
    version = expected_version(case, body.get("expected_version"))
    data = {k: v for k, v in (body.get("data") or {}).items() if v is not None}
    try:
        event = engine.perform(
            case,
            body["trigger"],
            call.actor,
            comment=body.get("comment"),
            data=data,
            expected_version=version,
        )
    except Conflict as error:
        raise refusal(error, case) from None
    except WorkflowError as error:
        raise refusal(error) from None
    state = engine.definition_of(case).states[case.state]
    result = {
        "case_id": case.id,
        "state": case.state,
        "state_label": state.label,
        "state_label_en": state.label_en,
        "version": case.version,
        "current_body": body_ref(case.current_body),
        "event": event_json(event),
        "routed": [event_json(e) for e in _routed_after(session, event)],
        "allowed_triggers": allowed_json(session, case, call.actor),
    }
    response = json_response(result)
    response.headers["ETag"] = case_etag(case)
    return response


def _routed_after(session: Session, event: CaseEvent) -> list[CaseEvent]:
    """The moves the engine made by itself after the caller's action (e.g. to TSS because the
    matter is beyond the forum's mandate); each carries the rule's reason as its comment."""
    return list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == event.case_id, CaseEvent.seq > event.seq)
            .order_by(CaseEvent.seq)
        )
    )


@operation(
    "/cases/<int:case_id>/events", "get", tag="Sager", summary="Sagens historik",
    ok={200: Reply("Alle sagens hændelser, ældste først.", EVENTS)},
)  # fmt: skip
def case_events(call: Call) -> Response:
    """List the case's audit trail, oldest first."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .options(joinedload(CaseEvent.actor))
        .order_by(CaseEvent.seq)
    )
    return json_response({"items": [event_json(e) for e in events]})
