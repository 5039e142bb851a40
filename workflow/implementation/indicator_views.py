"""Indicators and goals: the registry, each indicator's chart and values, the CSV import and
the links between initiatives and the indicators they aim to move."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from models import Case, Indicator, NationalGoal, Party, PartyKind
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.engine.errors import WorkflowError
from workflow.implementation import charts, indicators
from workflow.web import db
from workflow.web.fields import IdField, LineField, TextField

bp = Blueprint("indicators", __name__, url_prefix="/indikatorer")
MAX_UPLOAD_BYTES = 5_000_000


class ImportForm(FlaskForm):  # type: ignore[misc]
    """A CSV file of yearly values."""

    file = FileField(_l("CSV-fil"), validators=[FileRequired(_l("Vælg en CSV-fil."))])


class LinkForm(FlaskForm):  # type: ignore[misc]
    """Link an initiative (by case number) to the indicator, or remove the link."""

    case_id = IdField(_l("Sag nr."), validators=[InputRequired(_l("Skriv sagens nummer."))])
    action = SelectField(
        _l("Handling"),
        choices=[SelectChoice("link", _l("Knyt til")), SelectChoice("unlink", _l("Fjern fra"))],
    )


class IndicatorForm(FlaskForm):  # type: ignore[misc]
    """An indicator of the registry: what it is, where its data come from, which way is good."""

    code = LineField(
        _l("Kode"),
        validators=[
            InputRequired(_l("Giv indikatoren en kode.")),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Brug kun bogstaver a-z, tal, - og _.")),
        ],
        description=_l("Kort og fast, fx GENIND. Bruges i CSV-filerne."),
    )
    name = LineField(
        _l("Navn"), validators=[InputRequired(_l("Giv indikatoren et navn.")), Length(max=300)]
    )
    definition = TextField(_l("Definition"))
    data_source = LineField(_l("Datakilde"), validators=[Length(max=300)])
    direction = SelectField(
        _l("Ønsket retning"),
        choices=[SelectChoice(d.value, label) for d, label in indicators.DIRECTION_LABELS.items()],
    )
    unit = LineField(_l("Enhed"), validators=[Length(max=32)])
    national_goal = SelectField(_l("Nationalt mål"), coerce=str, validators=[Optional()])


class CaseLinkForm(FlaskForm):  # type: ignore[misc]
    """Link an indicator to the case, or remove the link (from the case's implementation page)."""

    indicator = SelectField(_l("Indikator"), validators=[InputRequired()])
    action = SelectField(
        _l("Handling"),
        choices=[SelectChoice("link", _l("Knyt til")), SelectChoice("unlink", _l("Fjern fra"))],
    )


@bp.get("")
@login_required
def index() -> str:
    """The registry of indicators and the national quality goals."""
    session = db()
    rows = session.scalars(select(Indicator).order_by(Indicator.code)).all()
    from models import case_indicators

    # Not dict(result): a Result has keys() (its columns), so dict() would read it as a mapping.
    linked = {
        indicator_id: count
        for indicator_id, count in session.execute(
            select(case_indicators.c.indicator_id, func.count())
            .join(Case, Case.id == case_indicators.c.case_id)
            .where(policy.visible_cases(session, current_actor()))
            .group_by(case_indicators.c.indicator_id)
        ).tuples()
    }
    return render_template(
        "indicators/index.html",
        indicators=rows,
        linked=linked,
        goals=session.scalars(select(NationalGoal).order_by(NationalGoal.number)).all(),
        directions=indicators.DIRECTION_LABELS,
        can_import=policy.may(current_actor(), "keep_indicators"),
    )


def _indicator_or_404(code: str) -> Indicator:
    indicator = db().scalar(select(Indicator).where(Indicator.code == code.upper()))
    if indicator is None:
        abort(404)
    return indicator


@bp.get("/<code>")
@login_required
def detail(code: str) -> str:
    """An indicator over time: a chart, the same values as a table, the initiatives."""
    return _render_detail(_indicator_or_404(code), LinkForm())


def _render_detail(indicator: Indicator, form: LinkForm) -> str:
    session = db()
    municipalities = session.scalars(
        select(Party).where(Party.kind == PartyKind.MUNICIPALITY).order_by(Party.name)
    ).all()
    compare = request.args.get("kommune", "")
    region = session.scalar(select(Party.code).where(Party.kind == PartyKind.REGION))
    codes = [code for code in (region, compare) if code]
    series = indicators.series_for(session, indicator, codes)
    all_series = indicators.series_for(session, indicator)
    years = sorted({year for s in all_series for year, _v in s.points})
    direction = indicators.DIRECTION_LABELS[indicator.direction]
    chart = charts.line_chart(
        "graf",
        _("%(name)s over tid", name=indicator.name),
        _(
            "Linjediagram over årene %(years)s for %(areas)s. %(direction)s. Tabellen under "
            "diagrammet har alle værdierne.",
            years=", ".join(str(y) for y in years) or "-",
            areas=", ".join(s.party.name for s in series) or "-",
            direction=direction,
        ),
        [charts.ChartSeries(s.party.name, s.points) for s in series],
        unit=indicator.unit,
    )
    table = [(s.party, {year: value for year, value in s.points}) for s in all_series]
    return render_template(
        "indicators/detail.html",
        indicator=indicator,
        chart=chart,
        years=years,
        table=table,
        municipalities=municipalities,
        compare=compare,
        direction=direction,
        cases=indicators.linked_cases(
            session, indicator, policy.visible_cases(session, current_actor())
        ),
        form=form,
        can_edit=policy.may(current_actor(), "keep_indicators"),
    )


@bp.post("/<code>/sager")
@login_required
def link(code: str) -> Response | tuple[str, int]:
    """Link or unlink an initiative, audited on the case."""
    indicator = _indicator_or_404(code)
    form = LinkForm()
    if not form.validate_on_submit():
        return _render_detail(indicator, form), 400
    case = db().get(Case, form.case_id.data)
    if case is None:
        form.case_id.errors = [_("Der er ingen sag nr. %(id)s.", id=form.case_id.data)]
        return _render_detail(indicator, form), 400
    try:
        changed = indicators.set_link(
            db(), case, indicator, current_actor(), form.action.data == "link"
        )
    except WorkflowError as exc:
        flash(exc.message, "error")
    else:
        if changed:
            flash(_("Sagen '%(title)s' er opdateret.", title=case.title), "success")
        else:
            flash(_("Intet ændret."), "info")
    return redirect(url_for("indicators.detail", code=indicator.code))


@bp.route("/indlaes", methods=["GET", "POST"])
@login_required
def import_values() -> Response | tuple[str, int] | str:
    """Upload a CSV of yearly values; all rows are imported or none, bad rows are named."""
    policy.require(current_actor(), "keep_indicators")
    form = ImportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        raw = form.file.data.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            errors = [_("Filen er for stor (højst 5 MB). Del den op, og indlæs delene.")]
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("cp1252")
            try:
                result = indicators.import_csv(db(), text, current_actor())
            except indicators.IndicatorImportError as exc:
                errors = [str(e) for e in exc.errors]
            else:
                flash(result.summary(), "success")
                return redirect(url_for("indicators.index"))
    status = 400 if request.method == "POST" else 200
    html = render_template("indicators/import.html", form=form, errors=errors)
    return (html, status) if status != 200 else html


def _goal_choices() -> list[tuple[str, str]]:
    goals = db().scalars(select(NationalGoal).order_by(NationalGoal.number))
    return [("", _("Intet"))] + [(str(g.number), f"{g.number}. {g.name}") for g in goals]


def _edit(indicator: Indicator | None) -> Response | tuple[str, int] | str:
    """Show the indicator form; save through the indicators module, which audits the change."""
    policy.require(current_actor(), "keep_indicators")
    data = None
    if indicator is not None and request.method == "GET":
        data = {
            "code": indicator.code, "name": indicator.name, "definition": indicator.definition,
            "data_source": indicator.data_source, "direction": indicator.direction.value,
            "unit": indicator.unit,
            "national_goal": str(indicator.national_goal.number) if indicator.national_goal else "",
        }  # fmt: skip
    form = IndicatorForm(data=data)
    form.national_goal.choices = _goal_choices()
    if indicator is not None:
        form.code.render_kw = {"readonly": True}
    problems: list[str] = []
    if form.validate_on_submit():
        goal = int(form.national_goal.data) if form.national_goal.data else None
        values = {
            "name": form.name.data or "", "direction": form.direction.data,
            "definition": form.definition.data or "", "data_source": form.data_source.data or "",
            "unit": form.unit.data or "", "national_goal_number": goal, "actor": current_actor(),
        }  # fmt: skip
        try:
            if indicator is None:
                saved = indicators.create_indicator(db(), code=form.code.data, **values)
            else:
                saved = indicators.define_indicator(db(), code=indicator.code, **values)
        except WorkflowError as exc:
            problems = [exc.message]
        else:
            flash(_("Indikatoren %(code)s er gemt.", code=saved.code), "success")
            return redirect(url_for("indicators.detail", code=saved.code))
    status = 400 if request.method == "POST" else 200
    html = render_template(
        "indicators/form.html", form=form, indicator=indicator, problems=problems
    )
    return (html, status) if status != 200 else html


@bp.route("/ny", methods=["GET", "POST"])
@login_required
def create() -> Response | tuple[str, int] | str:
    """Add an indicator to the registry (admins and the secretariats of TSS and SKU)."""
    return _edit(None)


@bp.route("/<code>/ret", methods=["GET", "POST"])
@login_required
def edit(code: str) -> Response | tuple[str, int] | str:
    """Change an indicator's name, definition, data source or desired direction."""
    return _edit(_indicator_or_404(code))


def case_link_form(case: Case) -> CaseLinkForm:
    """The form on a case's implementation page that links its indicators."""
    form = CaseLinkForm()
    # A required select starts with an empty choice: nothing is linked by an unnoticed default.
    form.indicator.choices = [("", _("Vælg"))] + [
        (i.code, f"{i.code} – {i.name}")
        for i in db().scalars(
            select(Indicator).where(Indicator.active.is_(True)).order_by(Indicator.code)
        )
    ]
    return form


@bp.post("/sag/<int:case_id>")
@login_required
def link_case(case_id: int) -> Response:
    """Link or unlink an indicator from the case's implementation page, audited on the case."""
    case = db().get(Case, case_id)
    if case is None:
        abort(404)
    form = case_link_form(case)
    if not form.validate_on_submit():
        flash(_("Vælg en indikator."), "error")
    else:
        indicator = _indicator_or_404(form.indicator.data)
        try:
            changed = indicators.set_link(
                db(), case, indicator, current_actor(), form.action.data == "link"
            )
        except WorkflowError as exc:
            flash(exc.message, "error")
        else:
            if changed:
                flash(_("Indikatorerne for sagen er opdateret."), "success")
            else:
                flash(_("Intet ændret."), "info")
    return redirect(url_for("implementation.case_units", case_id=case.id) + "#indikatorer")
