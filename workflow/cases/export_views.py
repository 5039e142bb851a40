"""CSV export of the case list's current filter, readable by Excel (semicolons, UTF-8 BOM);
user text that a spreadsheet would run as a formula is neutralised (workflow.spreadsheets)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, request

from workflow import policy, spreadsheets
from workflow.auth.login import current_actor, login_required
from workflow.cases import queries
from workflow.cases.views import parse_case_filter
from workflow.engine import clock
from workflow.web import db
from workflow.web.i18n import _, format_date, format_datetime

bp = Blueprint("export", __name__, url_prefix="/sager")


def headers() -> list[str]:
    """The export's column headings."""
    return [
        _("Nr."), _("Titel"), _("Proces"), _("Tilstand"), _("Rejst af"), _("Behandles i"),
        _("Fokusområde"), _("Nationale mål"), _("Næste frist"), _("Oprettet"),
        _("Senest ændret"), _("ESDH-sagsnummer"), _("Resumé"),
    ]  # fmt: skip


def rows(found: list[queries.CaseRow]) -> Iterator[list[spreadsheets.Value]]:
    """One line per case, in the columns of `headers()`."""
    for row in found:
        case = row.case
        yield [
            case.id,
            case.title,
            row.process_title,
            row.state_label,
            case.originating_body.code,
            case.current_body.code,
            case.focus_area.name if case.focus_area else "",
            ", ".join(str(g.number) for g in case.national_goals),
            format_datetime(row.next_deadline) if row.next_deadline else "",
            format_date(case.created_at),
            format_date(case.updated_at),
            case.esdh_case_number or "",
            case.summary,
        ]


def to_csv(found: list[queries.CaseRow]) -> str:
    """The cases as CSV text with a BOM, ';'-separated, CRLF line ends."""
    return spreadsheets.to_csv([headers(), *rows(found)])


@bp.get("/eksport.csv")
@login_required
def export() -> Response:
    """Download the cases the list's filters select, all pages."""
    session = db()
    now = clock.now()
    user = current_actor()
    criteria = parse_case_filter(session, request.args, user).criteria
    visible = policy.visible_cases(session, user)
    text = to_csv(queries.export_cases(session, criteria, now, visible))
    filename = f"sager-{now:%Y-%m-%d}.csv"
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )
