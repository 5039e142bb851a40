"""Consultations (høring) in the web app: start a round, answer it, and the summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse
from wtforms import IntegerField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange, Optional

from models import Body, Case, Consultation, ConsultationResponse, Party, ResponseStatus
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import attachments
from workflow.cases.attachment_views import folder
from workflow.consultations import operations as consultations
from workflow.engine import clock
from workflow.engine.calendar import local_date
from workflow.engine.errors import WorkflowError
from workflow.organisation.queries import valid_on
from workflow.web import db
from workflow.web.fields import DayField, LineField, TextField
from workflow.web.i18n import _, _l

bp = Blueprint("consultations", __name__, url_prefix="/hoering")


class StartForm(FlaskForm):  # type: ignore[misc]
    """Send the case's draft to parties and bodies with a response deadline."""

    title = LineField(_l("Høringens titel"), validators=[Optional()])
    draft = TextField(_l("Udkast eller følgebrev"), validators=[Optional()])
    deadline = DayField(_l("Høringsfrist"), validators=[InputRequired(_l("Angiv høringsfristen."))])
    reminder_days = IntegerField(
        _l("Påmindelse (dage før fristen)"), default=3, validators=[Optional(), NumberRange(0, 60)]
    )
    parties = SelectMultipleField(_l("Parter"), coerce=int, validate_choice=False)
    bodies = SelectMultipleField(_l("Organer"), coerce=int, validate_choice=False)
    file = FileField(_l("Udkast som fil (valgfrit)"))


class AnswerForm(FlaskForm):  # type: ignore[misc]
    """A consulted party's answer: text and/or a file."""

    text = TextField(_l("Høringssvar"), validators=[Optional()])
    file = FileField(_l("Høringssvar som fil (valgfrit)"))


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that only needs the CSRF token."""


def status_labels() -> dict[ResponseStatus, str]:
    """The response statuses in the reader's language."""
    return {
        ResponseStatus.PENDING: _("Afventer svar"),
        ResponseStatus.ANSWERED: _("Har svaret"),
        ResponseStatus.NO_ANSWER: _("Svarer ikke"),
    }


@bp.app_template_global("runs_consultation")
def runs_consultation(case: Case) -> bool:
    """Whether the case is where its process runs a consultation round (for the case page)."""
    return consultations.runs_consultation(case)


@bp.app_template_global("hoering_status")
def case_consultation(case: Case) -> dict[str, Any] | None:
    """The latest round's counts for the case page, or None when no round was run."""
    consultation = consultations.current(db(), case)
    if consultation is None:
        return None
    waiting = sum(r.status is ResponseStatus.PENDING for r in consultation.responses)
    return {"consultation": consultation, "total": len(consultation.responses),
            "waiting": waiting}  # fmt: skip


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not policy.may(current_actor(), "view", case, session):
        abort(404)
    return case


def _response(session: Session, response_id: int) -> tuple[ConsultationResponse, Case]:
    response = session.get(ConsultationResponse, response_id)
    if response is None:
        abort(404)
    return response, _case(session, response.consultation.case_id)


def _back(case: Case, anchor: str = "") -> BaseResponse:
    return redirect(url_for("consultations.case", case_id=case.id) + anchor, code=303)


def _uploaded(form_file: Any) -> FileStorage | None:
    data = form_file.data
    return data if isinstance(data, FileStorage) and data.filename else None


def _file(form_file: Any) -> attachments.Upload | None:
    """The uploaded file, read for the operation that attaches it (None when none was sent)."""
    storage = _uploaded(form_file)
    if storage is None:
        return None
    return attachments.Upload(storage.filename or "", storage.read(attachments.MAX_BYTES + 1))


def _round_open(case: Case, consultation: Consultation | None) -> bool:
    """Whether a round was started since the case entered its consultation state."""
    return consultation is not None and consultation.created_at >= case.state_entered_at


def _choices(session: Session) -> tuple[list[Party], list[Body]]:
    parties = list(
        session.scalars(
            select(Party)
            .where(Party.active.is_(True), valid_on(Party, local_date(clock.now())))
            .order_by(Party.name)
        )
    )
    bodies = list(session.scalars(select(Body).where(Body.active.is_(True)).order_by(Body.code)))
    return parties, bodies


@bp.get("")
@login_required
def index() -> str:
    """The consultations the user's party or bodies are asked to answer."""
    session = db()
    responses = consultations.open_for(session, current_actor())
    return render_template(
        "consultations/index.html",
        responses=responses,
        cases={r.id: session.get(Case, r.consultation.case_id) for r in responses},
        names={r.id: consultations.name_of(session, r) for r in responses},
        labels=status_labels(),
    )


@bp.get("/sag/<int:case_id>")
@login_required
def case(case_id: int) -> str:
    """The case's consultation: the rounds, the answers, and what the user may do."""
    session = db()
    user = current_actor()
    found = _case(session, case_id)
    rounds = consultations.rounds(session, found)
    latest = rounds[0] if rounds else None
    running = consultations.runs_consultation(found)
    can_run = policy.may(user, "run_consultation", found, session)
    mine = (
        [r for r in latest.responses if policy.may(user, "answer", r, session)]
        if latest is not None and running
        else []
    )
    parties, bodies = _choices(session)
    form = StartForm()
    raw = found.extra.get("consultation_deadline")
    if raw and not form.deadline.data:
        form.deadline.data = _parse_date(str(raw))
    return render_template(
        "consultations/case.html",
        case=found,
        rounds=rounds,
        latest=latest,
        names={r.id: consultations.name_of(session, r) for c in rounds for r in c.responses},
        running=running,
        can_run=can_run,
        can_start=can_run and running and not _round_open(found, latest),
        mine=mine,
        parties=parties,
        bodies=bodies,
        form=form,
        answer_form=AnswerForm(),
        confirm_form=ConfirmForm(),
        labels=status_labels(),
        pending=ResponseStatus.PENDING,
    )


def _parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@bp.post("/sag/<int:case_id>/start")
@login_required
def start(case_id: int) -> BaseResponse:
    """Start a round: the chosen parties and bodies are told of the deadline."""
    session = db()
    user = current_actor()
    found = _case(session, case_id)
    form = StartForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return _back(found, "#start")
    parties = [p for p in (session.get(Party, i) for i in form.parties.data or []) if p]
    bodies = [b for b in (session.get(Body, i) for i in form.bodies.data or []) if b]
    try:
        consultations.start(
            session, found, user, title=form.title.data or "", parties=parties, bodies=bodies,
            draft=form.draft.data or "", deadline=form.deadline.data,
            reminder_days=form.reminder_days.data or 0, file=_file(form.file), folder=folder(),
        )  # fmt: skip
    except WorkflowError as error:
        flash(error.message, "error")
        return _back(found, "#start")
    flash(_("Høringen er sendt til %(n)s parter og organer.", n=len(parties) + len(bodies)),
          "success")  # fmt: skip
    return _back(found)


@bp.post("/svar/<int:response_id>")
@login_required
def answer(response_id: int) -> BaseResponse:
    """Record the answer of the user's party or body (text and/or a file)."""
    session = db()
    user = current_actor()
    response, found = _response(session, response_id)
    form = AnswerForm()
    form.validate()
    try:
        consultations.answer(session, response, user, form.text.data or "",
                             file=_file(form.file), folder=folder())  # fmt: skip
    except WorkflowError as error:
        flash(error.message, "error")
        return _back(found, f"#svar-{response_id}")
    flash(_("Høringssvaret fra %(name)s er registreret.",
            name=consultations.name_of(session, response)), "success")  # fmt: skip
    return _back(found)


@bp.post("/svar/<int:response_id>/svarer-ikke")
@login_required
def no_answer(response_id: int) -> BaseResponse:
    """The secretariat records that a consulted party will not answer."""
    session = db()
    response, found = _response(session, response_id)
    ConfirmForm().validate()
    try:
        consultations.mark_not_answering(session, response, current_actor())
    except WorkflowError as error:
        flash(error.message, "error")
        return _back(found)
    flash(_("%(name)s er registreret som ikke svarende.",
            name=consultations.name_of(session, response)), "success")  # fmt: skip
    return _back(found)


@bp.get("/<int:consultation_id>/sammenfatning")
@login_required
def summary(consultation_id: int) -> str:
    """The responses of one round side by side, for reading or printing."""
    session = db()
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        abort(404)
    found = _case(session, consultation.case_id)
    lines = consultations.summary(session, consultation)
    labels = status_labels()
    statuses = [labels[r.status] for r in consultation.responses]
    return render_template(
        "consultations/summary.html",
        case=found,
        consultation=consultation,
        rows=list(zip(lines, statuses, strict=True)),
        answered=sum(r.status is ResponseStatus.ANSWERED for r in consultation.responses),
        declined=sum(r.status is ResponseStatus.NO_ANSWER for r in consultation.responses),
        waiting=sum(r.status is ResponseStatus.PENDING for r in consultation.responses),
    )
