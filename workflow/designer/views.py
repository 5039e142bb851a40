"""The process designer's pages (admins only): the processes, a draft's editor with the
loader's verdict at the field, the draft's diagram and its difference from the published
version, publishing, and moving cases in flight to the new version. Plain forms and POSTs;
static/designer.js only makes the check live."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import ngettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from workflow import policy
from workflow.auth.login import current_actor, current_user
from workflow.designer import form_editor, operations, queries
from workflow.designer.forms import DraftActionForm, DraftForm, StructureForm
from workflow.engine import diagram, values
from workflow.engine.definitions import DefinitionError, ProcessDefinition
from workflow.engine.errors import StaleChange, WorkflowError
from workflow.engine.processes import registry
from workflow.engine.values import InvalidValue
from workflow.web import db
from workflow.web.i18n import _, is_english, pick

bp = Blueprint("designer", __name__, url_prefix="/admin/procesdesigner")
Page = str | tuple[str, int] | Response


@bp.before_request
def admins_only() -> Response | None:
    """Send visitors to the login page; refuse users the policy does not let in."""
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    # Refused with the rule's own reason: workflow.web.refusal renders the NotAllowed.
    policy.require(user, "design_processes", None, db())
    return None


@bp.get("")
def index() -> str:
    """List the processes with their newest version and whether a draft is open."""
    return render_template("designer/index.html", rows=queries.overview(db()))


def _published(name: str) -> ProcessDefinition:
    if name not in registry.names(db()):
        abort(404)
    return registry.latest(db(), name)


def _number(raw: Any) -> int:
    """A revision or version from a hidden field (0 allowed); anything else is a bad request."""
    text = str(raw or "0")
    if text == "0":
        return 0
    number = values.parse_id(text)
    if number is None:
        abort(400)
    return number


def _svg(definition: ProcessDefinition) -> Markup:
    return Markup(diagram.render_svg(definition, lang="en" if is_english() else "da"))


def _render(
    published: ProcessDefinition,
    form: DraftForm,
    *,
    problem: queries.Problem | None = None,
    checked: ProcessDefinition | None = None,
    stale: str = "",
    status: int = 200,
) -> Page:
    session = db()
    draft = queries.draft_of(session, published.name)
    shown = checked
    if shown is None and problem is None:
        shown = queries.check(published.name, draft.source)[0] if draft else published
    text = str(form.source.data or "")
    html = render_template(
        "designer/edit.html",
        published=published,
        title=pick(published.title, published.title_en),
        draft=draft,
        form=form,
        action_form=DraftActionForm(revision=str(draft.revision) if draft else "0"),
        problem=problem,
        form_errors=[message for messages in form.errors.values() for message in messages],
        stale=stale,
        svg=_svg(shown) if shown is not None else None,
        diff=queries.diff(published.source, text) if text else [],
        in_flight=queries.in_flight(session, published.name, published.version),
    )
    return html, status


def _form_for(published: ProcessDefinition) -> DraftForm:
    draft = queries.draft_of(db(), published.name)
    return DraftForm(
        formdata=None,
        source=draft.source if draft else published.source,
        revision=str(draft.revision) if draft else "0",
        base_version=str(draft.base_version if draft else published.version),
    )


@bp.get("/<name>")
def edit(name: str) -> Page:
    """Show the draft (or the published text, to start one) with its diagram and diff."""
    published = _published(name)
    return _render(published, _form_for(published))


@bp.post("/<name>")
def save(name: str) -> Page:
    """Check the posted TOML with the loader; save it as the draft unless only checking."""
    published = _published(name)
    form = DraftForm()
    if not form.validate_on_submit():
        return _render(published, form, status=422)
    source = str(form.source.data)
    checked, problem = queries.check(name, source)
    if problem is not None:
        return _render(published, form, problem=problem, status=422)
    if request.form.get("handling") == "kontroller":
        flash(_("Definitionen er gyldig. Den er ikke gemt endnu."), "success")
        return _render(published, form, checked=checked)
    try:
        operations.save_draft(
            db(),
            current_actor(),
            name,
            source,
            revision=_number(form.revision.data),
            base_version=_number(form.base_version.data),
        )
    except StaleChange as exc:
        return _stale(published, form, exc)
    flash(_("Kladden er gemt og gyldig."), "success")
    return redirect(url_for("designer.edit", name=name), code=303)


def _stale(published: ProcessDefinition, form: DraftForm, exc: StaleChange) -> Page:
    """Refuse a stale save, keeping what the admin wrote; the next save replaces on purpose."""
    draft = queries.draft_of(db(), published.name)
    form.revision.data = str(draft.revision) if draft else "0"
    form.base_version.data = str(draft.base_version if draft else published.version)
    return _render(published, form, stale=pick(exc.message, exc.message_en), status=409)


@bp.post("/<name>/udgiv")
def publish(name: str) -> Page:
    """Publish the draft as the process's next version."""
    published = _published(name)
    form = DraftActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        row = operations.publish_draft(
            db(), current_actor(), name, revision=_number(form.revision.data)
        )
    except StaleChange as exc:
        return _stale(published, _form_for(published), exc)
    except DefinitionError as exc:
        form_ = _form_for(published)
        problem = queries.problem_of(str(exc), name, str(form_.source.data))
        return _render(published, form_, problem=problem, status=422)
    flash(
        _(
            "Version %(version)s er udgivet. Nye sager følger den; sager i gang følger fortsat "
            "deres version, indtil du flytter dem.",
            version=row.version,
        ),
        "success",
    )
    return redirect(url_for("designer.edit", name=name), code=303)


@bp.post("/<name>/kasser")
def discard(name: str) -> Page:
    """Throw the draft away."""
    published = _published(name)
    form = DraftActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.discard_draft(db(), name, revision=_number(form.revision.data))
    except StaleChange as exc:
        return _stale(published, _form_for(published), exc)
    flash(_("Kladden er kasseret."), "success")
    return redirect(url_for("designer.edit", name=name), code=303)


@bp.post("/<name>/kontroller")
def check(name: str) -> Response | tuple[Response, int]:
    """The loader's verdict on the posted TOML and the diagram, for designer.js (no save)."""
    _published(name)
    form = DraftForm()
    if not form.validate_on_submit():
        errors = [m for messages in form.errors.values() for m in messages]
        return jsonify(valid=False, message=" ".join(str(m) for m in errors), svg=""), 422
    checked, problem = queries.check(name, str(form.source.data))
    if problem is not None:
        where = _("Linje %(line)s", line=problem.line) + ": " if problem.line else ""
        key = problem.key + ": " if problem.key else ""
        return jsonify(valid=False, message=where + key + problem.message, svg=""), 422
    assert checked is not None
    return jsonify(valid=True, message="", svg=str(_svg(checked)))


# The form editor -----------------------------------------------------------------------------

_FORM_KEYS = ("states.", "transitions[", form_editor.NEW_STATE + ".", form_editor.NEW_TRANSITION)


def _base_source(published: ProcessDefinition) -> str:
    draft = queries.draft_of(db(), published.name)
    return draft.source if draft else published.source


def _render_form(
    published: ProcessDefinition,
    frame: StructureForm,
    groups: list[form_editor.Group],
    *,
    general: str = "",
    stale: str = "",
    status: int = 200,
) -> Page:
    draft = queries.draft_of(db(), published.name)
    source = draft.source if draft else published.source
    shown = queries.check(published.name, source)[0]
    errors = [
        (item.input_id, item.label, message)
        for group in groups
        for item in group.inputs
        for message in item.errors
    ] + [(group.group_id, group.legend, message) for group in groups for message in group.errors]
    html = render_template(
        "designer/form.html",
        published=published,
        title=pick(published.title, published.title_en),
        draft=draft,
        frame=frame,
        groups=groups,
        errors=errors,
        general=general,
        stale=stale,
        svg=_svg(shown) if shown is not None else None,
    )
    return html, status


@bp.get("/<name>/formular")
def structure(name: str) -> Page:
    """The draft's states and transitions as a form (the same draft as the TOML view)."""
    published = _published(name)
    draft = queries.draft_of(db(), name)
    frame = StructureForm(
        formdata=None,
        revision=str(draft.revision) if draft else "0",
        base_version=str(draft.base_version if draft else published.version),
    )
    return _render_form(published, frame, form_editor.groups(_base_source(published)))


@bp.post("/<name>/formular")
def save_structure(name: str) -> Page:
    """Write the form into the draft's TOML, check it with the loader and save it."""
    published = _published(name)
    frame = StructureForm()
    if not frame.validate_on_submit():
        abort(400)
    base = _base_source(published)
    posted: dict[str, str] = {}
    bad: dict[str, str] = {}
    for key, raw in request.form.items():
        if key.startswith(_FORM_KEYS):
            try:
                posted[key] = values.single_line(raw)
            except InvalidValue as exc:
                posted[key], bad[key] = raw, pick(exc.message_da, exc.message_en)
    groups = form_editor.groups(base, posted)
    if bad:
        unplaced = [
            f"{key}: {message}"
            for key, message in bad.items()
            if not form_editor.place(key, message, groups, posted, base)
        ]
        return _render_form(published, frame, groups, general=" ".join(unplaced), status=422)
    try:
        edited = form_editor.apply(base, posted)
    except form_editor.FormValueError as exc:
        form_editor.place(exc.key, exc.message, groups, posted, base)
        return _render_form(published, frame, groups, status=422)
    _checked, problem = queries.check(name, edited)
    if problem is not None:
        placed = form_editor.place(problem.key, problem.message, groups, posted, edited)
        for state in form_editor.removed_states(posted):
            if f"'{state}'" in problem.message:  # also at the box that removed the state
                key = f"states.{state}.{form_editor.REMOVE}"
                placed = form_editor.place(key, problem.message, groups, posted, edited) or placed
        general = "" if placed else f"{problem.key}: {problem.message}".lstrip(": ")
        return _render_form(published, frame, groups, general=general, status=422)
    try:
        operations.save_draft(
            db(),
            current_actor(),
            name,
            edited,
            revision=_number(frame.revision.data),
            base_version=_number(frame.base_version.data),
        )
    except StaleChange as exc:
        draft = queries.draft_of(db(), name)
        frame.revision.data = str(draft.revision) if draft else "0"
        frame.base_version.data = str(draft.base_version if draft else published.version)
        return _render_form(
            published, frame, groups, stale=pick(exc.message, exc.message_en), status=409
        )
    flash(_("Kladden er gemt og gyldig."), "success")
    return redirect(url_for("designer.structure", name=name), code=303)


# Moving cases in flight ------------------------------------------------------------------------


def _move_page(
    published: ProcessDefinition,
    chosen: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Page:
    rows = queries.in_flight(db(), published.name, published.version)
    targets = [
        (name, f"{pick(s.label, s.label_en)} ({name})") for name, s in published.states.items()
    ]
    html = render_template(
        "designer/move.html",
        published=published,
        title=pick(published.title, published.title_en),
        rows=rows,
        targets=targets,
        chosen=chosen,
        errors=errors or {},
    )
    return html, status


@bp.get("/<name>/flyt")
def move_form(name: str) -> Page:
    """Map each state of the earlier versions' cases in flight to a state of the newest."""
    published = _published(name)
    rows = queries.in_flight(db(), name, published.version)
    chosen = {
        f"map-{row.version}-{row.state}": row.state for row in rows if row.state in published.states
    }
    return _move_page(published, chosen)


@bp.post("/<name>/flyt")
def move(name: str) -> Page:
    """Move the cases in flight as mapped, through the engine (all or none)."""
    published = _published(name)
    if not DraftActionForm().validate_on_submit():
        abort(400)
    rows = queries.in_flight(db(), name, published.version)
    chosen: dict[str, str] = {}
    errors: dict[str, str] = {}
    state_map: dict[int, dict[str, str]] = {}
    for row in rows:
        key = f"map-{row.version}-{row.state}"
        target = request.form.get(key, "")
        chosen[key] = target
        if not target:
            continue
        if target not in published.states:
            errors[key] = _(
                "Tilstanden '%(state)s' findes ikke i version %(version)s. Vælg en fra listen.",
                state=target,
                version=published.version,
            )
            continue
        state_map.setdefault(row.version, {})[row.state] = target
    if errors:
        return _move_page(published, chosen, errors, 422)
    if not state_map:
        flash(_("Ingen sager er flyttet: du valgte ikke nogen tilstand."), "info")
        return redirect(url_for("designer.move_form", name=name), code=303)
    try:
        moved = operations.move_cases(db(), current_actor(), name, state_map)
    except WorkflowError as exc:
        return _move_page(published, chosen, {"": pick(exc.message, exc.message_en)}, 409)
    flash(
        ngettext(
            "%(num)s sag er flyttet til version %(version)s.",
            "%(num)s sager er flyttet til version %(version)s.",
            moved.count,
            version=published.version,
        ),
        "success",
    )
    return redirect(url_for("designer.edit", name=name), code=303)
