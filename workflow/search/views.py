"""The search page: one box over cases, minutes, answers and attachments, with the case list's
filters, the year and the kind of hit."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from workflow.auth.login import current_actor, login_required
from workflow.cases import choices
from workflow.cases.views import parse_case_filter
from workflow.engine import clock, values
from workflow.engine.processes import registry
from workflow.search import queries
from workflow.search.index import KINDS
from workflow.web import db

bp = Blueprint("search", __name__, url_prefix="/soeg")

KIND_LABELS = {
    "case": _l("Sag"),
    "event": _l("Kommentar eller beslutning"),
    "item": _l("Dagsordenspunkt"),
    "follow_up": _l("Opfølgningspunkt"),
    "consultation": _l("Høring"),
    "answer": _l("Høringssvar"),
    "attachment": _l("Bilag"),
}
FIRST_YEAR = 2015


def _year(args: MultiDict[str, str]) -> int | None:
    text = args.get("aar", "").strip()
    if not text.isdigit() or not text.isascii():
        return None
    year = int(text)
    return year if FIRST_YEAR <= year <= clock.now().year + 1 else None


def parse_search(args: MultiDict[str, str]) -> tuple[queries.SearchFilter, dict[str, str]]:
    """The search and its filters from the query string; unknown values are left out."""
    parsed = parse_case_filter(db(), args)
    criteria = parsed.criteria
    kind = args.get("type", "")
    kind = kind if kind in KINDS else ""
    year = _year(args)
    page = values.parse_id(args.get("side", "1")) or 1
    search = queries.SearchFilter(
        text=args.get("q", "").strip()[:200],
        process=criteria.process,
        state=criteria.state,
        body_id=criteria.body_id,
        focus_area_id=criteria.focus_area_id,
        national_goal_id=criteria.national_goal_id,
        year=year,
        kind=kind,
        page=min(page, queries.MAX_PAGE),
    )
    selected = {
        **{k: parsed.selected[k] for k in ("proces", "tilstand", "organ", "fokus", "maal")},
        "q": search.text,
        "aar": str(year or ""),
        "type": kind,
    }
    return search, selected


@bp.get("")
@login_required
def index() -> str:
    """Search what the user may see; the hits ranked, marked and paged."""
    session = db()
    search, selected = parse_search(request.args)
    results = queries.search(session, current_actor(), search) if search.text else None
    processes = registry.all_latest(session)
    return render_template(
        "search/index.html",
        results=results,
        selected=selected,
        args={k: v for k, v in selected.items() if v},
        choices=choices.filter_choices(session, processes, selected, search.process),
        years=list(range(clock.now().year, FIRST_YEAR - 1, -1)),
        kinds=KINDS,
        kind_labels=KIND_LABELS,
    )
