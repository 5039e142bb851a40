"""The yearly implementation plan (implementeringsplanen) through the API: read a year's plan
with its lines and milestones, open it, and add or change its lines until SKU adopts it — the
annual cycle's operations (workflow.implementation.annual_cycle). The plan is a case: it is
proposed, discussed, adopted and followed up by its process's transitions
(`POST /cases/{case_id}/transitions`, linked from the answer)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, url_for
from sqlalchemy.orm import Session

from models import Case, PlanItem, User
from workflow.api.cases import find_case
from workflow.api.preconditions import case_etag
from workflow.api.problems import ApiProblem, json_response
from workflow.api.refusals import refusal
from workflow.api.schema import array, date_input, integer, nullable, obj, string, text
from workflow.api.serialize import (
    AMOUNT_PATTERN,
    BOOL,
    DAY,
    INT,
    STR,
    TIME,
    allowed_json,
    iso,
    iso_date,
    out,
)
from workflow.api.spec import Call, Reply, component, operation
from workflow.engine import core as engine
from workflow.engine.errors import WorkflowError
from workflow.implementation import annual_cycle
from workflow.web import db

MIN_YEAR, MAX_YEAR = 2000, 2100
NULLABLE_DAY: dict[str, Any] = {"type": ["string", "null"], "format": "date"}
LINE = component(
    "PlanLine",
    {
        "type": "object",
        "properties": {
            "id": INT, "position": INT, "title": STR, "purpose": STR, "anchoring": STR,
            "responsible_start": STR, "responsible_delivery": STR, "starts_on": NULLABLE_DAY,
            "ends_on": NULLABLE_DAY, "economy": STR,
            "economy_dkk": {"type": ["string", "null"]},
            "initiative_case_id": {"type": ["integer", "null"]},
            "indicators": {"type": "array", "items": STR},
        },
        "required": ["id", "title", "purpose"],
    },
)  # fmt: skip
MILESTONE = component(
    "PlanMilestone",
    {
        "type": "object",
        "properties": {
            "state": STR, "label": STR, "body": STR, "due": DAY, "reached": BOOL,
            "current": BOOL, "meeting": {"type": ["object", "null"],
                                         "properties": {"id": INT, "starts_at": TIME}},
        },
        "required": ["state", "label", "body", "due", "reached", "current", "meeting"],
    },
)  # fmt: skip
YEAR = "$response.body#/year"
# How to go on from a plan: read it again, add a line, or carry it on as the case it is (its
# ETag is the plan case's, so it is the If-Match of the case's transitions).
LINKS: dict[str, dict[str, Any]] = {
    "GetPlan": {"operationId": "get_plan", "parameters": {"path.year": YEAR}},
    "AddPlanLine": {"operationId": "add_plan_line", "parameters": {"path.year": YEAR}},
    "GetPlanCase": {"operationId": "get_case",
                    "parameters": {"path.case_id": "$response.body#/case_id"}},
    "PerformAllowedTrigger": {
        "operationId": "perform",
        "parameters": {"path.case_id": "$response.body#/case_id",
                       "header.If-Match": "$response.header.ETag"},
        "requestBody": {"trigger": "$response.body#/allowed_triggers/0/trigger",
                        "expected_version": "$response.body#/version"},
        "description": "Før planen videre (forelæg, drøft, tiltræd …) efter dens proces.",
    },
}  # fmt: skip
# After a line is added: change the plan's first line.
LINE_LINKS = {
    **LINKS,
    "UpdatePlanLine": {
        "operationId": "update_plan_line",
        "parameters": {"path.year": YEAR, "path.line_id": "$response.body#/lines/0/id"},
    },
}
PLAN = out(
    {
        "year": INT, "case_id": INT, "title": STR, "state": STR, "state_label": STR,
        "version": INT, "lines_open": BOOL, "editable": BOOL,
        "lines": {"type": "array", "items": LINE},
        "milestones": {"type": "array", "items": MILESTONE},
        "allowed_triggers": {"type": "array", "items": {"type": "object"}},
    },
    "Plan",
)  # fmt: skip
YEAR_BODY = obj({"year": integer(MIN_YEAR, MAX_YEAR, examples=[2027])}, required=("year",))
LINE_BODY = obj(
    {
        "title": string(300, 1, examples=["Opsporing af KOL"]),
        "purpose": {**text(), "minLength": 1},
        "anchoring": text(), "responsible_start": text(), "responsible_delivery": text(),
        "starts_on": nullable(date_input()), "ends_on": nullable(date_input()),
        "economy": text(),
        "economy_dkk": nullable({"type": "string", "pattern": AMOUNT_PATTERN,
                                 "examples": ["250000"]}),
        "initiative_case_id": nullable(integer()),
        "indicator_ids": array(integer(), uniqueItems=True, maxItems=100),
    },
    required=("title", "purpose"),
    description="En indsats i planen (seed 004 § 1.2.2); en rettelse erstatter hele linjen.",
)  # fmt: skip


def _line_json(item: PlanItem) -> dict[str, Any]:
    return {
        "id": item.id, "position": item.position, "title": item.title, "purpose": item.purpose,
        "anchoring": item.anchoring, "responsible_start": item.responsible_start,
        "responsible_delivery": item.responsible_delivery, "starts_on": iso_date(item.starts_on),
        "ends_on": iso_date(item.ends_on), "economy": item.economy,
        "economy_dkk": f"{item.economy_dkk:.2f}" if item.economy_dkk is not None else None,
        "initiative_case_id": item.initiative_case_id,
        "indicators": sorted(i.code for i in item.indicators),
    }  # fmt: skip


def _plan_json(session: Session, plan: Case, year: int, actor: User) -> dict[str, Any]:
    state = engine.definition_of(plan).states[plan.state]
    return {
        "year": year,
        "case_id": plan.id,
        "title": plan.title,
        "state": plan.state,
        "state_label": state.label,
        "version": plan.version,
        "lines_open": annual_cycle.plan_lines_open(plan),
        "editable": annual_cycle.is_editable(session, plan, actor),
        "lines": [_line_json(i) for i in annual_cycle.plan_items(session, plan)],
        "milestones": [
            {
                "state": m.state,
                "label": m.label,
                "body": m.body_code,
                "due": iso_date(m.due),
                "reached": m.reached,
                "current": m.current,
                "meeting": (
                    {"id": m.meeting.id, "starts_at": iso(m.meeting.starts_at)}
                    if m.meeting
                    else None
                ),
            }
            for m in annual_cycle.milestones(session, year)
        ],
        "allowed_triggers": allowed_json(session, plan, actor),
    }


def _answer(session: Session, plan: Case, year: int, actor: User, status: int = 200) -> Response:
    session.refresh(plan)
    response = json_response(_plan_json(session, plan, year, actor), status)
    response.headers["ETag"] = case_etag(plan)
    response.headers["Location"] = url_for("api.get_plan", year=year)
    return response


def _find_plan(session: Session, year: int, actor: User) -> Case:
    plan = annual_cycle.plan_case(session, year) if MIN_YEAR <= year <= MAX_YEAR else None
    if plan is None:
        raise ApiProblem(
            "not-found",
            f"Der er ingen implementeringsplan for {year}.",
            f"There is no implementation plan for {year}.",
        )
    return find_case(session, plan.id, actor)


def _line(body: dict[str, Any]) -> annual_cycle.PlanLine:
    def day(name: str) -> date | None:
        value = body.get(name)
        return date.fromisoformat(value) if value else None

    amount = body.get("economy_dkk")
    return annual_cycle.PlanLine(
        title=body["title"], purpose=body["purpose"], anchoring=body.get("anchoring") or "",
        responsible_start=body.get("responsible_start") or "",
        responsible_delivery=body.get("responsible_delivery") or "",
        starts_on=day("starts_on"), ends_on=day("ends_on"), economy=body.get("economy") or "",
        economy_dkk=Decimal(amount) if amount else None,
        initiative_case_id=body.get("initiative_case_id"),
        indicator_ids=tuple(body.get("indicator_ids") or ()),
    )  # fmt: skip


@operation(
    "/plans/<int:year>", "get", tag="Implementeringsplan", summary="Årets implementeringsplan",
    ok={200: Reply("Planen med indsatser, milepæle og kalderens mulige handlinger; planen er "
                   "en sag, så dens ETag gælder for sagens handlinger.", PLAN,
                   headers={"ETag": {"type": "string"}}, links=LINKS)},
)  # fmt: skip
def get_plan(call: Call) -> Response:
    """Read a year's implementation plan, as the plan page shows it."""
    session = db()
    year = call.path["year"]
    return _answer(session, _find_plan(session, year, call.actor), year, call.actor)


@operation(
    "/plans", "post", tag="Implementeringsplan", summary="Opret årets implementeringsplan",
    body=YEAR_BODY,
    ok={201: Reply("Planen er oprettet i TSS (én pr. år).", PLAN,
                   headers={"ETag": {"type": "string"}}, links=LINKS)},
    errors=(403, 422),
)  # fmt: skip
def create_plan(call: Call) -> Response:
    """Open the implementation plan for a year in TSS, as the annual cycle page does."""
    session = db()
    year = call.body["year"]
    try:
        plan = annual_cycle.create_plan(session, year, call.actor)
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, plan, year, call.actor, 201)


@operation(
    "/plans/<int:year>/lines", "post", tag="Implementeringsplan",
    summary="Føj en indsats til planen", body=LINE_BODY,
    ok={201: Reply("Indsatsen er føjet til planen (på planens tidslinje).", PLAN,
                   headers={"ETag": {"type": "string"}}, links=LINE_LINKS)},
    errors=(403, 422),
)  # fmt: skip
def add_plan_line(call: Call) -> Response:
    """Add a line to the year's plan (TSS and SKU, until SKU adopts it)."""
    session = db()
    year = call.path["year"]
    plan = _find_plan(session, year, call.actor)
    try:
        annual_cycle.add_plan_line(session, plan, call.actor, _line(call.body))
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, plan, year, call.actor, 201)


@operation(
    "/plans/<int:year>/lines/<int:line_id>", "put", tag="Implementeringsplan",
    summary="Ret en indsats i planen", body=LINE_BODY,
    ok={200: Reply("Indsatsen er rettet (de gamle værdier står på planens tidslinje).", PLAN,
                   headers={"ETag": {"type": "string"}}, links=LINKS)},
    errors=(403, 422),
)  # fmt: skip
def update_plan_line(call: Call) -> Response:
    """Replace a line of the year's plan (TSS and SKU, until SKU adopts it)."""
    session = db()
    year = call.path["year"]
    plan = _find_plan(session, year, call.actor)
    item = session.get(PlanItem, call.path["line_id"])
    if item is None or item.plan_case_id != plan.id:
        raise ApiProblem(
            "not-found",
            f"Indsats nr. {call.path['line_id']} står ikke i planen for {year}.",
            f"Line {call.path['line_id']} is not in the plan for {year}.",
        )
    try:
        annual_cycle.update_plan_line(session, item, call.actor, _line(call.body))
    except WorkflowError as error:
        raise refusal(error) from None
    return _answer(session, plan, year, call.actor)
