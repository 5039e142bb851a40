"""Act on several cases at once: one trigger and one templated comment, each case through
engine.perform() on its own, each result shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import bindparam, or_, select

from models import Body, Case, Meeting, MeetingStatus
from workflow import policy
from workflow.auth.login import current_actor, current_user, login_required
from workflow.cases import confirmation, queries
from workflow.cases.choices import mark_selected
from workflow.cases.forms import MEETING_FIELD, Option
from workflow.engine import clock, values
from workflow.engine import core as engine
from workflow.engine.definitions import ProcessDefinition, TransitionSpec
from workflow.engine.errors import WorkflowError
from workflow.engine.formandskab import PROPOSED
from workflow.engine.processes import registry
from workflow.web import db
from workflow.web.i18n import _, current_locale, format_datetime, label, meeting_title, pick

bp = Blueprint("bulk", __name__, url_prefix="/sager")

MAX_CASES = 100
PLACEHOLDERS = ("{titel}", "{nr}", "{organ}")
# The meetings a bulk decision can be recorded on: recent ones that have taken place or are in
# progress (minutes come afterwards) of the bodies the user chairs or is secretariat for. A
# coming meeting is no place for a decision: the engine refuses it (put cases on its agenda).
MEETINGS_BEFORE = timedelta(days=90)
MEETINGS_LIMIT = 60


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


def _selection(checked: list[str]) -> list[tuple[int, int]]:
    """Read 'case_id:version' checkbox values, ignoring anything else."""
    chosen: list[tuple[int, int]] = []
    for value in checked[:MAX_CASES]:
        case_id, _sep, version = value.partition(":")
        number, seen = values.parse_id(case_id), values.parse_id(version)
        if number is not None and seen is not None:
            chosen.append((number, seen))
    return chosen


# Built once (see cases.queries._CASE_PAGE), of table columns: run on the session's
# connection, the meetings' rows skip the ORM's steps for a statement of entities' columns.
_MEETINGS_TABLE = Meeting.__table__
_BODIES_TABLE = Body.__table__
_BULK_MEETINGS = (
    select(
        _MEETINGS_TABLE.c.id,
        _MEETINGS_TABLE.c.title,
        _MEETINGS_TABLE.c.starts_at,
        _BODIES_TABLE.c.code,
        _BODIES_TABLE.c.name,
    )
    .join_from(_MEETINGS_TABLE, _BODIES_TABLE, _BODIES_TABLE.c.id == _MEETINGS_TABLE.c.body_id)
    .where(
        _MEETINGS_TABLE.c.body_id.in_(bindparam("body_ids", expanding=True)),
        _BODIES_TABLE.c.active.is_(True),
        _MEETINGS_TABLE.c.status != MeetingStatus.CANCELLED,
        _MEETINGS_TABLE.c.starts_at >= bindparam("earliest", type_=Meeting.starts_at.type),
        or_(
            _MEETINGS_TABLE.c.starts_at <= bindparam("now", type_=Meeting.starts_at.type),
            # Spelt out, not as an IN list, which is rendered anew on every execution.
            *(_MEETINGS_TABLE.c.status == status for status in sorted(engine.HELD_STATUSES)),
        ),
    )
    .order_by(_MEETINGS_TABLE.c.starts_at, _MEETINGS_TABLE.c.id)
    .limit(MEETINGS_LIMIT)
)


@dataclass(frozen=True)
class _Named:
    name: str


@dataclass(frozen=True)
class _MeetingRow:
    """What `meeting_title` reads of a meeting."""

    title: str | None
    body: _Named


def _meeting_options(rows: tuple[tuple[Any, ...], ...]) -> tuple[Option, ...]:
    """The options for these meetings' rows, in the request's language."""
    return tuple(
        Option(
            str(meeting_id),
            f"{code}: {meeting_title(_MeetingRow(title, _Named(name)))} – "
            f"{format_datetime(starts_at)}",
        )
        for meeting_id, title, starts_at, code, name in rows
    )


@lru_cache(maxsize=256)
def _meeting_options_html(locale: str, rows: tuple[tuple[Any, ...], ...]) -> str:
    """The `<option>`s of these meetings' rows, written once per language (`locale`, the
    request's) and rows, each as `<option value="…">`, so that the chosen one is marked
    afterwards (choices.mark_selected)."""
    return "".join(
        f'<option value="{escape(option.value)}">{escape(option.label)}</option>'
        for option in _meeting_options(rows)
    )


def _bulk_meeting_rows() -> tuple[tuple[Any, ...], ...]:
    """The rows (id, title, start, body code, body name) of the meetings of the user's chaired
    and secretariat bodies a decision can be put on."""
    user = current_user()
    if user is None:
        return ()
    now = clock.now()
    session = db()
    # The bodies' ids from the standing where it says (the statement leaves out the inactive
    # bodies), not read in a statement of their own.
    held = policy.bodies_held_for(session, user, "plan_meetings")
    bodies = (
        sorted(held)
        if held is not None
        else [b.id for b in policy.bodies_where(session, user, "plan_meetings")]
    )
    if not bodies:
        return ()
    if session.autoflush:
        session.flush()  # as a read through the session would; returns at once if nothing waits
    rows = session.connection().execute(
        _BULK_MEETINGS, {"body_ids": bodies, "earliest": now - MEETINGS_BEFORE, "now": now}
    )
    return tuple(tuple(row) for row in rows)


def bulk_meeting_options(chosen: str = "") -> Markup:
    """The bulk form's meetings as `<option>`s, the meeting `chosen` selected. Several bodies'
    meetings share the select: each names its body."""
    rows = _bulk_meeting_rows()
    if not rows:
        return Markup("")
    return mark_selected(_meeting_options_html(current_locale(), rows), chosen)


@bp.app_context_processor
def _bulk_meetings() -> dict[str, Callable[..., Any]]:
    """Give the case list's bulk form `bulk_meeting_options()`, queried only when it is shown."""
    return {"bulk_meeting_options": bulk_meeting_options}


def _meeting_data(transition: TransitionSpec, raw: str) -> dict[str, Any] | None:
    """The engine data for the chosen meeting, if the action is a decision or asks for one."""
    wants_meeting = transition.decision or any(f.type == "meeting" for f in transition.fields)
    meeting_id = values.parse_id(raw)
    if not wants_meeting or meeting_id is None:
        return None
    return {MEETING_FIELD: meeting_id}


def act_on(
    case: Case, trigger: str, version: int, comment: str, data: dict[str, Any] | None = None
) -> BulkResult:
    """Fire `trigger` on one case as the current user and describe the outcome."""
    user = current_actor()
    try:
        event = engine.perform(
            case, trigger, user, comment=fill_template(comment, case) or None,
            data=dict(data) if data else None, expected_version=version,
        )  # fmt: skip
    except WorkflowError as refusal:
        return BulkResult(case.id, case.title, False, pick(refusal.message, refusal.message_en))
    state = label(engine.definition_of(case).states[case.state])
    if event.trigger == PROPOSED:
        # The first co-chair's decision is a proposal to the chairmanship, not yet taken.
        proposed = _(
            "Forslag til formandskabet: afventer den anden medformands samtykke. "
            "Sagen er stadig: %(state)s.",
            state=state,
        )
        return BulkResult(case.id, case.title, True, proposed)
    return BulkResult(case.id, case.title, True, _("Udført. Sagen er nu: %(state)s.", state=state))


@bp.post("/samlet-handling")
@login_required
def perform_many() -> tuple[str, int]:
    """Fire one action on each selected case and show each case's result."""
    session = db()
    policy.require(current_actor(), "act_in_bulk", None, session)
    process, _sep, trigger = request.form.get("handling", "").partition(":")
    chosen = _selection(request.form.getlist("sag"))
    comment = request.form.get("kommentar", "").strip()
    raw_meeting = request.form.get(MEETING_FIELD, "").strip()
    definition = next((p for p in registry.all_latest(session) if p.name == process), None)
    transition = definition.transition(trigger) if definition else None
    problems: list[str] = []
    if transition is None:
        problems.append(_("Vælg den handling, der skal udføres."))
    if not chosen:
        problems.append(_("Vælg mindst én sag i listen."))
    if (
        transition is not None
        and chosen
        and definition is not None
        and not confirmation.is_confirmed(request.form)
    ):
        found = [(c, v) for i, v in chosen if (c := queries.find_case(session, i)) is not None]
        if any(
            c.process == process and confirmation.needs_confirmation(session, c, trigger)
            for c, _v in found
        ):
            # Irreversible for at least one case: say what will happen first (issue 11).
            return _confirm_page(definition, transition, found, comment, raw_meeting)
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
                data = _meeting_data(transition, raw_meeting)
                results.append(act_on(case, trigger, version, comment, data))
    html = render_template(
        "cases/bulk_result.html",
        action=label(transition) if transition else "",
        results=results,
        problems=problems,
        done=sum(r.ok for r in results),
    )
    return html, 422 if problems else 200


@dataclass(frozen=True)
class BulkConfirmRow:
    """One selected case on the confirmation page: where it stands and what the action does."""

    case: Case
    version: int
    from_state: str
    to_state: str | None


def _confirm_page(
    definition: ProcessDefinition,
    transition: TransitionSpec,
    found: list[tuple[Case, int]],
    comment: str,
    raw_meeting: str,
) -> tuple[str, int]:
    """Ask before an irreversible action fires on several cases; nothing is done yet.

    The input travels on in hidden fields (a plain form, no JavaScript); cancelling goes back
    to the case list with the same selection, action, meeting and comment filled in."""
    rows: list[BulkConfirmRow] = []
    for case, version in found:
        own = engine.definition_of(case)
        state = own.states.get(case.state)
        from_state = label(state) if state is not None else case.state
        to_state = None
        if case.process == definition.name and case.state in transition.sources:
            to_state = label(definition.states[transition.dest])
            data = {"meeting_id": raw_meeting} if raw_meeting else None
            if engine.would_propose(case, transition.trigger, current_actor(), data):
                to_state = _("Forslag til formandskabet (afventer den anden medformands samtykke)")
        rows.append(BulkConfirmRow(case, version, from_state, to_state))
    meeting_words = ""
    meeting_id = values.parse_id(raw_meeting)
    meeting = db().get(Meeting, meeting_id) if meeting_id is not None else None
    if meeting is not None:
        meeting_words = f"{meeting.body.code}: {meeting_title(meeting)} – " + format_datetime(
            meeting.starts_at
        )
    selection = [f"{row.case.id}:{row.version}" for row in rows]
    handling = f"{definition.name}:{transition.trigger}"
    cancel = url_for(
        "cases.index",
        valgt=selection,
        handling=handling,
        kommentar=comment or None,
        meeting_id=raw_meeting or None,
    )
    html = render_template(
        "cases/bulk_confirm.html",
        action=label(transition),
        rows=rows,
        selection=selection,
        handling=handling,
        comment=comment,
        raw_meeting=raw_meeting,
        meeting_words=meeting_words,
        informed=list(transition.inform),
        cancel=cancel,
        confirmed_field=confirmation.CONFIRMED_FIELD,
        confirmed_value=confirmation.CONFIRMED_VALUE,
    )
    return html, 200
