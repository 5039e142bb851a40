"""Implementation through the API: a case's units, their reports, and the units' creation.
Each report is the page's operation: audited, and when the last unit is done the case moves
on in the same transaction (the process's completion trigger)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from sqlalchemy.orm import Session

from models import Body, Case, ImplementationState, ImplementationStatus
from workflow import policy
from workflow.api.cases import find_case
from workflow.api.preconditions import case_etag
from workflow.api.problems import ApiProblem, json_response
from workflow.api.refusals import refusal
from workflow.api.schema import date_input, nullable, obj, text
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
from workflow.engine.errors import WorkflowError
from workflow.implementation import operations as implementation
from workflow.web import db

STATUS = {"type": "string", "enum": [s.value for s in ImplementationState]}
PROGRESS = out(
    {"total": INT, "not_started": INT, "in_progress": INT, "implemented": INT,
     "not_relevant": INT, "done": INT, "complete": {"type": "boolean"}},
    "ImplementationProgress",
)  # fmt: skip
UNIT = out(
    {
        "id": INT,
        "case_id": INT,
        "party": PARTY_REF,
        "responsible_body": maybe(BODY_REF),
        "status": STATUS,
        "reason": STR,
        "started_on": nullable(DAY),
        "implemented_on": nullable(DAY),
        "updated_at": TIME,
        "may_report": {"type": "boolean"},
    },
    "ImplementationUnit",
)
IMPLEMENTATION = out(
    {"case_id": INT, "state": STR, "implementing": {"type": "boolean"}, "progress": PROGRESS,
     "units": {"type": "array", "items": UNIT}},
    "Implementation",
)  # fmt: skip
REPORT_BODY = obj(
    {
        "status": STATUS,
        "reason": text(),
        "started_on": nullable(date_input()),
        "implemented_on": nullable(date_input()),
    },
    required=("status",),
    description="Enhedens status; 'ikke relevant' kræver en begrundelse.",
)
REPORT_RESULT = out(
    {"unit": UNIT, "progress": PROGRESS, "case_state": STR, "case_version": INT,
     "completed": {"type": "boolean", "description": "Sidste enhed: sagen er meldt videre."}},
    "ImplementationReport",
)  # fmt: skip


def _progress_json(progress: implementation.Progress) -> dict[str, Any]:
    return {
        "total": progress.total, "not_started": progress.not_started,
        "in_progress": progress.in_progress, "implemented": progress.implemented,
        "not_relevant": progress.not_relevant, "done": progress.done,
        "complete": progress.complete,
    }  # fmt: skip


def unit_json(session: Session, unit: ImplementationStatus, actor: Any) -> dict[str, Any]:
    body = session.get(Body, unit.responsible_body_id) if unit.responsible_body_id else None
    party = unit.party
    return {
        "id": unit.id,
        "case_id": unit.case_id,
        "party": {"id": party.id, "code": party.code, "name": party.name},
        "responsible_body": {"id": body.id, "code": body.code, "name": body.name} if body else None,
        "status": unit.status.value,
        "reason": unit.reason,
        "started_on": iso_date(unit.started_on),
        "implemented_on": iso_date(unit.implemented_on),
        "updated_at": iso(unit.updated_at),
        "may_report": policy.may(actor, "report", unit, session),
    }


def _implementation_json(session: Session, case: Case, actor: Any) -> dict[str, Any]:
    units = implementation.units_of(session, case)
    return {
        "case_id": case.id,
        "state": case.state,
        "implementing": implementation.is_implementing(case),
        "progress": _progress_json(implementation.progress_of(units)),
        "units": [unit_json(session, u, actor) for u in units],
    }


@operation(
    "/cases/<int:case_id>/implementation", "get", tag="Implementering",
    summary="Sagens implementering",
    ok={200: Reply("Enhederne (kommuner, hospitaler, praksis) og hvor langt de er.",
                   IMPLEMENTATION)},
)  # fmt: skip
def get_implementation(call: Call) -> Response:
    """The case's implementation units and progress, as the implementation page shows them."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    return json_response(_implementation_json(session, case, call.actor))


@operation(
    "/cases/<int:case_id>/implementation/units", "post", tag="Implementering",
    summary="Opret manglende enheder",
    ok={200: Reply("Enhederne efter oprettelsen.", IMPLEMENTATION)}, errors=(403, 409),
)  # fmt: skip
def create_units(call: Call) -> Response:
    """Create the units of a case that reached implementation before units were automatic."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    try:
        implementation.ensure_units(session, case, call.actor)
    except WorkflowError as error:
        raise refusal(error) from None
    return json_response(_implementation_json(session, case, call.actor))


@operation(
    "/implementation-units/<int:unit_id>/reports", "post", tag="Implementering",
    summary="Meld en enheds status", body=REPORT_BODY,
    ok={200: Reply("Status er gemt; den sidste færdige enhed melder sagen videre.",
                   REPORT_RESULT)},
    errors=(403, 409, 422),
)  # fmt: skip
def report_unit(call: Call) -> Response:
    """Report a unit's status (its responsible body, the case's secretariat or TSS)."""
    session = db()
    unit = session.get(ImplementationStatus, call.path["unit_id"])
    if unit is None:
        raise ApiProblem(
            "not-found",
            f"Enhed nr. {call.path['unit_id']} findes ikke.",
            f"Unit {call.path['unit_id']} does not exist.",
        )
    case = find_case(session, unit.case_id, call.actor)
    body = call.body
    started, implemented = body.get("started_on"), body.get("implemented_on")
    try:
        result = implementation.report_unit(
            session, unit.id, call.actor, status=body["status"], reason=body.get("reason") or "",
            started_on=date_of(started), implemented_on=date_of(implemented),
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    response = json_response(
        {
            "unit": unit_json(session, unit, call.actor),
            "progress": _progress_json(result.progress),
            "case_state": case.state,
            "case_version": case.version,
            "completed": result.completed is not None,
        }
    )
    response.headers["ETag"] = case_etag(case)
    return response


def date_of(value: str | None) -> date | None:
    """A checked ISO date (the schema's pattern held), or None."""
    return date.fromisoformat(value) if value else None
