"""The front page: the user's bodies and roles, and the cases waiting for them."""

from __future__ import annotations

from flask import Blueprint, render_template

from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import queries
from workflow.engine import clock
from workflow.web import db

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index() -> str:
    """Show the dashboard sections that fit the user's roles."""
    user = current_actor()
    overview = queries.dashboard(db(), user, clock.now(), policy.visible_cases(db(), user))
    return render_template("dashboard/index.html", overview=overview)
