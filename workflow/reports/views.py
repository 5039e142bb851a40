"""Reports: each one filterable, printable and exported as CSV and XLSX; SKU's yearly
follow-up as a workbook; and the annual cycle (årshjul) as a calendar for all bodies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (
    IntegerField,
    SelectMultipleField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from models import Body, Case, Indicator, PlanItem
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.calendar import local_date
from workflow.engine.errors import GuardFailed, NotAllowed, WorkflowError
from workflow.engine.paths import resource_dir
from workflow.engine.processes import registry
from workflow.implementation import annual_cycle
from workflow.reports import queries as reports
from workflow.reports.queries import N_
from workflow.web import db
from workflow.web.fields import AmountField, DayField, IdField, LineField, TextField
from workflow.web.i18n import label as label_of
from workflow.web.i18n import month_name

bp = Blueprint(
    "reports",
    __name__,
    url_prefix="/rapporter",
    static_folder=str(resource_dir("templates") / "reports" / "static"),
    static_url_path="/static",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class PlanForm(FlaskForm):  # type: ignore[misc]
    """Open the implementation plan for a year."""

    year = IntegerField("År", validators=[InputRequired(), NumberRange(min=2000, max=2100)])


class PlanItemForm(FlaskForm):  # type: ignore[misc]
    """A line of the implementation plan (seed 004 §1.2.2)."""

    title = LineField(
        _l("Indsats"), validators=[InputRequired(_l("Skriv indsatsens titel.")), Length(max=300)]
    )
    purpose = TextField(_l("Formål"), validators=[InputRequired(_l("Beskriv indsatsens formål."))])
    anchoring = TextField(_l("Organisatorisk forankring"))
    responsible_start = TextField(_l("Ansvar for igangsættelse"))
    responsible_delivery = TextField(_l("Ansvar for gennemførelse"))
    starts_on = DayField(_l("Start"), validators=[Optional()])
    ends_on = DayField(_l("Slut"), validators=[Optional()])
    economy = TextField(_l("Økonomi"))
    economy_dkk = AmountField(
        _l("Økonomi (kr.)"),
        validators=[Optional()],
        description=_l("Et beløb i hele kroner, fx 250000. Tom: intet beløb."),
    )
    initiative_case_id = IdField(
        _l("Sag nr. (indsatsen i Aftaleflow)"),
        validators=[Optional()],
        description=_l("Tom, hvis indsatsen ikke er en sag i Aftaleflow."),
    )
    indicator_ids = SelectMultipleField(_l("Indikatorer, indsatsen skal påvirke"), coerce=int)

    def line(self) -> annual_cycle.PlanLine:
        """The submitted line."""
        return annual_cycle.PlanLine(
            title=self.title.data or "", purpose=self.purpose.data or "",
            anchoring=self.anchoring.data or "",
            responsible_start=self.responsible_start.data or "",
            responsible_delivery=self.responsible_delivery.data or "",
            starts_on=self.starts_on.data, ends_on=self.ends_on.data,
            economy=self.economy.data or "", economy_dkk=self.economy_dkk.data,
            initiative_case_id=self.initiative_case_id.data,
            indicator_ids=tuple(self.indicator_ids.data or ()),
        )  # fmt: skip


def _parse_filters() -> tuple[reports.Filters, list[str]]:
    """Read the period, process and body from the query string; say what could not be read."""
    problems: list[str] = []
    dates: dict[str, date | None] = {}
    for key, label in (("fra", _("Fra-datoen")), ("til", _("Til-datoen"))):
        raw = request.args.get(key, "").strip()
        dates[key] = None
        if raw:
            try:
                dates[key] = date.fromisoformat(raw)
            except ValueError:
                problems.append(
                    _("%(label)s '%(raw)s' er ikke en dato; skriv den som ÅÅÅÅ-MM-DD.",
                      label=label, raw=raw)
                )  # fmt: skip
    start, end = dates["fra"], dates["til"]
    if start and end and end < start:
        problems.append(_("Til-datoen ligger før fra-datoen; perioden er vendt om."))
        start, end = end, start
    session = db()
    process = request.args.get("proces", "")
    if process and process not in registry.names(session):
        problems.append(_("Processen '%(name)s' findes ikke.", name=process))
        process = ""
    organ = request.args.get("organ", "")
    if organ and session.scalar(select(Body.id).where(Body.code == organ)) is None:
        problems.append(_("Organet '%(code)s' findes ikke.", code=organ))
        organ = ""
    filters = reports.Filters(start, end, process or None, organ or None, _seen().visible)
    return filters, problems


def _seen() -> reports.Filters:
    """No limit but the access policy's: the cases the current user may see."""
    return reports.Filters(visible=policy.visible_cases(db(), current_actor()))


def _query(filters: reports.Filters) -> dict[str, str]:
    return {
        k: v
        for k, v in {
            "fra": filters.start.isoformat() if filters.start else "",
            "til": filters.end.isoformat() if filters.end else "",
            "proces": filters.process or "",
            "organ": filters.body or "",
        }.items()
        if v
    }


def _build(key: str) -> tuple[reports.Report, list[str]]:
    build = reports.REPORTS.get(key)
    if build is None:
        abort(404)
    filters, problems = _parse_filters()
    return build(db(), filters), problems


@bp.get("")
@login_required
def index() -> str:
    """List the reports and the yearly documents."""
    return render_template(
        "reports/index.html",
        reports=REPORT_TITLES,
        year=local_date(clock.now()).year,
    )


REPORT_TITLES = {
    "status-organ": N_("Status pr. organ"),
    "status-fokusomraade": N_("Status pr. fokusområde"),
    "overskredne": N_("Overskredne frister"),
    "beslutninger": N_("Beslutninger i SKU og TSS"),
    "implementering": N_("Implementering og udbredelse"),
    "gennemloebstid": N_("Gennemløbstid fra indstilling til SKU's beslutning"),
    "ventetid": N_("Tid i hver tilstand pr. organ"),
}


# Rows a report's page shows at a time: a reader pages on; CSV and XLSX hold every row (the
# decisions over every case are 240,000 rows at 100,000 cases).
ROWS_PER_PAGE = 500


@dataclass(frozen=True)
class RowPage:
    """The rows of a report one page shows: `rows[first - 1:last]`, page `number` of `pages`."""

    number: int
    pages: int
    first: int
    last: int
    total: int


def _row_page(total: int) -> RowPage:
    """The page of rows the query string asks for (`side`), within the report's pages."""
    pages = max(1, -(-total // ROWS_PER_PAGE))
    number = min(max(request.args.get("side", 1, type=int) or 1, 1), pages)
    first = (number - 1) * ROWS_PER_PAGE + 1
    return RowPage(number, pages, min(first, total), min(number * ROWS_PER_PAGE, total), total)


@bp.get("/<key>")
@login_required
def show(key: str) -> str:
    """One report as a filterable, printable table, a page of rows at a time."""
    paged = reports.PAGED.get(key)
    session = db()
    if paged is None:
        report, problems = _build(key)
        page = _row_page(len(report.rows))
        rows = report.rows[page.first - 1 : page.last]
    else:
        # Read only the page's rows: the decisions over every case are 240,000 rows.
        filters, problems = _parse_filters()
        page = _row_page(paged.count(session, filters))
        report = paged.window(session, filters, (max(page.first - 1, 0), ROWS_PER_PAGE))
        rows = report.rows
    return render_template(
        "reports/report.html",
        report=report,
        problems=problems,
        rows=rows,
        page=page,
        query=_query(report.filters),
        processes=registry.all_latest(session),
        bodies=session.scalars(select(Body).where(Body.active.is_(True)).order_by(Body.code)).all(),
        totals=report.totals(),
    )


@bp.get("/<key>/csv")
@login_required
def export_csv(key: str) -> Response:
    """The report as CSV for Excel."""
    report, _problems = _build(key)
    return Response(
        reports.to_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{report.key}.csv"'},
    )


@bp.get("/<key>/xlsx")
@login_required
def export_xlsx(key: str) -> Response:
    """The report as an XLSX workbook."""
    report, _problems = _build(key)
    return Response(
        reports.to_xlsx([report], title=report.title),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{report.key}.xlsx"'},
    )


def _follow_up_year() -> int:
    year = request.args.get("aar", type=int) or local_date(clock.now()).year
    if not 2000 <= year <= 2100:
        abort(404)
    return year


@bp.get("/aarsopfoelgning/docx")
@login_required
def yearly_follow_up_docx() -> Response:
    """SKU's yearly follow-up as a Word document with the same figures as the workbook."""
    year = _follow_up_year()
    tables = reports.yearly_follow_up(db(), year, _seen())
    from workflow.reports import documents  # the Word library only when asked (cold start)

    return Response(
        documents.to_docx(tables, reports.follow_up_title(year)),
        mimetype=DOCX,
        headers={"Content-Disposition": f'attachment; filename="aarsopfoelgning-{year}.docx"'},
    )


@bp.get("/aarsopfoelgning/pdf")
@login_required
def yearly_follow_up_pdf() -> Response:
    """SKU's yearly follow-up as tagged PDF with the same figures as the workbook."""
    year = _follow_up_year()
    tables = reports.yearly_follow_up(db(), year, _seen())
    from workflow.reports import documents  # the Word library only when asked (cold start)

    return Response(
        documents.to_pdf(tables, reports.follow_up_title(year)),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="aarsopfoelgning-{year}.pdf"'},
    )


@bp.get("/aarsopfoelgning")
@login_required
def yearly_follow_up() -> Response:
    """SKU's yearly follow-up as one workbook: plan, spread, indicators, decisions, delays."""
    year = _follow_up_year()
    return Response(
        reports.yearly_follow_up_xlsx(db(), year, _seen()),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="aarsopfoelgning-{year}.xlsx"'},
    )


@bp.get("/aarshjul")
@login_required
def annual_cycle_view() -> str:
    """The year's cycle for all bodies: meetings, material deadlines and plan milestones."""
    session = db()
    year = request.args.get("aar", type=int) or local_date(clock.now()).year
    if not 2000 <= year <= 2100:
        abort(404)
    organ = request.args.get("organ", "")
    entries = annual_cycle.year_calendar(session, year, [organ] if organ else ())
    months: list[tuple[str, list[annual_cycle.CalendarEntry]]] = [
        (month_name(m), [e for e in entries if e.day.month == m]) for m in range(1, 13)
    ]
    plan = annual_cycle.plan_case(session, year)
    # The cases the entries name, linked only where the user may open them.
    named = {e.case_id for e in entries if e.case_id is not None}
    linked = set(
        session.scalars(
            select(Case.id).where(
                Case.id.in_(named), policy.visible_cases(session, current_actor())
            )
        )
    )
    return render_template(
        "reports/annual_cycle.html",
        year=year,
        months=months,
        organ=organ,
        bodies=session.scalars(select(Body).where(Body.active.is_(True)).order_by(Body.code)).all(),
        plan=plan,
        plan_items=annual_cycle.plan_items(session, plan) if plan else [],
        next_plan=annual_cycle.plan_case(session, year + 1),
        next_milestones=annual_cycle.milestones(session, year + 1),
        form=PlanForm(data={"year": year + 1}),
        linked_cases=linked,
    )


@bp.post("/aarshjul/plan")
@login_required
def create_plan() -> Response:
    """Open the implementation plan for a year in TSS."""
    form = PlanForm()
    if not form.validate_on_submit():
        flash(_("Angiv et år mellem 2000 og 2100."), "error")
        return redirect(url_for("reports.annual_cycle_view"))
    try:
        plan = annual_cycle.create_plan(db(), form.year.data, current_actor())
    except WorkflowError as exc:
        flash(exc.message, "error")
        return redirect(url_for("reports.annual_cycle_view", aar=form.year.data - 1))
    flash(_("Implementeringsplanen for %(year)d er oprettet.", year=form.year.data), "success")
    return redirect(url_for("cases.detail", case_id=plan.id))


def _plan_or_404(year: int) -> Case:
    plan = annual_cycle.plan_case(db(), year)
    if plan is None:
        abort(404)
    return plan


@bp.get("/plan/<int:year>")
@login_required
def plan(year: int) -> str:
    """The year's implementation plan: its lines, and links to add or change them."""
    session = db()
    plan_case = _plan_or_404(year)
    return render_template(
        "reports/plan.html",
        year=year,
        plan=plan_case,
        items=annual_cycle.plan_items(session, plan_case),
        editable=annual_cycle.is_editable(session, plan_case, current_actor()),
        locked=not annual_cycle.plan_lines_open(plan_case),
        state_label=label_of(engine.definition_of(plan_case).states[plan_case.state]),
    )


def _item_form(item: PlanItem | None) -> PlanItemForm:
    data = None
    if item is not None and request.method == "GET":
        data = {
            name: getattr(item, name)
            for name in annual_cycle.TEXT_FIELDS + annual_cycle.VALUE_FIELDS
        }
        data["indicator_ids"] = [i.id for i in item.indicators]
    form = PlanItemForm(data=data)
    form.indicator_ids.choices = [
        (i.id, f"{i.code} – {i.name}")
        for i in db().scalars(
            select(Indicator).where(Indicator.active.is_(True)).order_by(Indicator.code)
        )
    ]
    return form


def _edit_item(year: int, item: PlanItem | None) -> Response | tuple[str, int] | str:
    """Show the line form; save the line through annual_cycle, which checks and audits it."""
    session = db()
    plan_case = _plan_or_404(year)
    actor = current_actor()
    if request.method == "GET" and not annual_cycle.is_editable(session, plan_case, actor):
        if annual_cycle.plan_lines_open(plan_case):
            policy.require(actor, "edit_plan", None, session)
        flash(_("Planen er tiltrådt af SKU og kan ikke ændres."), "error")
        return redirect(url_for("reports.plan", year=year))
    form = _item_form(item)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            if item is None:
                saved = annual_cycle.add_plan_line(session, plan_case, actor, form.line())
                flash(_("Indsatsen '%(title)s' er føjet til planen.", title=saved.title), "success")
            else:
                changed = annual_cycle.update_plan_line(session, item, actor, form.line())
                if changed:
                    flash(_("Indsatsen '%(title)s' er gemt.", title=item.title), "success")
                else:
                    flash(_("Intet ændret."), "info")
        except NotAllowed:
            raise  # the refusal page names the rule (workflow.web.refusal)
        except GuardFailed as exc:
            problems = [f.message for f in exc.failures]
        except WorkflowError as exc:
            problems = [exc.message]
        else:
            return redirect(url_for("reports.plan", year=year))
    status = 400 if request.method == "POST" else 200
    html = render_template(
        "reports/plan_item.html", year=year, plan=plan_case, item=item, form=form,
        problems=problems,
    )  # fmt: skip
    return (html, status) if status != 200 else html


@bp.route("/plan/<int:year>/ny", methods=["GET", "POST"])
@login_required
def add_plan_item(year: int) -> Response | tuple[str, int] | str:
    """Add a line to the year's plan (until SKU adopts it)."""
    return _edit_item(year, None)


@bp.route("/plan/<int:year>/indsats/<int:item_id>", methods=["GET", "POST"])
@login_required
def edit_plan_item(year: int, item_id: int) -> Response | tuple[str, int] | str:
    """Change a line of the year's plan (until SKU adopts it)."""
    item = db().get(PlanItem, item_id)
    plan_case = _plan_or_404(year)
    if item is None or item.plan_case_id != plan_case.id:
        abort(404)
    return _edit_item(year, item)
