"""Act on several cases at once: one trigger and one templated comment, each case through
engine.perform() on its own, each result shown."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template, request

from models import Case
from workflow import engine
from workflow.errors import WorkflowError
from workflow.i18n import _, label, pick
from workflow.processes import registry
from workflow.web import db, queries
from workflow.web.cases import may_act_in_bulk
from workflow.web.login import current_actor, login_required

bp = Blueprint("bulk", __name__, url_prefix="/sager")

MAX_CASES = 100
PLACEHOLDERS = ("{titel}", "{nr}", "{organ}")


@dataclass(frozen=True)
class BulkResult:
    """What happened to one case."""

    case_id: int
    title: str
    ok: bool
    message: str


def fill_template(template: str, case: Case) -> str:
    """Put the case's title, number and current body into the comment's placeholders."""
    return (
        template.replace("{titel}", case.title)
        .replace("{nr}", str(case.id))
        .replace("{organ}", case.current_body.code)
    )


def _selection(values: list[str]) -> list[tuple[int, int]]:
    """Read 'case_id:version' checkbox values, ignoring anything else."""
    chosen: list[tuple[int, int]] = []
    for value in values[:MAX_CASES]:
        case_id, _sep, version = value.partition(":")
        if case_id.isdigit() and version.isdigit():
            chosen.append((int(case_id), int(version)))
    return chosen


def act_on(case: Case, trigger: str, version: int, comment: str) -> BulkResult:
    """Fire `trigger` on one case as the current user and describe the outcome."""
    user = current_actor()
    try:
        engine.perform(
            case, trigger, user, comment=fill_template(comment, case) or None,
            expected_version=version,
        )  # fmt: skip
    except WorkflowError as refusal:
        return BulkResult(case.id, case.title, False, pick(refusal.message, refusal.message_en))
    state = label(engine.definition_of(case).states[case.state])
    return BulkResult(case.id, case.title, True, _("Udført. Sagen er nu: %(state)s.", state=state))


@bp.post("/samlet-handling")
@login_required
def perform_many() -> tuple[str, int]:
    """Fire one action on each selected case and show each case's result."""
    session = db()
    if not may_act_in_bulk(session, current_actor()):
        abort(403)
    process, _sep, trigger = request.form.get("handling", "").partition(":")
    chosen = _selection(request.form.getlist("sag"))
    comment = request.form.get("kommentar", "").strip()
    definition = next((p for p in registry.all_latest(session) if p.name == process), None)
    transition = definition.transition(trigger) if definition else None
    problems: list[str] = []
    if transition is None:
        problems.append(_("Vælg den handling, der skal udføres."))
    if not chosen:
        problems.append(_("Vælg mindst én sag i listen."))
    results: list[BulkResult] = []
    if transition is not None and chosen:
        for case_id, version in chosen:
            case = queries.find_case(session, case_id)
            if case is None:
                results.append(BulkResult(case_id, "", False, _("Sagen findes ikke.")))
            elif case.process != process:
                message = _("Handlingen hører til en anden proces end sagens.")
                results.append(BulkResult(case.id, case.title, False, message))
            else:
                results.append(act_on(case, trigger, version, comment))
    html = render_template(
        "cases/bulk_result.html",
        action=label(transition) if transition else "",
        results=results,
        problems=problems,
        done=sum(r.ok for r in results),
    )
    return html, 422 if problems else 200
