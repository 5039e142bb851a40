"""The case page's "Næste skridt" panel and its buttons: ask whoever may take the next step,
and (secretariats) remind the body that must deliver the material."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from werkzeug.wrappers import Response

from models import Case
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import operations, queries
from workflow.cases.next_step import NextStep, next_step
from workflow.cases.views import render_case
from workflow.engine import clock
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.engine.guards import Failure
from workflow.meetings import material_watch
from workflow.processes.views import decision_forecast
from workflow.web import db
from workflow.web.i18n import _, pick

bp = Blueprint("next_step", __name__, url_prefix="/sager")


@bp.app_template_global("naeste_skridt")
def case_next_step(case: Case) -> NextStep | None:
    """The case's next step, for its page."""
    return next_step(db(), case, clock.now(), decision_forecast(case))


@bp.app_template_global("manglende_materiale")
def missing_material(case: Case) -> tuple[Failure, ...]:
    """What an agenda candidate's material still lacks."""
    return material_watch.missing_material(case)


def _visible_case(case_id: int) -> Case:
    session = db()
    case = queries.find_case(session, case_id)
    if case is None or not policy.may(current_actor(), "view", case, session):
        abort(404)
    return case


def _refused(case: Case, refusal: WorkflowError) -> tuple[str, int]:
    status = 403 if isinstance(refusal, NotAllowed) else 409
    message = pick(refusal.message, refusal.message_en)
    return render_case(db(), case, current_actor(), problem=message, status=status)


@bp.post("/<int:case_id>/bed-om-naeste-skridt")
@login_required
def ask(case_id: int) -> Response | tuple[str, int]:
    """Ask the people who may take the case's next step to take it."""
    case = _visible_case(case_id)
    try:
        told = operations.ask_for_next_step(db(), case, current_actor(), clock.now())
    except WorkflowError as refusal:
        return _refused(case, refusal)
    flash(_("Din anmodning er sendt til %(count)d personer.", count=told), "success")
    return redirect(url_for("cases.detail", case_id=case.id), code=303)


@bp.post("/<int:case_id>/paamind-om-materiale")
@login_required
def remind(case_id: int) -> Response | tuple[str, int]:
    """Remind the body that must deliver the case's material, once a day."""
    case = _visible_case(case_id)
    try:
        told = operations.remind_about_material(db(), case, current_actor(), clock.now())
    except WorkflowError as refusal:
        return _refused(case, refusal)
    body = operations.material_body(db(), case)
    flash(
        _("Påmindelsen er sendt til %(body)s (%(count)d personer).", body=body.name, count=told),
        "success",
    )
    return redirect(url_for("cases.detail", case_id=case.id), code=303)
