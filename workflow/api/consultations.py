"""Consultations (høringer) through the API: start a round, answer (with a file), record a
party that will not answer, and read the rounds. Closing is the case's own transition
(`end_consultation`), refused by the `consultation_closed` rule while answers are awaited."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from sqlalchemy import select

from models import Attachment, Body, Case, Consultation, ConsultationResponse, Party, ResponseStatus
from workflow.api.cases import find_case
from workflow.api.files import FILE, upload_of
from workflow.api.problems import ApiProblem, json_response
from workflow.api.reference_data import REFERENCE
from workflow.api.refusals import refusal
from workflow.api.schema import array, date_input, integer, nullable, obj, string, text
from workflow.api.serialize import (
    BODY_REF,
    DAY,
    INT,
    PARTY_REF,
    STR,
    TIME,
    iso,
    iso_date,
    maybe,
    out,
)
from workflow.api.spec import Call, Reply, operation
from workflow.cases.attachment_views import folder
from workflow.consultations import operations as consultations
from workflow.engine.errors import WorkflowError
from workflow.web import db

RESPONSE = out(
    {
        "id": INT,
        "party": maybe(PARTY_REF),
        "body": maybe(BODY_REF),
        "name": STR,
        "status": {"type": "string", "enum": [s.value for s in ResponseStatus]},
        "text": STR,
        "attachment_id": nullable(INT),
        "answered_at": nullable(TIME),
    },
    "ConsultationResponse",
)
CONSULTATION = out(
    {
        "id": INT,
        "case_id": INT,
        "title": STR,
        "draft": STR,
        "attachment_id": nullable(INT),
        "deadline": DAY,
        "reminder_days": INT,
        "created_at": TIME,
        "open": {"type": "boolean"},
        "responses": array(RESPONSE),
    },
    "Consultation",
)
CONSULTATIONS = out({"items": array(CONSULTATION)}, "ConsultationList")
START_BODY = obj(
    {
        "title": string(300),
        "draft": text(),
        "deadline": nullable(date_input()),
        "party_ids": array({**integer(1), REFERENCE: "parties"}, uniqueItems=True, maxItems=100),
        "body_codes": array({**string(32, 1), REFERENCE: "bodies"}, uniqueItems=True, maxItems=100),
        "reminder_days": integer(0, 60),
        "attachment_id": nullable(integer(1)),
        "file": nullable(FILE),
    },
    description="Send sagens udkast i høring. Fristen er som standard den, sagen fik, da den "
    "blev sendt i høring (sagens handling »Send i høring«).",
)
ANSWER_BODY = obj(
    {"text": text(), "attachment_id": nullable(integer(1)), "file": nullable(FILE)},
    description="Et høringssvar: tekst og/eller en fil.",
)


def _response_json(session: Any, response: ConsultationResponse) -> dict[str, Any]:
    party = session.get(Party, response.party_id) if response.party_id else None
    body = session.get(Body, response.body_id) if response.body_id else None
    return {
        "id": response.id,
        "party": {"id": party.id, "code": party.code, "name": party.name} if party else None,
        "body": {"id": body.id, "code": body.code, "name": body.name} if body else None,
        "name": consultations.name_of(session, response),
        "status": response.status.value,
        "text": response.text,
        "attachment_id": response.attachment_id,
        "answered_at": iso(response.answered_at),
    }


def consultation_json(session: Any, case: Case, consultation: Consultation) -> dict[str, Any]:
    current = consultations.current(session, case)
    return {
        "id": consultation.id,
        "case_id": consultation.case_id,
        "title": consultation.title,
        "draft": consultation.draft,
        "attachment_id": consultation.attachment_id,
        "deadline": iso_date(consultation.deadline),
        "reminder_days": consultation.reminder_days,
        "created_at": iso(consultation.created_at),
        "open": current is not None
        and current.id == consultation.id
        and consultations.runs_consultation(case),
        "responses": [_response_json(session, r) for r in consultation.responses],
    }


@operation(
    "/cases/<int:case_id>/consultations", "get", tag="Høringer", summary="Sagens høringer",
    ok={200: Reply("Sagens høringsrunder med svarene, ældste først.", CONSULTATIONS)},
)  # fmt: skip
def list_consultations(call: Call) -> Response:
    """List the case's consultation rounds and each consulted party's answer."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    rounds = consultations.rounds(session, case)
    return json_response({"items": [consultation_json(session, case, c) for c in rounds]})


def _unknown(field: str, missing: list[Any], da: str, en: str) -> ApiProblem:
    listed = ", ".join(str(m) for m in missing)
    message_da, message_en = f"{da}: {listed}.", f"{en}: {listed}."
    rule = f"known_{field.removesuffix('_ids').removesuffix('_codes')}"
    return ApiProblem(
        "unprocessable", message_da, message_en, rule=rule,
        errors=[{"field": field, "rule": rule, "message": message_da, "message_da": message_da,
                 "message_en": message_en}],
    )  # fmt: skip


@operation(
    "/cases/<int:case_id>/consultations", "post", tag="Høringer", summary="Start en høring",
    body=START_BODY,
    ok={201: Reply("Høringen er sendt; hver hørt part får besked om fristen.", CONSULTATION)},
    errors=(403, 422),
)  # fmt: skip
def start_consultation(call: Call) -> Response:
    """Send the case in consultation to parties and bodies (the case must be in its
    consultation state; the secretariat or chairs of the case's body do this)."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    body = call.body
    party_ids: list[int] = body.get("party_ids") or []
    codes: list[str] = body.get("body_codes") or []
    parties = list(session.scalars(select(Party).where(Party.id.in_(party_ids))))
    if missing := sorted(set(party_ids) - {p.id for p in parties}):
        raise _unknown("party_ids", missing, "Parterne findes ikke", "No such parties")
    bodies = list(session.scalars(select(Body).where(Body.code.in_(codes))))
    if missing_codes := sorted(set(codes) - {b.code for b in bodies}):
        raise _unknown("body_codes", missing_codes, "Organerne findes ikke", "No such bodies")
    deadline = body.get("deadline")
    try:
        consultation = consultations.start(
            session, case, call.actor, title=body.get("title") or "", parties=parties,
            bodies=bodies, draft=body.get("draft") or "",
            deadline=date.fromisoformat(deadline) if deadline else None,
            attachment_id=_own_attachment(session, case, body.get("attachment_id")),
            reminder_days=body.get("reminder_days", 3), file=upload_of(body.get("file")),
            folder=folder(),
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return json_response(consultation_json(session, case, consultation), 201)


def _own_attachment(session: Any, case: Case, attachment_id: int | None) -> int | None:
    """An attachment named by id must be one of this case's (never another case's file)."""
    if attachment_id is None:
        return None
    found = session.get(Attachment, attachment_id)
    if found is None or found.case_id != case.id:
        raise _unknown(
            "attachment_id", [attachment_id], "Sagen har ikke bilaget", "The case has no attachment"
        )
    return attachment_id


def _response(session: Any, call: Call) -> tuple[ConsultationResponse, Case]:
    response = session.get(ConsultationResponse, call.path["response_id"])
    case = session.get(Case, response.consultation.case_id) if response is not None else None
    if response is None or case is None:
        raise ApiProblem(
            "not-found",
            f"Høringssvar nr. {call.path['response_id']} findes ikke.",
            f"Consultation response {call.path['response_id']} does not exist.",
        )
    return response, find_case(session, case.id, call.actor)


@operation(
    "/consultation-responses/<int:response_id>/answer", "post", tag="Høringer",
    summary="Afgiv et høringssvar", body=ANSWER_BODY,
    ok={200: Reply("Svaret er registreret.", RESPONSE)}, errors=(403, 422),
)  # fmt: skip
def answer_consultation(call: Call) -> Response:
    """Answer for the caller's own party or body, with text and/or a file."""
    session = db()
    response, case = _response(session, call)
    try:
        consultations.answer(
            session, response, call.actor, call.body.get("text") or "",
            attachment_id=_own_attachment(session, case, call.body.get("attachment_id")),
            file=upload_of(call.body.get("file")), folder=folder(),
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    return json_response(_response_json(session, response))


@operation(
    "/consultation-responses/<int:response_id>/no-answer", "post", tag="Høringer",
    summary="Registrér at en part ikke svarer",
    ok={200: Reply("Parten er registreret som ikke svarende.", RESPONSE)}, errors=(403, 422),
)  # fmt: skip
def mark_not_answering(call: Call) -> Response:
    """The case's secretariat or chairs record that a consulted party will not answer."""
    session = db()
    response, _case = _response(session, call)
    try:
        consultations.mark_not_answering(session, response, call.actor)
    except WorkflowError as error:
        raise refusal(error) from None
    return json_response(_response_json(session, response))
