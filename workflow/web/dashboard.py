"""The front page: the user's bodies and roles, and the cases waiting for them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote as url_quote

from flask import Blueprint, current_app, render_template, url_for
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement

from models import Body, BodyKind, Membership, Notification, User
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import queries
from workflow.consultations import operations as consultations
from workflow.engine import clock, formats
from workflow.implementation import charts
from workflow.implementation import picture as implementation_picture
from workflow.meetings import material_watch
from workflow.notifications import delivery as notify
from workflow.notifications import observers
from workflow.web import db, filters
from workflow.web.i18n import _, current_locale, ngettext

bp = Blueprint("dashboard", __name__)

FAILED_DELIVERIES_LIMIT = 50
INFORMED_LIMIT = 20


@dataclass(frozen=True)
class ObserverBoard:
    """An observer's front page: what their bodies were informed of and the implementation
    picture."""

    bodies: list[str]
    informed: list[observers.InformedDecision]
    picture: implementation_picture.Picture


def observer_board(
    user: User, visible: ColumnElement[bool], memberships: list[Membership]
) -> ObserverBoard | None:
    """The observer section for a member of KKR, KKU or another observer body (of the user's
    active `memberships` of active bodies); None for others (their dashboard has its own
    sections)."""
    session = db()
    codes = sorted({m.body.code for m in memberships if m.body.kind == BodyKind.OBSERVER})
    if not codes or not policy.may(user, "read_informed", None, session):
        return None
    return ObserverBoard(
        codes,
        observers.approved_by_sku(session, user, bodies=codes, limit=INFORMED_LIMIT),
        implementation_picture.picture(session, visible),
    )


def failed_deliveries(
    user: User, visible: ColumnElement[bool], bodies_read: list[Body]
) -> list[Notification] | None:
    """The mails given up on that `user` may see, newest first; None when they may see none.

    An admin, who may send them again, sees every one; a secretariat those to its bodies'
    members or about their cases (`bodies_read`: the user's active bodies)."""
    session = db()
    if policy.may(user, "retry_delivery", None, session):
        return notify.failed_notifications(
            session, None, limit=FAILED_DELIVERIES_LIMIT, visible=visible
        )
    bodies = policy.bodies_where(session, user, "see_failed_deliveries", bodies_read)
    if not bodies:
        return None
    return notify.failed_notifications(
        session, [b.id for b in bodies], limit=FAILED_DELIVERIES_LIMIT, visible=visible
    )


def warning_days() -> int:
    """How many days ahead of a materialefrist cases are flagged (app config or default)."""
    return int(current_app.config.get("MATERIAL_WARNING_DAYS", material_watch.DEFAULT_WARNING_DAYS))


def material_warnings(
    user: User, visible: ColumnElement[bool], bodies_read: list[Body]
) -> list[material_watch.MaterialWarning]:
    """The cases whose materialefrist is near, of the bodies whose material the user watches
    (`bodies_read`: the user's active bodies)."""
    session = db()
    bodies = policy.bodies_where(session, user, "watch_material", bodies_read)
    return material_watch.material_warnings(
        session, [b.id for b in bodies], visible, clock.now(), warning_days()
    )


class _RowWords:
    """What every row of a table of cases says alike, worked out once for the table: a case
    page's address less its number (`url_for` costs about 40 calls), the word "nr." and each
    moment spelt in the reader's language (a board's rows share a few)."""

    def __init__(self) -> None:
        self.address = str(escape(url_for("cases.detail", case_id=1)[: -len("1")]))
        self.number = str(escape(_("nr.")))
        self.locale = current_locale()
        self.spelt: dict[datetime, str] = {}

    def moment(self, moment: datetime) -> str:
        if moment not in self.spelt:
            self.spelt[moment] = str(escape(formats.format_datetime(moment, self.locale)))
        return self.spelt[moment]


def _case_cell(indent: str, words: _RowWords, case_id: int, title: str) -> str:
    # The first cell of a deadline table's row: the case linked to its page, and its number.
    return (
        f'{indent}<td><a href="{words.address}{case_id}">{title}</a> <span class="muted">'
        f"({words.number} {case_id})</span></td>\n"
    )


@bp.app_template_global("decision_rows")
def decision_rows(items: Iterable[queries.DecisionRow]) -> Markup:
    """The `<tr>`s of the cases awaiting the chair's decision: the case linked to its page, its
    number and body, state, the body that raised it, its next deadline and the decision's
    form. Written here, each text escaped once, the words and a case page's address worked
    out once (drawn by Jinja, each row's two addresses and dozen look-ups cost more than the
    rest of the section)."""
    words = _RowWords()
    moment, address = words.moment, words.address
    no_deadline = f'<span class="muted">{escape(_("Ingen åben frist"))}</span>'
    out: list[str] = []
    for item in items:
        row = item.row
        case_id = row.id
        title = escape(row.title)
        trigger = escape(url_quote(item.trigger, safe=""))
        due = row.next_deadline
        out.append(
            "\n      <tr>\n"
            f'        <td><a href="{address}{case_id}">{title}</a> <span class="muted">'
            f"({words.number} {case_id}, {escape(row.body_code)})</span></td>\n"
            f"        <td>{escape(row.state_label)}</td>\n"
            f'        <td><abbr title="{escape(row.origin_name)}">{escape(row.origin_code)}</abbr>'
            "</td>\n"
            f"        <td>{moment(due) if due else no_deadline}</td>\n"
            f'        <td><a class="button-link" href="{address}{case_id}?handling={trigger}'
            f'#handling-{escape(item.trigger)}">{escape(item.trigger_label)}'
            f'<span class="visually-hidden">: {title}</span></a></td>\n'
            "      </tr>"
        )
    return Markup("".join(out))  # every text above is escaped


@bp.app_template_global("overdue_rows")
def overdue_rows(items: Iterable[queries.OverdueRow]) -> Markup:
    """The `<tr>`s of the secretariat's overdue deadlines: the case linked to its page and its
    number, its state, the deadline and how many days it is overdue. Written here as
    `decision_rows` (a Jinja loop with an address a row cost a tenth of the page)."""
    words = _RowWords()
    moment = words.moment
    today = escape(_("I dag"))
    out: list[str] = []
    for row in items:
        days = row.days_overdue
        overdue = today if days == 0 else escape(ngettext("%(num)d dag", "%(num)d dage", days))
        out.append(
            "\n      <tr>\n"
            + _case_cell(" " * 8, words, row.case.id, escape(row.case.title))
            + f"        <td>{escape(row.state_label)}</td>\n"
            f"        <td>{moment(row.deadline.due_at)}</td>\n"
            f'        <td class="overdue">{overdue}</td>\n'
            "      </tr>"
        )
    return Markup("".join(out))  # every text above is escaped


@bp.app_template_global("deadline_rows")
def deadline_rows(items: Iterable[queries.DeadlineRow]) -> Markup:
    """The `<tr>`s of a table of deadlines (due this week, later, a meeting's material): the
    case linked to its page and its number, its state, the kind of deadline and when it is
    due. Written here as `decision_rows`."""
    words = _RowWords()
    moment = words.moment
    kinds: dict[str, str] = {}
    out: list[str] = []
    for row in items:
        kind = row.deadline.kind
        if kind not in kinds:
            kinds[kind] = str(escape(filters.deadline_kind_label(kind)))
        out.append(
            "\n    <tr>\n"
            + _case_cell(" " * 6, words, row.case.id, escape(row.case.title))
            + f"      <td>{escape(row.state_label)}</td>\n"
            f"      <td>{kinds[kind]}</td>\n"
            f"      <td>{moment(row.deadline.due_at)}</td>\n"
            "    </tr>"
        )
    return Markup("".join(out))  # every text above is escaped


@bp.app_template_global("more_line")
def more_line(
    section: queries.Section[Any], key: str, name: str, deadlines: bool = False
) -> Markup:
    """Under a section that shows only its first rows: how many there are, and the case list
    filtered to the section (`afsnit`, `key`), named (`name`) for screen readers too. Written
    here, not by a Jinja macro (about 240 calls each, up to five a page)."""
    if not section.more:
        return Markup("")
    total = filters.number(section.total)
    shown = len(section)
    over = section.more_than_cap
    if deadlines:
        said = (
            _("Viser de %(shown)s første af over %(total)s frister.", shown=shown, total=total)
            if over
            else _("Viser de %(shown)s første af %(total)s frister.", shown=shown, total=total)
        )
        link = _("Se alle sagerne")
    else:
        said = (
            _("Viser de %(shown)s første af over %(total)s.", shown=shown, total=total)
            if over
            else _("Viser de %(shown)s første af %(total)s.", shown=shown, total=total)
        )
        link = (
            _("Se alle (over %(total)s)", total=total)
            if over
            else _("Se alle (%(total)s)", total=total)
        )
    address = escape(url_for("cases.index", afsnit=key, sortering="frist"))
    return Markup(
        f'<p class="section-more">\n{escape(said)}  <a href="{address}">{escape(link)}'
        f'<span class="visually-hidden">: {escape(name)}</span></a>\n</p>\n'
    )  # every text above is escaped


@bp.get("/")
@login_required
def index() -> str:
    """Show the dashboard sections that fit the user's roles."""
    user = current_actor()
    visible = policy.visible_cases(db(), user)
    # The sections' statements (and the material warnings') are kept per reader: the rule
    # with the user's bodies written.
    written_visible = policy.visible_cases(db(), user, bodies_written=True)
    overview = queries.dashboard(db(), user, clock.now(), written_visible)
    # The bodies of the user's memberships, read for the page: the rules that grant a role on
    # a body are answered from them.
    bodies = list({m.body_id: m.body for m in overview.memberships}.values())
    return render_template(
        "dashboard/index.html",
        overview=overview,
        material_warnings=material_warnings(user, written_visible, bodies),
        failed_deliveries=failed_deliveries(user, visible, bodies),
        observer=observer_board(user, visible, overview.memberships),
        awaited_answers=consultations.awaited_answers(db(), user),
        party=user.party,
        status_legend=charts.status_legend,
    )
