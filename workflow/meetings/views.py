"""Meetings in the web app: calendars, agenda building, documents, minutes and feeds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response as BaseResponse
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from models import (
    AgendaItem,
    Body,
    Case,
    DecisionTemplate,
    FollowUpItem,
    ItemKind,
    Meeting,
    MeetingStatus,
    Membership,
    SeriesFrequency,
    User,
)
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.engine import clock, values
from workflow.engine.calendar import local_date
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.errors import WorkflowError
from workflow.engine.formats import format_date
from workflow.meetings import (
    agenda,
    attendance,
    ical,
    minutes,
    minutes_steps,
    queries,
    register_document,
)
from workflow.meetings import labels as status_labels
from workflow.meetings import operations as meetings
from workflow.meetings.labels import OUTCOME_LABELS
from workflow.meetings.outcomes import Outcome, possible_outcomes
from workflow.meetings.register import register_of
from workflow.meetings.roll import Roll, roll
from workflow.notifications import observers
from workflow.web import db
from workflow.web.fields import DayField, IdField, LineField, TextField, UrlField
from workflow.web.i18n import current_locale, in_language_of, pick
from workflow.web.routing import id_url

bp = Blueprint("meetings", __name__, url_prefix="/moeder")
# The meeting history names its entries in the reader's language wherever it is shown.
bp.add_app_template_global(status_labels.history_label, "meeting_history_label")

KIND_CHOICES = [SelectChoice(k.value, label) for k, label in agenda.KIND_LABELS.items()]


class PlanMeetingForm(FlaskForm):  # type: ignore[misc]
    """Plan one meeting, or a series when `count` is above 1."""

    # Every option is a body and one is always chosen: no `required` (HTML allows it only
    # with an empty placeholder option first).
    body = SelectField(_l("Organ"), validators=[InputRequired()], render_kw={"required": False})
    title = LineField(_l("Titel"), validators=[Optional()])
    day = DayField(_l("Dato"), validators=[InputRequired(_l("Angiv mødets dato."))])
    start = TimeField(_l("Starttid"), validators=[InputRequired(_l("Angiv starttiden."))])
    minutes_long = IntegerField(_l("Varighed (minutter)"), default=120,
                                validators=[NumberRange(1, 24 * 60)])  # fmt: skip
    location = LineField(_l("Sted"), validators=[Optional()])
    online_url = UrlField(_l("Link til onlinemøde"), validators=[Optional()])
    frequency = SelectField(
        _l("Gentagelse"),
        choices=[SelectChoice("", _l("Enkelt møde")), SelectChoice("weekly", _l("Ugentligt")),
                 SelectChoice("monthly", _l("Månedligt"))],
        validators=[Optional()],
    )  # fmt: skip
    interval = IntegerField(_l("Hver (antal uger/måneder)"), default=1,
                            validators=[Optional(), NumberRange(1, 12)])  # fmt: skip
    count = IntegerField(_l("Antal møder"), default=1,
                         validators=[Optional(), NumberRange(1, meetings.MAX_SERIES)])  # fmt: skip


class AddCaseForm(FlaskForm):  # type: ignore[misc]
    case_id = IdField(validators=[InputRequired()])
    kind = SelectField(_l("Punktets art"), choices=KIND_CHOICES)
    closed = BooleanField(_l("Lukket punkt"))
    public_summary = TextField(_l("Offentligt resumé (for lukkede punkter)"))


class ItemForm(FlaskForm):  # type: ignore[misc]
    title = LineField(_l("Titel"), validators=[InputRequired()])
    kind = SelectField(_l("Punktets art"), choices=KIND_CHOICES)
    closed = BooleanField(_l("Lukket punkt"))
    public_summary = TextField(_l("Offentligt resumé"))
    recommendation = TextField(_l("Indstilling"))
    background = TextField(_l("Baggrund"))
    presentation = TextField(_l("Sagsfremstilling"))
    consequences = TextField(_l("Konsekvenser"))
    risk = TextField(_l("Risikovurdering"))
    economy = TextField(_l("Økonomi"))


class OutcomeForm(FlaskForm):  # type: ignore[misc]
    outcome = SelectField(
        _l("Udfald"), choices=[SelectChoice(o.value, lbl) for o, lbl in OUTCOME_LABELS.items()]
    )
    decision_text = TextField(_l("Beslutning"))


class FollowUpForm(FlaskForm):  # type: ignore[misc]
    description = TextField(_l("Hvad skal følges op"), validators=[InputRequired()])
    owner_email = LineField(_l("Ansvarlig (e-mail)"), validators=[InputRequired()])
    due_on = DayField(_l("Frist"), validators=[InputRequired()])


class MoveForm(FlaskForm):  # type: ignore[misc]
    day = DayField(_l("Ny dato"), validators=[InputRequired()])
    start = TimeField(_l("Ny starttid"), validators=[InputRequired()])
    comment = TextField(_l("Begrundelse"))


class CommentForm(FlaskForm):  # type: ignore[misc]
    comment = TextField(_l("Begrundelse"))


class AttendanceForm(FlaskForm):  # type: ignore[misc]
    """Deltagere and afbud (checkboxes per member) and the referent; choices set per meeting."""

    present = SelectMultipleField(_l("Deltagere"), coerce=values.record_id, choices=[])
    absent = SelectMultipleField(_l("Afbud"), coerce=values.record_id, choices=[])
    minute_taker = SelectField(_l("Referent"), choices=[])


class FreeItemForm(FlaskForm):  # type: ignore[misc]
    title = LineField(_l("Titel"), validators=[InputRequired()])
    kind = SelectField(_l("Punktets art"), choices=KIND_CHOICES, default="information")


def _local(day: date, start: time) -> datetime:
    return datetime.combine(day, start, tzinfo=LOCAL_TZ).astimezone(clock.now().tzinfo)


# The meeting with its body (every meeting page names it) in one statement, built once.
_MEETING = (
    select(Meeting).where(Meeting.id == bindparam("meeting_id")).options(joinedload(Meeting.body))
)


def _meeting(session: Session, meeting_id: int) -> Meeting:
    """The meeting, if the user may see it; else 404, as for one that does not exist."""
    meeting = session.scalar(_MEETING, {"meeting_id": meeting_id})
    return _seen(meeting)


def _seen(meeting: Meeting | None) -> Meeting:
    if meeting is None or not policy.may(current_actor(), "view", meeting, session=db()):
        abort(404)
    return meeting


def _meeting_page(session: Session, meeting_id: int) -> queries.MeetingPage:
    """What the meeting page reads of the meeting (`queries.meeting_page`), if the user may
    see it; else 404, as for one that does not exist."""
    page = queries.meeting_page(session, meeting_id)
    _seen(page.meeting if page is not None else None)
    assert page is not None
    return page


def _my_bodies(session: Session, user: User) -> list[Body]:
    return list(
        session.scalars(
            select(Body)
            .join(Membership, Membership.body_id == Body.id)
            .where(Membership.user_id == user.id, Membership.active.is_(True))
            .distinct()
            .order_by(Body.code)
        )
    )


def _planner_bodies(session: Session, user: User) -> list[Body]:
    return policy.bodies_where(session, user, "plan_meetings")


def _sees_closed(session: Session, user: User, meeting: Meeting) -> bool:
    """Members of the body see closed items in full; everyone else the public edition."""
    return policy.may(user, "view_closed_items", meeting, session)


def _outcomes(case: Case | None) -> list[Outcome]:
    return possible_outcomes(case) if case is not None else list(Outcome)


def _fail(error: WorkflowError) -> None:
    flash(error.message, "error")


@bp.get("")
@login_required
def index() -> str:
    """The user's bodies' meetings, and the form to plan new ones."""
    session = db()
    user = current_actor()
    bodies = _my_bodies(session, user)
    shown = meetings.meetings_of(
        session, [b.id for b in bodies], since=clock.now() - timedelta(days=60)
    )
    form = PlanMeetingForm()
    form.body.choices = [
        SelectChoice(b.code, f"{b.code} – {b.name}") for b in _planner_bodies(session, user)
    ]
    search = _past_search()
    return render_template(
        "meetings/index.html",
        meetings=shown,
        past=queries.past_meetings(session, [b.id for b in bodies], search, clock.now()),
        search=search,
        search_args={
            "q": search.text,
            "fra": search.since.isoformat() if search.since else "",
            "til": search.until.isoformat() if search.until else "",
        },
        bodies=bodies,
        form=form,
        labels=status_labels.STATUS_LABELS,
        has_token=ical.has_token(session, user),
    )


def _past_search() -> queries.PastSearch:
    """Read the search of past meetings from the address; a bad value is said and ignored."""
    args = request.args
    text, since, until = "", None, None
    try:
        text = values.single_line(args.get("q", "").strip(), 200)
        if args.get("fra", "").strip():
            since = values.calendar_date(args["fra"])
        if args.get("til", "").strip():
            until = values.calendar_date(args["til"])
    except values.InvalidValue as problem:
        flash(pick(problem.message_da, problem.message_en), "error")
    if since and until and until < since:
        flash(_("Slutdatoen lå før startdatoen; datoerne er byttet om."), "error")
        since, until = until, since
    return queries.PastSearch(text, since, until, values.parse_id(args.get("side", "1")) or 1)


@bp.post("/planlaeg")
@login_required
def plan() -> BaseResponse:
    """Plan a meeting or a series."""
    session = db()
    user = current_actor()
    form = PlanMeetingForm()
    form.body.choices = [SelectChoice(b.code, b.code) for b in _planner_bodies(session, user)]
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("meetings.index"))
    body = session.scalar(select(Body).where(Body.code == form.body.data))
    assert body is not None
    starts = _local(form.day.data, form.start.data)
    duration = form.minutes_long.data or 120
    try:
        if form.frequency.data and (form.count.data or 1) > 1:
            _series, planned = meetings.plan_series(
                session, body, starts, user, frequency=SeriesFrequency(form.frequency.data),
                count=form.count.data or 1, interval=form.interval.data or 1,
                duration_minutes=duration, title=form.title.data or "",
                location=form.location.data or "", online_url=form.online_url.data,
            )  # fmt: skip
            flash(_("%(n)s møder er planlagt.", n=len(planned)), "success")
            return redirect(url_for("meetings.index"))
        meeting = meetings.plan_meeting(
            session, body, starts, user, ends_at=starts + timedelta(minutes=duration),
            title=form.title.data or "", location=form.location.data or "",
            online_url=form.online_url.data,
        )  # fmt: skip
    except WorkflowError as error:
        _fail(error)
        return redirect(url_for("meetings.index"))
    flash(_("Mødet er planlagt."), "success")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


def _decision_items(decisions: list[agenda.ChairDecision], locale: str) -> Markup:
    """The chairs' decisions as the items of the page's list, each a link only for a reader
    who may open the case. Written here, not in the template: a body's chairs may take
    hundreds of decisions between meetings (TSS's: two thousand a month at 100,000 cases),
    and a template loop costs some 40 Python calls an item, this about 15; every value from
    the database is escaped all the same."""
    case_href = id_url("cases.detail", "case_id")
    days: dict[str, str] = {}
    parts = []
    for decision in decisions:
        day = format_date(decision.created_at, locale)
        if day not in days:
            days[day] = str(escape(day))
        title = escape(decision.title)
        line = f'<a href="{case_href(decision.case_id)}">{title}</a>' if decision.visible else title
        if decision.comment:
            line = f'{line} – <span lang="da">{escape(decision.comment)}</span>'
        parts.append(f"<li>{days[day]}: {line}</li>")
    return Markup("".join(parts))


@bp.get("/<int:meeting_id>")
@login_required
def detail(meeting_id: int) -> str:
    """A meeting: its agenda, candidates, minutes and history."""
    session = db()
    user = current_actor()
    page = _meeting_page(session, meeting_id)
    meeting, versions, items = page.meeting, page.versions, page.items
    body = meeting.body
    is_secretariat = policy.may(user, "edit_agenda", meeting, session)
    # The items' cases, deadlines and attachments in a statement each, not one per item.
    case_ids = [i.case_id for i in items if i.case_id is not None]
    cases = (
        {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
        if case_ids
        else {}
    )
    deadlines = agenda.material_deadlines(session, meeting) if case_ids else {}
    by_case = agenda.attachments_by_case(session, case_ids)
    outcome_choices = {
        item.id: [(o.value, OUTCOME_LABELS[o]) for o in _outcomes(cases.get(item.case_id))]
        for item in items
        if item.case_id is not None
    }
    # Each read once and handed to whatever on the page needs it.
    records = page.records
    present, given = records.roll, records.approvals
    body_members = page.members
    chair_decisions = _decision_items(
        agenda.chair_decisions_since(session, meeting, user), current_locale()
    )
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        body=body,
        items=items,
        cases=cases,
        readiness={i.id: agenda.readiness(session, i, deadlines=deadlines) for i in items},
        attachments={i.id: by_case[i.case_id] if i.case_id is not None else [] for i in items},
        candidates=(
            _candidate_page(session, meeting)
            if is_secretariat and meeting.status in meetings.AGENDA_OPEN
            else None
        ),
        actions=[
            meetings.TRANSITIONS[n] for n in meetings.available_transitions(session, meeting, user)
        ],
        is_secretariat=is_secretariat,
        agenda_open=meeting.status in meetings.AGENDA_OPEN,
        minutes_open=meeting.status is MeetingStatus.HELD,
        sees_closed=_sees_closed(session, user, meeting),
        outcome_choices=outcome_choices,
        outcome_labels={o.value: lbl for o, lbl in OUTCOME_LABELS.items()},
        # The decision templates are offered beside an outcome form only (held, items with cases).
        templates=(
            minutes.templates_for(session, body.id)
            if is_secretariat
            and meeting.status is MeetingStatus.HELD
            and any(item.case_id is not None and item.event_id is None for item in items)
            else []
        ),
        history=records.history,
        labels=status_labels.STATUS_LABELS,
        kind_labels=agenda.KIND_LABELS,
        per_page=agenda.CANDIDATES_PER_PAGE,
        sections=agenda.SECTIONS,
        agenda_version=versions.get("agenda"),
        minutes_version=versions.get("minutes"),
        chair_decisions=chair_decisions,
        roll=present,
        approvals=given,
        may_approve=attendance.may_approve(
            session, meeting, user, present=present.present, given=given
        ),
        reads_draft=attendance.may_read_draft(session, meeting, user),
        may_record_attendance=policy.may(user, "record_attendance", meeting, session)
        and meeting.status is not MeetingStatus.CANCELLED,
        attendance_choices=_attendance_choices(session, meeting, body_members, present),
        minutes_steps=minutes_steps.steps(session, meeting, body_members=body_members, items=items),
    )


def _candidate_page(session: Session, meeting: Meeting) -> agenda.CandidatePage:
    """The page of candidates the address asks for (`kandidatside`), searched for its
    `kandidat` (words of the title or a case number); a bad value is said and ignored."""
    text = ""
    try:
        text = values.single_line(request.args.get("kandidat", "").strip(), 200)
    except values.InvalidValue as problem:
        flash(pick(problem.message_da, problem.message_en), "error")
    page = values.parse_id(request.args.get("kandidatside", "1")) or 1
    return agenda.candidate_page(session, meeting, page, text)


def _attendance_choices(
    session: Session,
    meeting: Meeting,
    body_members: list[User] | None = None,
    current: Roll | None = None,
) -> list[User]:
    """The body's active members, and anyone already on the meeting's roll, by name
    (`body_members` and `current`, the roll, save reading them again)."""
    members = set(
        body_members if body_members is not None else minutes_steps.members(session, meeting)
    )
    if current is None:
        current = roll(session, meeting)
    members.update(current.present, current.absent)
    if current.minute_taker is not None:
        members.add(current.minute_taker)
    return sorted(members, key=lambda u: (u.name, u.id))


@bp.post("/<int:meeting_id>/fremmoede")
@login_required
def record_attendance(meeting_id: int) -> BaseResponse:
    """Record deltagere, afbud and referent."""
    session = db()
    meeting = _meeting(session, meeting_id)
    people = {u.id: u for u in _attendance_choices(session, meeting)}
    form = AttendanceForm()
    form.present.choices = form.absent.choices = [(i, u.name) for i, u in people.items()]
    form.minute_taker.choices = [("", _("Ingen")), *((str(i), u.name) for i, u in people.items())]
    if not form.validate():
        flash(_("Vælg deltagere, afbud og referent blandt organets medlemmer."), "error")
        return _back(meeting, "#fremmoede")
    taker_id = values.parse_id(form.minute_taker.data or "")
    try:
        attendance.record_attendance(
            session, meeting, current_actor(),
            present=[people[i] for i in form.present.data or []],
            absent=[people[i] for i in form.absent.data or []],
            minute_taker=people.get(taker_id) if taker_id else None,
        )  # fmt: skip
    except WorkflowError as error:
        _fail(error)
        return _back(meeting, "#fremmoede")
    flash(_("Fremmødet er gemt."), "success")
    return _back(meeting, "#fremmoede")


@bp.post("/<int:meeting_id>/godkend-referat")
@login_required
def approve_as_participant(meeting_id: int) -> BaseResponse:
    """A participant's »Godkend referat«."""
    session = db()
    meeting = _meeting(session, meeting_id)
    try:
        attendance.approve_as_participant(session, meeting, current_actor())
    except WorkflowError as error:
        _fail(error)
        return _back(meeting, "#referat")
    flash(_("Din godkendelse af referatet er registreret."), "success")
    return _back(meeting, "#referat")


def _back(meeting: Meeting, anchor: str = "") -> BaseResponse:
    return redirect(url_for("meetings.detail", meeting_id=meeting.id) + anchor)


@bp.post("/<int:meeting_id>/status/<name>")
@login_required
def change_status(meeting_id: int, name: str) -> BaseResponse:
    """Take a step of the meeting's own state machine (approving minutes fires decisions)."""
    session = db()
    meeting = _meeting(session, meeting_id)
    user = current_actor()
    form = CommentForm()
    try:
        if name == "publish":
            agenda.publish(session, meeting, user)
        elif name == "approve_minutes":
            result = minutes.approve_minutes(session, meeting, user)
            if result.refused:
                flash(
                    _("Referatet er godkendt, men %(n)s beslutninger kunne ikke gennemføres på "
                      "sagen. Se punkterne markeret nedenfor.", n=len(result.refused)),
                    "error",
                )  # fmt: skip
        else:
            meetings.step(session, meeting, name, user, comment=form.comment.data or "")
    except WorkflowError as error:
        _fail(error)
        return _back(meeting)
    status = status_labels.STATUS_LABELS[meeting.status]
    flash(_("Mødet har nu status »%(s)s«.", s=status), "success")
    return _back(meeting)


@bp.post("/<int:meeting_id>/flyt")
@login_required
def move(meeting_id: int) -> BaseResponse:
    """Move the meeting (and the material deadlines of its cases)."""
    session = db()
    meeting = _meeting(session, meeting_id)
    form = MoveForm()
    if not form.validate():
        flash(_("Angiv ny dato og starttid."), "error")
        return _back(meeting)
    try:
        change = meetings.move_meeting(
            session, meeting, _local(form.day.data, form.start.data), current_actor(),
            comment=form.comment.data or "",
        )  # fmt: skip
    except WorkflowError as error:
        _fail(error)
        return _back(meeting)
    flash(_("Mødet er flyttet. %(s)s", s=change.summary()), "success")
    return _back(meeting)


@bp.post("/<int:meeting_id>/aflys")
@login_required
def cancel(meeting_id: int) -> BaseResponse:
    """Cancel the meeting after a confirmation page (a second POST), as it cannot be undone."""
    session = db()
    meeting = _meeting(session, meeting_id)
    form = CommentForm()
    if request.form.get("confirmed") != "ja":
        try:
            meetings.check_step(
                session, meeting, "cancel", current_actor(),
                comment=form.comment.data or "", own_operation=True,
            )  # fmt: skip
        except WorkflowError as error:
            _fail(error)
            return _back(meeting)
        page = render_template(
            "meetings/confirm_cancel.html", meeting=meeting, comment=form.comment.data or ""
        )
        return Response(page, mimetype="text/html")
    try:
        change = meetings.cancel_meeting(
            session, meeting, current_actor(), comment=form.comment.data or ""
        )
    except WorkflowError as error:
        _fail(error)
        return _back(meeting)
    flash(_("Mødet er aflyst. %(s)s", s=change.summary()), "success")
    return _back(meeting)


@bp.post("/<int:meeting_id>/punkter")
@login_required
def add_case(meeting_id: int) -> BaseResponse:
    """Put a case on the agenda."""
    session = db()
    meeting = _meeting(session, meeting_id)
    form = AddCaseForm()
    case = session.get(Case, form.case_id.data) if form.validate() else None
    if case is None:
        flash(_("Vælg en sag at sætte på dagsordenen."), "error")
        return _back(meeting)
    try:
        agenda.add_case(
            session, meeting, case, current_actor(), kind=ItemKind(form.kind.data),
            closed=bool(form.closed.data), public_summary=form.public_summary.data or "",
        )  # fmt: skip
    except WorkflowError as error:
        _fail(error)
        return _back(meeting, "#kandidater")
    flash(_("»%(t)s« er sat på dagsordenen.", t=case.title), "success")
    return _back(meeting, "#dagsorden")


@bp.post("/<int:meeting_id>/punkter/nyt")
@login_required
def add_free_item(meeting_id: int) -> BaseResponse:
    """Add an item without a case."""
    session = db()
    meeting = _meeting(session, meeting_id)
    form = FreeItemForm()
    if not form.validate():
        flash(_("Punktet skal have en titel."), "error")
        return _back(meeting)
    try:
        agenda.add_item(session, meeting, current_actor(), title=form.title.data,
                        kind=ItemKind(form.kind.data))  # fmt: skip
    except WorkflowError as error:
        _fail(error)
    return _back(meeting, "#dagsorden")


def _item(session: Session, meeting: Meeting, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


@bp.post("/<int:meeting_id>/punkter/<int:item_id>")
@login_required
def update_item(meeting_id: int, item_id: int) -> BaseResponse:
    """Change an item's texts, kind or openness."""
    session = db()
    meeting = _meeting(session, meeting_id)
    item = _item(session, meeting, item_id)
    form = ItemForm()
    if not form.validate():
        flash(_("Punktet skal have en titel."), "error")
        return _back(meeting, f"#punkt-{item.id}")
    texts = {name: getattr(form, name).data or "" for name, _label in agenda.SECTIONS}
    try:
        agenda.update_item(
            session, item, current_actor(), kind=ItemKind(form.kind.data),
            closed=bool(form.closed.data), title=form.title.data,
            public_summary=form.public_summary.data or "", **texts,
        )  # fmt: skip
    except WorkflowError as error:
        _fail(error)
        return _back(meeting, f"#punkt-{item.id}")
    flash(_("Punktet er gemt."), "success")
    return _back(meeting, f"#punkt-{item.id}")


@bp.post("/<int:meeting_id>/punkter/<int:item_id>/flyt/<direction>")
@login_required
def move_item(meeting_id: int, item_id: int, direction: str) -> BaseResponse:
    """Move an item one place up or down."""
    session = db()
    meeting = _meeting(session, meeting_id)
    item = _item(session, meeting, item_id)
    if direction not in ("op", "ned"):
        abort(404)
    try:
        agenda.move_item(session, item, current_actor(), -1 if direction == "op" else 1)
    except WorkflowError as error:
        _fail(error)
    return _back(meeting, "#dagsorden")


@bp.post("/<int:meeting_id>/punkter/<int:item_id>/fjern")
@login_required
def remove_item(meeting_id: int, item_id: int) -> BaseResponse:
    """Take an item off the agenda."""
    session = db()
    meeting = _meeting(session, meeting_id)
    item = _item(session, meeting, item_id)
    try:
        agenda.remove_item(session, item, current_actor(), comment=CommentForm().comment.data or "")
    except WorkflowError as error:
        _fail(error)
    return _back(meeting, "#dagsorden")


@bp.post("/<int:meeting_id>/punkter/<int:item_id>/udfald")
@login_required
def record_outcome(meeting_id: int, item_id: int) -> BaseResponse:
    """Record an item's outcome and decision text in the minutes."""
    session = db()
    meeting = _meeting(session, meeting_id)
    item = _item(session, meeting, item_id)
    form = OutcomeForm()
    template_id = request.form.get("template_id", "")
    try:
        if values.is_record_id(template_id):
            template = next(
                (
                    t
                    for t in minutes.templates_for(session, meeting.body_id)
                    if t.id == int(template_id)
                ),
                None,
            )
            if template is None:
                abort(404)
            minutes.apply_template(session, template, [item], current_actor())
        else:
            if not form.validate():
                flash(_("Vælg et udfald."), "error")
                return _back(meeting, f"#punkt-{item.id}")
            minutes.record_outcome(
                session, item, current_actor(), Outcome(form.outcome.data),
                form.decision_text.data or "",
            )  # fmt: skip
    except WorkflowError as error:
        _fail(error)
    return _back(meeting, f"#punkt-{item.id}")


@bp.post("/<int:meeting_id>/punkter/<int:item_id>/opfoelgning")
@login_required
def follow_up(meeting_id: int, item_id: int) -> BaseResponse:
    """Register a follow-up item in the decision register."""
    session = db()
    meeting = _meeting(session, meeting_id)
    item = _item(session, meeting, item_id)
    form = FollowUpForm()
    # Validate first: the e-mail is looked up only once it is known to be one clean line.
    valid = form.validate()
    owner = (
        session.scalar(select(User).where(User.email == (form.owner_email.data or "").strip()))
        if valid
        else None
    )
    if owner is None:
        flash(_("Udfyld beskrivelse, frist og en ansvarlig brugers e-mail."), "error")
        return _back(meeting, f"#punkt-{item.id}")
    try:
        minutes.add_follow_up(session, item, current_actor(), description=form.description.data,
                              owner=owner, due_on=form.due_on.data)  # fmt: skip
    except WorkflowError as error:
        _fail(error)
        return _back(meeting, f"#punkt-{item.id}")
    flash(_("Opfølgningen er registreret."), "success")
    return _back(meeting, f"#punkt-{item.id}")


@bp.post("/<int:meeting_id>/gennemfoer-igen")
@login_required
def retry(meeting_id: int) -> BaseResponse:
    """Fire again the decisions the engine refused (after the cases were corrected)."""
    session = db()
    meeting = _meeting(session, meeting_id)
    try:
        result = minutes.retry_refused(session, meeting, current_actor())
    except WorkflowError as error:
        _fail(error)
        return _back(meeting)
    flash(
        _("%(a)s gennemført, %(b)s afvist.", a=len(result.fired), b=len(result.refused)), "success"
    )
    return _back(meeting)


@bp.get("/<int:meeting_id>/<kind>.<fmt>")
@login_required
def document(meeting_id: int, kind: str, fmt: str) -> Response:
    """Download the agenda (dagsorden) or minutes (referat) as PDF or DOCX."""
    session = db()
    meeting = _meeting(session, meeting_id)
    kinds = {"dagsorden": "agenda", "referat": "minutes"}
    if kind not in kinds or fmt not in ("pdf", "docx"):
        abort(404)
    user = current_actor()
    version = agenda.latest_version(session, meeting, kinds[kind])
    if version is not None:
        snap = {**version.snapshot, "version": version.number}
    elif policy.may(user, "plan", meeting, session) or (
        kinds[kind] == "minutes" and attendance.may_read_draft(session, meeting, user)
    ):
        snap = {**agenda.snapshot(session, meeting, kinds[kind]), "version": _("udkast")}
    else:
        abort(404)
    public = not _sees_closed(session, user, meeting)
    body = session.get(Body, meeting.body_id)
    assert body is not None
    name = f"{kind}-{body.code}-{meeting.starts_at.astimezone(LOCAL_TZ):%Y-%m-%d}.{fmt}"
    # Imported here, not at the top: the PDF and Word libraries are a fifth of the app's
    # import time, and only this download needs them (cold start, docs/performance.md).
    from workflow.meetings import documents

    if fmt == "pdf":
        return Response(
            documents.to_pdf(snap, public=public),
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        documents.to_docx(snap, public=public),
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class TemplateForm(FlaskForm):  # type: ignore[misc]
    """A decision template: the outcome and text the secretariat gives many items alike."""

    # The engine says who may keep a body's templates, in Danish; WTForms would not.
    body = SelectField(
        _l("Organ"),
        validators=[InputRequired()],
        validate_choice=False,
        render_kw={"required": False},  # one option is always chosen (see PlanMeetingForm)
    )
    name = LineField(_l("Navn"), validators=[InputRequired(_l("Giv skabelonen et navn."))])
    outcome = SelectField(
        _l("Udfald"), choices=[SelectChoice(o.value, lbl) for o, lbl in OUTCOME_LABELS.items()]
    )
    text = TextField(
        _l("Beslutningstekst"), validators=[InputRequired(_l("Skriv beslutningsteksten."))]
    )


def _secretariat_bodies(session: Session, user: User) -> list[Body]:
    return policy.bodies_where(session, user, "keep_templates")


def _template_form(session: Session, user: User) -> TemplateForm:
    form = TemplateForm()
    choices = [SelectChoice(str(b.id), f"{b.code} – {b.name}")
               for b in _secretariat_bodies(session, user)]  # fmt: skip
    if policy.may(user, "keep_templates", None, session):
        choices.insert(0, SelectChoice("alle", _("Alle organer")))
    form.body.choices = choices
    return form


def _template(session: Session, template_id: int) -> DecisionTemplate:
    template = session.get(DecisionTemplate, template_id)
    if template is None:
        abort(404)
    return template


def _form_errors(form: FlaskForm) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")


@bp.get("/beslutningsskabeloner")
@login_required
def templates() -> str:
    """The decision templates of the user's bodies: add, change, archive."""
    session = db()
    user = current_actor()
    bodies = _secretariat_bodies(session, user)
    return render_template(
        "meetings/templates.html",
        templates=minutes.all_templates(
            session, [b.id for b in bodies], policy.may(user, "keep_templates", None, session)
        ),
        bodies={b.id: b for b in session.scalars(select(Body))},
        form=_template_form(session, user),
        outcome_labels={o.value: lbl for o, lbl in OUTCOME_LABELS.items()},
    )


@bp.post("/beslutningsskabeloner")
@login_required
def add_template() -> BaseResponse:
    """Save a new decision template."""
    session = db()
    user = current_actor()
    form = _template_form(session, user)
    if not form.validate():
        _form_errors(form)
        return redirect(url_for("meetings.templates"), code=303)
    body_id = values.parse_id(form.body.data)
    body = session.get(Body, body_id) if body_id is not None else None
    try:
        minutes.add_template(session, body, form.name.data, Outcome(form.outcome.data),
                             form.text.data, user)  # fmt: skip
    except WorkflowError as error:
        _fail(error)
        return redirect(url_for("meetings.templates"), code=303)
    flash(_("Skabelonen »%(name)s« er gemt.", name=form.name.data.strip()), "success")
    return redirect(url_for("meetings.templates"), code=303)


@bp.post("/beslutningsskabeloner/<int:template_id>")
@login_required
def edit_template(template_id: int) -> BaseResponse:
    """Change a template's name, outcome and text."""
    session = db()
    template = _template(session, template_id)
    form = TemplateForm()
    if not form.validate():
        _form_errors(form)
        return redirect(url_for("meetings.templates") + f"#skabelon-{template.id}", code=303)
    try:
        minutes.edit_template(session, template, current_actor(), name=form.name.data,
                              outcome=Outcome(form.outcome.data), text=form.text.data)  # fmt: skip
    except WorkflowError as error:
        _fail(error)
    else:
        flash(_("Skabelonen »%(name)s« er ændret.", name=template.name), "success")
    return redirect(url_for("meetings.templates") + f"#skabelon-{template.id}", code=303)


@bp.post("/beslutningsskabeloner/<int:template_id>/<action>")
@login_required
def archive_template(template_id: int, action: str) -> BaseResponse:
    """Archive a template, or take an archived one back into use (never delete)."""
    session = db()
    template = _template(session, template_id)
    if action not in ("arkiver", "genbrug"):
        abort(404)
    CommentForm().validate()
    try:
        minutes.set_template_active(session, template, current_actor(), action == "genbrug")
    except WorkflowError as error:
        _fail(error)
    else:
        done = _("arkiveret") if action == "arkiver" else _("taget i brug igen")
        flash(_("Skabelonen »%(name)s« er %(done)s.", name=template.name, done=done), "success")
    return redirect(url_for("meetings.templates"), code=303)


@bp.get("/beslutningsregister")
@login_required
def register() -> str:
    """The decision register: follow-ups of the user's bodies and those the user owns."""
    found = register_of(db(), current_actor())
    return render_template(
        "meetings/register.html",
        open_items=found.open_items,
        done_items=found.done_items,
        cases=found.cases,
        owners=found.owners,
        meetings_by_id=found.meetings_by_id,
        today=local_date(clock.now()),
        confirm_form=CommentForm(),
    )


@bp.get("/beslutningsregister.pdf")
@login_required
def register_pdf() -> Response:
    """The decision register as tagged PDF: the same follow-ups the reader's page lists."""
    user = current_actor()
    found = register_of(db(), user)
    today = local_date(clock.now())
    open_rows, done_rows = (
        register_document.rows(items, cases=found.cases, owners=found.owners,
                               meetings=found.meetings_by_id, today=today)
        for items in (found.open_items, found.done_items)
    )  # fmt: skip
    body = register_document.to_pdf(open_rows, done_rows, reader=user.name, today=today)
    name = f"beslutningsregister-{today:%Y-%m-%d}.pdf"
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/opfoelgning/<int:follow_up_id>/udfoert")
@login_required
def complete_follow_up(follow_up_id: int) -> BaseResponse:
    """Mark a follow-up done (written to the case's timeline)."""
    session = db()
    follow_up = session.get(FollowUpItem, follow_up_id)
    if follow_up is None:
        abort(404)
    CommentForm().validate()
    try:
        minutes.complete_follow_up(session, follow_up, current_actor())
    except WorkflowError as error:
        _fail(error)
    else:
        flash(_("Opfølgningen er meldt udført."), "success")
    return redirect(url_for("meetings.register"), code=303)


@bp.post("/kalender/ny-noegle")
@login_required
def new_feed_token() -> str:
    """Issue a new calendar token and show the subscription address once."""
    session = db()
    user = current_actor()
    token = ical.issue_token(session, user)
    bodies = _my_bodies(session, user)
    return render_template("meetings/feed_token.html", token=token, bodies=bodies)


@bp.get("/kalender/<token>.ics")
def user_feed(token: str) -> Response:
    """The user's iCalendar feed (no login: the token is the key)."""
    session = db()
    user = ical.user_for_token(session, token)
    if user is None:
        abort(404)
    with in_language_of(user):
        return Response(ical.user_feed(session, user), mimetype="text/calendar")


@bp.get("/kalender/<token>/<code>.ics")
def body_feed(token: str, code: str) -> Response:
    """A body's meeting calendar, for holders of a feed token."""
    session = db()
    user = ical.user_for_token(session, token)
    body = session.scalar(select(Body).where(Body.code == code))
    # The same rule as the meetings pages: an account without any membership sees no meetings.
    if user is None or body is None or not policy.may(user, "view_meetings", None, session):
        abort(404)
    with in_language_of(user):
        return Response(ical.body_feed(session, body), mimetype="text/calendar")


@bp.get("/orientering")
@login_required
def informed() -> str:
    """What SKU approved, for KKR Hovedstaden and KKU (read-only)."""
    # A refusal rises as NotAllowed: the refusal page explains who may see the list.
    rows = observers.approved_by_sku(db(), current_actor())
    return render_template("observers/index.html", rows=rows)


@bp.get("/orientering/<token>.atom")
def informed_feed(token: str) -> Response:
    """The same list as an Atom feed, reached with the user's feed token."""
    session = db()
    user = ical.user_for_token(session, token)
    if user is None:
        abort(404)
    with in_language_of(user):
        try:
            rows = observers.approved_by_sku(session, user)
        except WorkflowError:
            abort(404)
        xml = render_template("observers/feed.xml", rows=rows, updated=clock.now())
    return Response(xml, mimetype="application/atom+xml")


def blueprints() -> list[Blueprint]:
    """Return the blueprints of meetings, attachments and consultations, for create_app.

    The meeting lifecycle (states/meeting.toml) is loaded and validated here, so an invalid
    file stops the app at start with its file and key named.
    """
    from workflow.cases import attachment_views as attachments_web
    from workflow.consultations import views as consultations_web
    from workflow.meetings import lifecycle

    lifecycle.definition()
    return [bp, attachments_web.bp, consultations_web.bp]
