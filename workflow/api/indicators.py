"""Indicators through the API: the registry, an indicator's yearly values per area and the
initiatives that aim to move it, and recording values — the indicator pages' reads and the
import's checks and audit (workflow.implementation.indicators)."""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Case, Indicator, User, case_indicators
from workflow import policy
from workflow.api.problems import ApiProblem, json_response
from workflow.api.refusals import refusal
from workflow.api.schema import array, integer, obj, string
from workflow.api.serialize import BOOL, INT, STR, maybe, out
from workflow.api.spec import Call, Reply, component, operation
from workflow.engine.errors import WorkflowError
from workflow.implementation import indicators
from workflow.web import db

DIRECTIONS = ["up", "down"]
GOAL = component(
    "NationalGoalRef",
    {"type": "object", "properties": {"id": INT, "number": INT, "name": STR},
     "required": ["id", "number", "name"]},
)  # fmt: skip
INDICATOR = out(
    {
        "code": STR,
        "name": STR,
        "definition": STR,
        "data_source": STR,
        "direction": {"type": "string", "enum": DIRECTIONS},
        "unit": STR,
        "active": BOOL,
        "national_goal": maybe(GOAL),
        "linked_cases": {"type": "integer", "description": "Sager kalderen kan se."},
    },
    "Indicator",
)
INDICATORS = out({"items": {"type": "array", "items": INDICATOR}}, "IndicatorList")
POINT = component(
    "IndicatorPoint",
    {"type": "object", "properties": {"year": INT, "value": STR}, "required": ["year", "value"]},
)
SERIES = component(
    "IndicatorSeries",
    {
        "type": "object",
        "properties": {
            "area": {"type": "object", "properties": {"code": STR, "name": STR},
                     "required": ["code", "name"]},
            "points": {"type": "array", "items": POINT},
        },
        "required": ["area", "points"],
    },
)  # fmt: skip
INDICATOR_DETAIL = out(
    {
        "indicator": INDICATOR,
        "series": {"type": "array", "items": SERIES},
        "case_ids": {"type": "array", "items": INT},
    },
    "IndicatorDetail",
)
VALUE_INPUT = obj(
    {
        "indicator": string(64, 1, examples=["GENINDL-KOL"]),
        "year": integer(indicators.MIN_YEAR, indicators.MAX_YEAR, examples=[2025]),
        "area": string(200, 1, examples=["Gentofte", "region"],
                       description="Regionen ('region' eller dens kode) eller en kommune "
                       "(kode, navn eller navn uden 'Kommune')."),
        "value": {"type": "string", "pattern": "^-?[0-9]{1,10}([.,][0-9]{1,4})?$",
                  "examples": ["12.5", "12,5"]},
    },
    required=("indicator", "year", "area", "value"),
)  # fmt: skip
VALUES_BODY = obj({"values": array(VALUE_INPUT, minItems=1, maxItems=5000)}, required=("values",))
IMPORT_RESULT = out(
    {"created": INT, "updated": INT, "unchanged": INT, "summary": STR}, "IndicatorImportResult"
)


def _linked_counts(session: Session, user: User) -> dict[int, int]:
    rows = session.execute(
        select(case_indicators.c.indicator_id, func.count())
        .join(Case, Case.id == case_indicators.c.case_id)
        .where(policy.visible_cases(session, user))
        .group_by(case_indicators.c.indicator_id)
    ).tuples()
    return {indicator_id: count for indicator_id, count in rows}


def indicator_json(indicator: Indicator, linked: int) -> dict[str, Any]:
    goal = indicator.national_goal
    return {
        "code": indicator.code,
        "name": indicator.name,
        "definition": indicator.definition,
        "data_source": indicator.data_source,
        "direction": str(indicator.direction),
        "unit": indicator.unit,
        "active": indicator.active,
        "national_goal": (
            {"id": goal.id, "number": goal.number, "name": goal.name} if goal else None
        ),
        "linked_cases": linked,
    }


@operation(
    "/indicators", "get", tag="Indikatorer", summary="List indikatorerne",
    ok={200: Reply("Indikatorerne efter kode, med de nationale mål, de hører til.", INDICATORS)},
)  # fmt: skip
def list_indicators(call: Call) -> Response:
    """The indicator registry, as its page lists it."""
    session = db()
    linked = _linked_counts(session, call.actor)
    rows = session.scalars(select(Indicator).order_by(Indicator.code))
    return json_response({"items": [indicator_json(i, linked.get(i.id, 0)) for i in rows]})


@operation(
    "/indicators/<code>", "get", tag="Indikatorer", summary="Hent en indikator",
    ok={200: Reply("Indikatoren, dens værdier pr. år og område (regionen først) og de sager, "
                   "kalderen kan se, der sigter mod den.", INDICATOR_DETAIL)},
)  # fmt: skip
def get_indicator(call: Call) -> Response:
    """An indicator over time, as its page shows it."""
    session = db()
    code = str(call.path["code"])
    indicator = session.scalar(select(Indicator).where(Indicator.code == code.upper()))
    if indicator is None:
        raise ApiProblem(
            "not-found", f"Indikatoren {code} findes ikke.", f"Indicator {code} does not exist."
        )
    visible = policy.visible_cases(session, call.actor)
    cases = indicators.linked_cases(session, indicator, visible)
    series = [
        {
            "area": {"code": s.party.code, "name": s.party.name},
            "points": [{"year": year, "value": str(value)} for year, value in s.points],
        }
        for s in indicators.series_for(session, indicator)
    ]
    return json_response(
        {
            "indicator": indicator_json(indicator, len(cases)),
            "series": series,
            "case_ids": [c.id for c in cases],
        }
    )


@operation(
    "/indicators/values", "post", tag="Indikatorer", summary="Registrér indikatorværdier",
    body=VALUES_BODY,
    ok={200: Reply("Værdierne er gemt (nye eller ændrede; en værdi pr. indikator, år og område).",
                   IMPORT_RESULT)},
    errors=(403, 422),
)  # fmt: skip
def record_values(call: Call) -> Response:
    """Record yearly values, all or none, checked as the CSV import checks its rows; only the
    secretariats of TSS and SKU (and administrators) keep the indicators."""
    session = db()
    given = [
        indicators.ValueInput(v["indicator"], str(v["year"]), v["area"], v["value"])
        for v in call.body["values"]
    ]
    try:
        result = indicators.import_values(session, given, call.actor)
    except indicators.IndicatorImportError as error:
        errors = [
            {"field": f"values/{e.row - 1}", "rule": "indicator_values_valid",
             "message": e.problem, "message_da": e.problem, "message_en": e.problem}
            for e in error.errors
        ]  # fmt: skip
        raise ApiProblem(
            "unprocessable",
            "Værdierne blev ikke gemt – intet er gemt. Ret de nævnte værdier, og send dem igen.",
            "The values were not saved; nothing was saved. Correct the values named.",
            errors=errors,
            rule="indicator_values_valid",
        ) from None
    except WorkflowError as error:
        raise refusal(error) from None
    return json_response(
        {"created": result.created, "updated": result.updated,
         "unchanged": result.unchanged, "summary": result.summary()}
    )  # fmt: skip
