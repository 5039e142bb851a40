"""The front page: the user's bodies and roles, and the cases waiting for them."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import ColumnElement

from models import Notification, User
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import queries
from workflow.engine import clock
from workflow.notifications import delivery as notify
from workflow.web import db

bp = Blueprint("dashboard", __name__)

FAILED_DELIVERIES_LIMIT = 50


def failed_deliveries(user: User, visible: ColumnElement[bool]) -> list[Notification] | None:
    """The mails given up on that `user` may see, newest first; None when they may see none.

    An admin, who may send them again, sees every one; a secretariat those to its bodies'
    members or about their cases."""
    session = db()
    if policy.may(user, "retry_delivery", None, session):
        return notify.failed_notifications(
            session, None, limit=FAILED_DELIVERIES_LIMIT, visible=visible
        )
    bodies = policy.bodies_where(session, user, "see_failed_deliveries")
    if not bodies:
        return None
    return notify.failed_notifications(
        session, [b.id for b in bodies], limit=FAILED_DELIVERIES_LIMIT, visible=visible
    )


@bp.get("/")
@login_required
def index() -> str:
    """Show the dashboard sections that fit the user's roles."""
    user = current_actor()
    visible = policy.visible_cases(db(), user)
    overview = queries.dashboard(db(), user, clock.now(), visible)
    return render_template(
        "dashboard/index.html",
        overview=overview,
        failed_deliveries=failed_deliveries(user, visible),
    )
