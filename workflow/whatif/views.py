"""The what-if page for administrators: choose the changes, see today against the draft.

Reads only: the replay fires no transition and writes nothing, so the form needs no unit of
work (its CSRF token still guards the POST that carries a draft definition).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from models import Body
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.engine import clock
from workflow.engine.processes import registry
from workflow.web import db
from workflow.web.i18n import _, current_locale, pick
from workflow.whatif import queries
from workflow.whatif.chart import paired_bars
from workflow.whatif.forms import WhatIfForm
from workflow.whatif.replay import Comparison
from workflow.whatif.scenario import (
    Scenario,
    ScenarioError,
    parse_calendar,
    parse_draft,
)

bp = Blueprint("whatif", __name__, url_prefix="/admin/hvad-hvis")

Page = tuple[str, int]


def _form() -> WhatIfForm:
    session = db()
    form = WhatIfForm()
    # Marked outside the f-strings: the catalogue's extractor does not look inside them.
    version_word, draft_words = _("version"), _("kladde i procesdesigneren")
    versions = [
        (f"{name}:{version}", f"{definition.title} – {version_word} {version}")
        for (name, version), definition in sorted(registry.stored(session).items())
    ]
    drafts = [
        (
            f"{definition.name}:{queries.DESIGNER_DRAFT}",
            f"{pick(definition.title, definition.title_en)} – {draft_words}",
        )
        for definition in queries.designer_drafts(session)
    ]
    form.version.choices = [("", _("Ingen")), *drafts, *versions]
    codes = [
        (body.code, f"{body.code} – {body.name}")
        for body in session.scalars(select(Body).where(Body.valid_to.is_(None)).order_by(Body.code))
    ]
    form.material_body.choices = [("", _("Ingen")), *codes]
    form.calendar_body.choices = [("", _("Ingen")), *codes]
    return form


def _scenario(form: WhatIfForm) -> Scenario | None:
    """The changes the form asks for; None (errors at the fields) if one cannot be used."""
    session = db()
    draft = None
    material: dict[str, int] = {}
    calendars = {}
    known = {code for code, _label in form.material_body.choices if code}
    try:
        for name in ("material_body", "calendar_body"):
            if form[name].data and form[name].data not in known:
                raise ScenarioError(
                    name,
                    "Organet findes ikke. Vælg et organ fra listen.",
                    "There is no such body. Choose a body from the list.",
                )
        if form.draft.data and form.draft.data.strip():
            draft = parse_draft(form.draft.data, registry.names(session))
        elif form.version.data:
            draft = queries.stored_version(session, form.version.data)
        if form.material_body.data:
            if form.material_days.data is None:
                raise ScenarioError(
                    "material_days",
                    "Skriv den nye materialefrist i dage.",
                    "Write the new deadline for papers in days.",
                )
            material[form.material_body.data] = form.material_days.data
        elif form.material_days.data is not None:
            raise ScenarioError(
                "material_body",
                "Vælg organet, hvis materialefrist skal ændres.",
                "Choose the body whose deadline for papers changes.",
            )
        if form.calendar_body.data:
            calendars[form.calendar_body.data] = parse_calendar(form.meeting_days.data or "")
        elif form.meeting_days.data and form.meeting_days.data.strip():
            raise ScenarioError(
                "calendar_body",
                "Vælg organet, hvis mødekalender skal ændres.",
                "Choose the body whose meeting calendar changes.",
            )
    except ScenarioError as exc:
        form[exc.field].errors = [*form[exc.field].errors, pick(exc.message_da, exc.message_en)]
        return None
    return Scenario(form.months.data, draft, material, calendars)


def _chart(result: Comparison) -> object:
    rows = [(row.key[0], row.today_mean, row.draft_mean) for row in result.bodies]
    return paired_bars(
        "hvad-hvis-organ",
        _("Dage hos hvert organ pr. sag: i dag og i kladden"),
        _(
            "Søjlepar pr. organ: det gennemsnitlige antal dage, en sag er hos organet, i dag "
            "(fyldt) og i kladden (skraveret). Tallene står også i tabellen."
        ),
        rows,
        (_("I dag"), _("Kladde")),
        current_locale(),
    )


@bp.get("")
@login_required
def index() -> Page:
    """The form, with nothing replayed yet."""
    policy.require(current_actor(), "replay_whatif", None, db())
    form = _form()
    # ?version=… preselects a choice (the designer links here with its draft).
    chosen = request.args.get("version", "")
    if chosen:
        if chosen not in {value for value, _label in form.version.choices}:
            form.version.errors = [
                _("Der er ingen kladde eller gemt version med det navn. Vælg en fra listen.")
            ]
            return render_template("whatif/index.html", form=form, result=None), 404
        form.version.data = chosen
    return render_template("whatif/index.html", form=form, result=None), 200


@bp.post("")
@login_required
def run() -> Page:
    """Replay the period's cases against the changes and show the comparison."""
    policy.require(current_actor(), "replay_whatif", None, db())
    form = _form()
    if not form.validate_on_submit():
        return render_template("whatif/index.html", form=form, result=None), 422
    scenario = _scenario(form)
    if scenario is None:
        return render_template("whatif/index.html", form=form, result=None), 422
    result = queries.compare(db(), scenario, clock.now())
    return render_template(
        "whatif/index.html",
        form=form,
        result=result,
        chart=_chart(result),
        stage_names=_stage_names(result),
        bodies={b.code: b for b in db().scalars(select(Body))},
    ), 200


def _stage_names(result: Comparison) -> dict[tuple[str, ...], tuple[str, str]]:
    """The process's title and the state's label of each stage, in the user's language."""
    names: dict[tuple[str, ...], tuple[str, str]] = {}
    keys = [row.key for row in result.stages] + [(p, s) for p, s, _t, _d in result.breaches]
    for key in keys:
        process, state = key
        definition = registry.latest(db(), process)
        spec = definition.states.get(state)
        names[key] = (
            pick(definition.title, definition.title_en),
            pick(spec.label, spec.label_en) if spec else state,
        )
    return names
