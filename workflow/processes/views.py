"""Process definitions in words: diagram, states, who may do what, the rules, the versions.

Also registers `beslutningsprognose(case)`, the earliest decision forecast a case page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, g, render_template, request
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Case, ProcessVersion
from workflow.auth.login import login_required
from workflow.engine import clock, diagram, guards, values
from workflow.engine import core as engine
from workflow.engine.definitions import DeadlineRule, ProcessDefinition, RoleRef, StateSpec
from workflow.engine.localtime import MONTHS_DA
from workflow.engine.processes import UnknownProcess, registry
from workflow.meetings import forecast
from workflow.web import db
from workflow.web.i18n import _, _l, genitive, is_english, label, pick

bp = Blueprint("processes", __name__, url_prefix="/processer")

# The rules in words, for the people they bind (the guards' docstrings are for developers).
GUARD_WORDS = {
    "within_mandate": _l(
        "En sag, der er principiel, af politisk karakter, ændrer en snitflade eller medfører "
        "merudgifter for en part, kan ikke afgøres under TSS."
    ),
    "large_task_raised_in_tss": _l("En større opgave skal være rejst i TSS, før den igangsættes."),
    "financing_follows": _l(
        "Giver forslaget kommunerne nye opgaver med merudgift, skal der være en businesscase "
        "og et finansieringsforslag."
    ),
    "role_distribution_stated": _l(
        "Rolle- og opgavefordelingen, herunder almen praksis' rolle, skal være beskrevet."
    ),
    "triple_aim_described": _l(
        "Beslutningsgrundlaget (Triple Aim) skal beskrive kvalitet, økonomi og borgerens oplevelse."
    ),
    "focus_and_goals_stated": _l(
        "Forslaget skal angive sit fokusområde og mindst ét nationalt mål, det understøtter."
    ),
    "consultation_closed": _l(
        "Høringsfristen skal være udløbet, eller alle parter skal have svaret."
    ),
    "implementation_complete": _l(
        "Alle enheder skal have implementeret sagen eller være registreret som ikke relevante "
        "med en begrundelse."
    ),
    "after_budget_adoption": _l(
        "Implementeringsplanen tiltrædes på et møde i SKU efter kommunernes og regionens "
        "vedtagelse af budgettet for planåret; sekretariatet registrerer datoerne."
    ),
    "budget_dates_for_plan_year": _l(
        "Budgetvedtagelserne ligger i året før planåret og ikke efter i dag."
    ),
    "kkr_dialogue_date_valid": _l("Dialogen registreres, når den har fundet sted."),
    "kkr_dialogue_recorded": _l(
        "Dialogen med kommunerne via KKR skal være registreret (dato, deltagere, hvad der blev "
        "drøftet og aftalt), før den afsluttes."
    ),
    "new_working_group_valid": _l(
        "En ny midlertidig arbejdsgruppe har et navn og en slutdato inden for to år og vælges "
        "i stedet for en eksisterende klynge eller arbejdsgruppe."
    ),
    "indicator_values_recorded": _l(
        "Regionens værdi for planåret skal foreligge for hver indikator, planens linjer angiver."
    ),
}
PREDICATE_WORDS = {
    "escalation_required": _l(
        "når sagen er principiel, af politisk karakter, ændrer en snitflade eller medfører "
        "merudgifter, og TSS ikke har behandlet den"
    ),
    "large_task_not_raised": _l("når sagen er en større opgave, som TSS endnu ikke har set"),
}
BODY_REF_WORDS = {
    "current": _l("det organ, der har sagen"),
    "originating": _l("det organ, der har rejst sagen"),
}
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
YEAR_OFFSET_WORDS = {
    -1: _l("året før planåret"),
    0: _l("i planåret"),
    1: _l("året efter planåret"),
}


@dataclass(frozen=True)
class StateRow:
    """A state as the process page describes it."""

    spec: StateSpec
    body: str
    deadline: str
    reminders: str


@dataclass(frozen=True)
class TransitionRow:
    """A transition in words: from where to where, who, which rules and which fields."""

    label: str
    description: str
    sources: list[str]
    dest: str
    who: str
    rules: list[str]
    fields: list[str]
    decision: bool
    inform: list[str]


@dataclass(frozen=True)
class RouteRow:
    """An automatic route in words."""

    state: str
    when: str
    transition: str
    reason: str


def guard_words(name: str) -> str:
    """Describe a guard for users: the Danish table, else the function's docstring."""
    if name in GUARD_WORDS:
        return str(GUARD_WORDS[name])
    function = guards.GUARDS.get(name)
    return (function.__doc__ or name).strip() if function else name


def predicate_words(name: str) -> str:
    """Describe a routing condition for users."""
    if name in PREDICATE_WORDS:
        return str(PREDICATE_WORDS[name])
    function = guards.PREDICATES.get(name)
    return (function.__doc__ or name).strip() if function else name


def body_words(ref: str, bodies: dict[str, Body]) -> str:
    """Name the body a definition refers to: a code, the holding or the raising body."""
    if ref in BODY_REF_WORDS:
        return str(BODY_REF_WORDS[ref])
    body = bodies.get(ref)
    return f"{body.name} ({ref})" if body else ref


def role_words(roles: tuple[RoleRef, ...]) -> str:
    """Say who may fire a transition, in the engine's wording."""
    words: list[str] = []
    for ref in roles:
        if ref.role == "admin":
            words.append(_("administratorer"))
            continue
        danish, english = engine.ROLE_WORDS[ref.role]
        where = str(BODY_REF_WORDS[ref.body]) if ref.body in BODY_REF_WORDS else ref.body
        words.append(pick(danish, english).format(where))
    if not words:
        return _("kun automatisk (efter processens regler)")
    return (" " + _("eller") + " ").join(words)


def deadline_words(rule: DeadlineRule | None, spec: StateSpec, bodies: dict[str, Body]) -> str:
    """Say when a state's deadline falls."""
    if rule is None:
        return _("Ingen frist")
    if rule.kind == "days_after_entry":
        return _("%(days)s dage efter, at sagen kom i tilstanden", days=rule.days)
    if rule.kind == "material":
        body = bodies.get(spec.body)
        if body is None:
            return _("Materialefristen før organets næste møde")
        unit = _("arbejdsdage") if body.material_deadline_working_days else _("kalenderdage")
        return _(
            "Materialefristen før %(whose)s næste møde: %(days)s %(unit)s før mødet",
            whose=genitive(body.code),
            days=body.material_deadline_days,
            unit=unit,
        )
    if rule.kind == "field":
        return _("Datoen i feltet »%(field)s«", field=rule.field)
    month, day = (int(part) for part in rule.month_day.split("-"))
    when = str(YEAR_OFFSET_WORDS.get(rule.year_offset, rule.year_offset))
    month_name = (
        MONTHS_EN[month - 1]
        if is_english()
        else MONTHS_DA[month - 1]
    )  # fmt: skip
    return _("Den %(day)s. %(month)s %(when)s", day=day, month=month_name, when=when)


def reminder_words(spec: StateSpec) -> str:
    """Say when reminders go out before the deadline."""
    if not spec.reminders:
        return ""
    days = ", ".join(str(d) for d in spec.reminders)
    return _("Påmindelse %(days)s dage før fristen", days=days)


def describe(definition: ProcessDefinition, bodies: dict[str, Body]) -> dict[str, object]:
    """Put a definition into words for its page."""
    states = [
        StateRow(
            spec,
            body_words(spec.body, bodies),
            deadline_words(spec.deadline, spec, bodies),
            reminder_words(spec),
        )
        for spec in definition.states.values()
    ]
    state_label = {name: label(spec) for name, spec in definition.states.items()}
    transitions = [
        TransitionRow(
            label=label(t),
            description=t.description,
            sources=[state_label[s] for s in t.sources],
            dest=state_label[t.dest],
            who=role_words(t.allowed),
            rules=[guard_words(g) for g in t.guards],
            fields=[label(f) + ("" if f.required else " " + _("(valgfrit)")) for f in t.fields],
            decision=t.decision,
            inform=[body_words(code, bodies) for code in t.inform],
        )
        for t in definition.transitions
    ]
    by_trigger = {t.trigger: t for t in definition.transitions}
    routes = [
        RouteRow(
            state_label[r.state],
            predicate_words(r.when),
            label(by_trigger[r.trigger]),
            pick(r.reason, r.reason_en),
        )
        for r in definition.routes
    ]
    return {"states": states, "transitions": transitions, "routes": routes}


def _bodies(session: Session) -> dict[str, Body]:
    return {b.code: b for b in session.scalars(select(Body))}


@bp.get("")
@login_required
def index() -> str:
    """List the process definitions."""
    return render_template("processes/index.html", processes=registry.all_latest(db()))


@bp.get("/<name>")
@login_required
def detail(name: str) -> str:
    """Show a process: its diagram, its rules in words and its version history."""
    session = db()
    versions = list(
        session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.name == name)
            .order_by(ProcessVersion.version.desc())
        )
    )
    if not versions:
        abort(404)
    wanted = request.args.get("version", "")
    try:
        version = values.parse_id(wanted)
        definition = (
            registry.get(session, name, version)
            if version is not None
            else registry.latest(session, name)
        )
    except UnknownProcess:
        abort(404)
    svg = Markup(diagram.render_svg(definition, lang="en" if is_english() else "da"))
    return render_template(
        "processes/detail.html",
        definition=definition,
        latest=versions[0].version,
        versions=versions,
        svg=svg,
        **describe(definition, _bodies(session)),
    )


@bp.app_template_global("beslutningsprognose")
def decision_forecast(case: Case) -> forecast.Forecast:
    """The earliest decision forecast of `case`, for its page (once per request: the "Næste
    skridt" panel reads it too)."""
    cache: dict[int, forecast.Forecast] = g.setdefault("decision_forecasts", {})
    if case.id not in cache:
        cache[case.id] = forecast.forecast(db(), case, clock.now())
    return cache[case.id]
