"""Implementation pages: the region-wide spread, a case's units, and a unit's short report."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from models import Body, Case, ImplementationState, ImplementationStatus
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.engine import core as engine
from workflow.engine.errors import GuardFailed, WorkflowError
from workflow.engine.processes import registry
from workflow.implementation import annual_cycle, charts, indicators, picture
from workflow.implementation import operations as implementation
from workflow.implementation import queries as implementation_queries
from workflow.organisation import queries as organisation
from workflow.web import db
from workflow.web.fields import DayField, TextField
from workflow.web.i18n import label

bp = Blueprint("implementation", __name__, url_prefix="/implementering")


class UnitReportForm(FlaskForm):  # type: ignore[misc]
    """A unit's status: how far it is, why it is not relevant, and when."""

    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(s.value, LazyString(implementation.status_label, s))
            for s in ImplementationState
        ],
    )
    reason = TextField(
        _l("Begrundelse eller bemærkning"),
        validators=[Length(max=2000)],
        description=_l("Skal udfyldes, når enheden meldes 'ikke relevant'."),
    )
    started_on = DayField(_l("Startet den"), validators=[Optional()])
    implemented_on = DayField(
        _l("Implementeret den"),
        validators=[Optional()],
        description=_l("Tom: i dag, når status er 'implementeret'."),
    )


class EnsureUnitsForm(FlaskForm):  # type: ignore[misc]
    """Create the units of a case already in implementation (CSRF only)."""


@bp.app_template_global("case_implementation_link")
def case_implementation_link(case: Case) -> tuple[str, str] | None:
    """Where the case page links for implementation: the units, or a plan's lines."""
    # Only once implementation has begun: before approval there is nothing to show.
    if implementation.tracks_implementation(case) and (
        implementation.is_implementing(case) or implementation.has_units(db(), case)
    ):
        return url_for("implementation.case_units", case_id=case.id), _("Implementering pr. enhed")
    if case.plan_year is not None and annual_cycle.is_plan(case):
        return url_for("reports.plan", year=case.plan_year), _("Planens indsatser")
    return None


@bp.get("")
@login_required
def overview() -> str:
    """Where every approved initiative stands in every unit: map-like grid and table."""
    session = db()
    process = request.args.get("proces", "")
    tracking = implementation.implementing_processes(session)
    processes = [d for d in registry.all_latest(session) if d.name in tracking]
    if process not in {p.name for p in processes}:
        process = ""
    organ = request.args.get("organ", "")
    body = session.scalar(select(Body).where(Body.code == organ)) if organ else None
    spread = implementation_queries.spread_overview(
        session,
        processes=(process,) if process else (),
        body_id=body.id if body else None,
        visible=policy.visible_cases(session, current_actor()),
    )
    chosen_id = request.args.get("sag", type=int)
    ids = [c.case.id for c in spread.columns]
    column = ids.index(chosen_id) if chosen_id in ids else (0 if ids else None)
    chosen = spread.columns[column] if column is not None else None
    grid = None
    if column is not None:
        grid = picture.municipality_grid("kort", spread, column)
    bodies = session.scalars(select(Body).where(Body.active.is_(True)).order_by(Body.code)).all()
    return render_template(
        "implementation/overview.html",
        spread=spread,
        chosen=chosen,
        grid=grid,
        legend=charts.status_legend(),
        processes=processes,
        bodies=bodies,
        selected={"proces": process, "organ": body.code if body else ""},
        labels=implementation.SHOWN_LABELS,
        symbols={s: charts.STATUS_STYLES[s][2] for s in ImplementationState},
    )


def _case_or_404(case_id: int) -> Case:
    """The case, if it tracks implementation and the user may see it; else 404."""
    case = db().get(Case, case_id)
    if case is None or not implementation.tracks_implementation(case):
        abort(404)
    if not policy.may(current_actor(), "view", case, db()):
        abort(404)
    return case


@bp.get("/sag/<int:case_id>")
@login_required
def case_units(case_id: int) -> str:
    """A case's units, their status and who answers for them."""
    session = db()
    case = _case_or_404(case_id)
    actor = current_actor()
    units = implementation.units_of(session, case)
    day = organisation.case_day(case)
    bodies = {b.id: b for b in session.scalars(select(Body))}
    reportable = {
        u.id
        for u in units
        if implementation.is_implementing(case) and policy.may(actor, "report", u, session)
    }
    progress = implementation.progress_of(units)
    trigger = implementation.completion_trigger(case)
    can_complete = (
        progress.complete
        and implementation.is_implementing(case)
        and trigger is not None
        and any(t.trigger == trigger for t in engine.allowed_triggers(case, actor))
    )
    from workflow.implementation.indicator_views import case_link_form

    return render_template(
        "implementation/case.html",
        case=case,
        linked_indicators=indicators.linked_indicators(session, case),
        can_link=policy.may(actor, "link_indicators", case, session),
        link_form=case_link_form(case),
        state_label=label(engine.definition_of(case).states[case.state]),
        units=units,
        # The units' planning areas as they were on the case's day (a closed case's own).
        areas={u.id: u.party.planning_area_on(day) for u in units},
        bodies=bodies,
        progress=progress,
        reportable=reportable,
        implementing=implementation.is_implementing(case),
        can_complete=can_complete,
        ensure_form=EnsureUnitsForm(),
        labels=implementation.SHOWN_LABELS,
        symbols={s: charts.STATUS_STYLES[s][2] for s in ImplementationState},
    )


@bp.post("/sag/<int:case_id>/enheder")
@login_required
def ensure_units(case_id: int) -> Response:
    """Create the units of a case that reached implementation before units were automatic."""
    session = db()
    case = _case_or_404(case_id)
    form = EnsureUnitsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        created = implementation.ensure_units(session, case, current_actor())
    except WorkflowError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(count)d enheder er oprettet.", count=len(created)), "success")
    return redirect(url_for("implementation.case_units", case_id=case.id))


def _unit_or_404(unit_id: int) -> tuple[ImplementationStatus, Case]:
    session = db()
    unit = session.get(ImplementationStatus, unit_id)
    if unit is None:
        abort(404)
    case = session.get(Case, unit.case_id)
    assert case is not None
    if not policy.may(current_actor(), "view", case, session):
        abort(404)
    return unit, case


@bp.route("/enhed/<int:unit_id>", methods=["GET", "POST"])
@login_required
def report(unit_id: int) -> Response | tuple[str, int] | str:
    """The short form through which a unit reports its status."""
    session = db()
    unit, case = _unit_or_404(unit_id)
    actor = current_actor()
    policy.require(actor, "report", unit, session)
    form = UnitReportForm(
        data={
            "status": unit.status.value,
            "reason": unit.reason,
            "started_on": unit.started_on,
            "implemented_on": unit.implemented_on,
        }
        if request.method == "GET"
        else None
    )
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            result = implementation.report_unit(
                session, unit.id, actor, status=form.status.data,
                reason=form.reason.data or "", started_on=form.started_on.data,
                implemented_on=form.implemented_on.data,
            )  # fmt: skip
        except GuardFailed as exc:
            problems = [f.message for f in exc.failures]
        except WorkflowError as exc:
            problems = [exc.message]
        else:
            flash(_("Status for %(unit)s er gemt.", unit=unit.party.name), "success")
            if result.completed is not None:
                flash(_("Alle enheder er færdige, og sagen er meldt videre."), "success")
            return redirect(url_for("implementation.case_units", case_id=case.id))
    status = 400 if request.method == "POST" else 200
    html = render_template(
        "implementation/report.html", unit=unit, case=case, form=form, problems=problems
    )
    return (html, status) if status != 200 else html
