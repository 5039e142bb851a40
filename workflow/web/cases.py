"""Cases: the list with filters, a case's page, and its actions through engine.perform()."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import Body, Case, User
from workflow import clock, engine
from workflow.errors import Conflict, GuardFailed, InvalidTrigger, NotAllowed, WorkflowError
from workflow.processes import registry
from workflow.web import db, queries
from workflow.web.forms import (
    ActionForm,
    attach_failures,
    build_action_form,
    fill,
    read_action_input,
)
from workflow.web.login import current_actor, login_required

bp = Blueprint("cases", __name__, url_prefix="/sager")

MISSING_VERSION = (
    "Formularen mangler sagens version, så en samtidig ændring kan ikke opdages. "
    "Genindlæs sagen, og prøv igen."
)


@dataclass(frozen=True)
class StateOption:
    """A state in the list filter; its value names the process too."""

    value: str
    label: str


@bp.get("")
@login_required
def index() -> str:
    """List cases, filtered by process, state and body."""
    session = db()
    processes = registry.all_latest(session)
    process = request.args.get("proces", "")
    if process not in {p.name for p in processes}:
        process = ""
    state_value = request.args.get("tilstand", "")
    state_process, _, state = state_value.partition(":")
    if state_process and process and state_process != process:
        state = ""
    process = process or (state_process if state else "")
    organ = request.args.get("organ", "")
    body = session.scalar(select(Body).where(Body.code == organ)) if organ else None
    rows, more = queries.list_cases(
        session, process=process, state=state, body_id=body.id if body else None
    )
    state_groups = [
        (p.title, [StateOption(f"{p.name}:{s.name}", s.label) for s in p.states.values()])
        for p in processes
        if not process or p.name == process
    ]
    return render_template(
        "cases/index.html",
        rows=rows,
        more=more,
        limit=queries.CASE_LIST_LIMIT,
        processes=processes,
        state_groups=state_groups,
        bodies=queries.active_bodies(session),
        selected={
            "proces": process,
            "tilstand": f"{process}:{state}" if state else "",
            "organ": body.code if body else "",
        },
    )


def _case_or_404(session: Session, case_id: int) -> Case:
    case = queries.find_case(session, case_id)
    if case is None:
        abort(404)
    return case


def action_forms(session: Session, case: Case, user: User) -> list[ActionForm]:
    """Build a form for each action the user may take on the case now."""
    forms: list[ActionForm] = []
    meetings = None
    for transition in engine.allowed_triggers(case, user):
        permission = engine.find_permission(session, case, transition, user)
        if meetings is None and (
            transition.decision or any(f.type == "meeting" for f in transition.fields)
        ):
            meetings = queries.decision_meetings(session, case.current_body_id, clock.now())
        forms.append(
            build_action_form(
                transition,
                case.version,
                meetings or [],
                as_chair=permission is not None and permission.as_chair,
            )
        )
    return forms


def render_case(
    session: Session,
    case: Case,
    user: User,
    *,
    forms: list[ActionForm] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Render the case page; `forms` carry the user's input after a refused action."""
    definition = engine.definition_of(case)
    html = render_template(
        "cases/detail.html",
        case=case,
        definition=definition,
        state=definition.states[case.state],
        timeline=queries.timeline(session, case, definition),
        deadlines=queries.case_deadlines(session, case),
        forms=forms if forms is not None else action_forms(session, case, user),
        problem=problem,
        now=clock.now(),
    )
    return html, status


@bp.get("/<int:case_id>")
@login_required
def detail(case_id: int) -> tuple[str, int]:
    """Show a case: its fields, its history, its deadlines and the user's actions."""
    session = db()
    return render_case(session, _case_or_404(session, case_id), current_actor())


def _expected_version(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@bp.post("/<int:case_id>/handlinger/<trigger>")
@login_required
def perform(case_id: int, trigger: str) -> Response | tuple[str, int]:
    """Fire an action through the engine; on refusal show why and keep the input."""
    session = db()
    case = _case_or_404(session, case_id)
    user = current_actor()
    form = next((f for f in action_forms(session, case, user) if f.trigger == trigger), None)
    expected_version = _expected_version(request.form.get("expected_version"))
    if expected_version is None:
        return render_case(session, case, user, problem=MISSING_VERSION, status=400)
    submitted = read_action_input(form, request.form) if form is not None else None
    try:
        engine.perform(
            case,
            trigger,
            user,
            comment=submitted.comment if submitted else None,
            data=submitted.data if submitted else None,
            expected_version=expected_version,
        )
    except WorkflowError as refusal:
        raw = submitted.raw if submitted else {}
        return _refused(session, case_id, user, trigger, refusal, raw)
    label = form.transition.label if form is not None else trigger
    state_label = engine.definition_of(case).states[case.state].label
    flash(f"Handlingen »{label}« er udført. Sagen er nu: {state_label}.", "success")
    return redirect(url_for("cases.detail", case_id=case.id), code=303)


STATUS_OF_REFUSAL: dict[type[WorkflowError], int] = {
    GuardFailed: 422,
    NotAllowed: 403,
    Conflict: 409,
    InvalidTrigger: 409,
}


def _refused(
    session: Session,
    case_id: int,
    user: User,
    trigger: str,
    refusal: WorkflowError,
    raw: dict[str, str],
) -> tuple[str, int]:
    """Re-render the case as it is now, with the refused form open, filled and explained."""
    case = _case_or_404(session, case_id)
    forms = action_forms(session, case, user)
    form = next((f for f in forms if f.trigger == trigger), None)
    status = STATUS_OF_REFUSAL.get(type(refusal), 422)
    if form is None:
        return render_case(session, case, user, forms=forms, problem=refusal.message, status=status)
    fill(form, raw)
    if isinstance(refusal, GuardFailed):
        attach_failures(form, refusal.failures)
    else:
        form.errors.append(refusal.message)
    return render_case(session, case, user, forms=forms, status=status)
