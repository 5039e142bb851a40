"""Bodies: the organisation's list, and a page per body with members, cases and meetings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from werkzeug.wrappers import Response

from models import Body, BodyKind, Case, Meeting, MeetingStatus, Membership, User
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import queries
from workflow.engine import clock
from workflow.engine.deadlines import material_deadline
from workflow.organisation import operations
from workflow.organisation import queries as organisation
from workflow.organisation.forms import AdHocGroupForm
from workflow.web import db
from workflow.web.i18n import _, _l, pick

bp = Blueprint("bodies", __name__, url_prefix="/organer")
bp.add_app_template_global(material_deadline, "materialefrist")

UPCOMING_MEETINGS = 12
KIND_LABELS = {
    BodyKind.POLITICAL: _l("Politiske udvalg"),
    BodyKind.STEERING: _l("Styregruppe"),
    BodyKind.COORDINATION_COMMITTEE: _l("Samordningsudvalg"),
    BodyKind.FORUM: _l("Samarbejdsfora"),
    BodyKind.THEME_GROUP: _l("Temagrupper"),
    BodyKind.WORKING_GROUP: _l("Arbejdsgrupper"),
    BodyKind.OBSERVER: _l("Orienteres"),
}


@dataclass(frozen=True)
class BodyPage:
    """What a body's page shows."""

    body: Body
    # The body it is placed under today, and those placed under it today (a plan applied
    # ahead of its date changes them from its effective date).
    parent: Body | None
    children: list[Body]
    members: list[Membership]
    cases: list[queries.CaseRow]
    meetings: list[Meeting]
    # The bodies that took over from this one (a closed body), and those it took over from.
    successors: list[Body]
    predecessors: list[Body]


def kind_label(kind: BodyKind | str) -> str:
    """Name a kind of body in the user's language."""
    return str(KIND_LABELS.get(BodyKind(kind), str(kind)))


def grouped_bodies(session: Session) -> list[tuple[str, list[Body]]]:
    """The active bodies by kind, in the organisation's order (political first)."""
    bodies = session.scalars(
        select(Body)
        .where(Body.active)
        .options(joinedload(Body.parent), selectinload(Body.former_parents))
        .order_by(Body.code)
    ).all()
    return [
        (kind_label(kind), [b for b in bodies if b.kind == kind])
        for kind in BodyKind
        if any(b.kind == kind for b in bodies)
    ]


def body_page(session: Session, body: Body, now: datetime) -> BodyPage:
    """Gather a body's members, its open cases (held or raised) and its coming meetings."""
    today = organisation.today()
    children = [
        child
        for child in session.scalars(
            select(Body)
            .where(Body.active, Body.id != body.id)
            .options(selectinload(Body.former_parents))
            .order_by(Body.code)
        )
        if child.parent_on(today) is body
    ]
    members = list(
        session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(Membership.body_id == body.id, Membership.active, User.active)
            .options(joinedload(Membership.user))
            .order_by(Membership.role, User.name)
        )
    )
    known = queries.definitions(session)
    held_or_raised = or_(Case.current_body_id == body.id, Case.originating_body_id == body.id)
    visible = policy.visible_cases(session, current_actor())
    cases = queries.case_rows(
        session,
        select(Case).where(held_or_raised, queries.open_case_condition(known), visible),
        known,
    )
    meetings = list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.body_id == body.id,
                Meeting.starts_at >= now,
                Meeting.status != MeetingStatus.CANCELLED,
            )
            .order_by(Meeting.starts_at)
            .limit(UPCOMING_MEETINGS)
        )
    )
    successors = [s.successor for s in organisation.successors(session, body)]
    predecessors = [s.predecessor for s in organisation.predecessors(session, body)]
    return BodyPage(
        body, body.parent_on(today), children, members, cases, meetings, successors, predecessors
    )


def closed_bodies(session: Session) -> list[Body]:
    """Bodies closed by a reorganisation: kept, with their cases and history."""
    return list(session.scalars(select(Body).where(Body.valid_to.is_not(None)).order_by(Body.code)))


@bp.get("")
@login_required
def index() -> str:
    """List the organisation's bodies by kind."""
    session = db()
    return render_template(
        "bodies/index.html",
        groups=grouped_bodies(session),
        closed=closed_bodies(session),
        today=organisation.today(),
    )


@bp.get("/<code>")
@login_required
def detail(code: str) -> str:
    """Show a body: members and roles, open cases, coming meetings, parent and children."""
    session = db()
    body = session.scalar(select(Body).where(Body.code == code).options(joinedload(Body.parent)))
    if body is None:
        abort(404)
    page = body_page(session, body, clock.now())
    return render_template("bodies/detail.html", page=page, kind=kind_label(body.kind))


@bp.route("/<code>/ad-hoc-gruppe", methods=["GET", "POST"])
@login_required
def new_ad_hoc_group(code: str) -> str | Response | tuple[str, int]:
    """A forum's chair sets up an ad hoc group under the forum (seed 000 l.68-69)."""
    session = db()
    forum = session.scalar(select(Body).where(Body.code == code))
    if forum is None:
        abort(404)
    user = current_actor()
    policy.require(user, "set_up_ad_hoc_group", forum, session)
    form = AdHocGroupForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            group = operations.set_up_ad_hoc_group(
                session, user, forum, name=form.name.data or "", ends_on=form.ends_on.data,
                task=form.task.data or "",
            )  # fmt: skip
        except operations.AdHocRefused as refused:
            form.ends_on.errors.append(pick(refused.message, refused.message_en))
        else:
            flash(_("Ad hoc-gruppen %(name)s er nedsat.", name=group.name), "success")
            return redirect(url_for("bodies.detail", code=group.code), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("bodies/ad_hoc_group.html", forum=forum, form=form), status
