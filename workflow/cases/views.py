"""Cases: the filtered list, a case's page, its actions through engine.perform(), and the
guided form that creates and edits a case (saved as a draft at any point)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from models import Body, Case, CaseExpense, Meeting, Party, User
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import choices, confirmation, queries, table
from workflow.cases.bulk_views import MAX_CASES
from workflow.cases.forms import (
    EXPENSE_ROWS,
    ActionForm,
    CaseForm,
    ExpenseInput,
    Option,
    attach_failures,
    build_action_form,
    case_changes,
    expense_inputs,
    fill,
    goal_ids,
    meeting_options,
    read_action_input,
)
from workflow.cases.queries import ListRow
from workflow.engine import clock, diagram, values
from workflow.engine import core as engine
from workflow.engine.calendar import local_date
from workflow.engine.definitions import ProcessDefinition
from workflow.engine.errors import Conflict, GuardFailed, InvalidTrigger, NotAllowed, WorkflowError
from workflow.engine.formandskab import PROPOSED
from workflow.engine.processes import registry
from workflow.organisation.queries import valid_on
from workflow.web import db
from workflow.web.i18n import _, current_locale, label, pick

bp = Blueprint("cases", __name__, url_prefix="/sager")
bp.add_app_template_global(table.case_table_rows, "case_table_rows")

SORT_KEYS = ("aendret", "oprettet", "frist", "titel", "nr")


def missing_version() -> str:
    """The message for a form that lacks the case's version."""
    return _(
        "Formularen mangler sagens version, så en samtidig ændring kan ikke opdages. "
        "Genindlæs sagen, og prøv igen."
    )


@dataclass(frozen=True)
class ParsedFilter:
    """The list's criteria and the values the filter form shows as selected."""

    criteria: queries.CaseFilter
    selected: dict[str, str]
    # Whether the address chose the sort order (the filter form keeps only a chosen one, so
    # ticking "overdue" on the default list gets the overdue list's own default order).
    sort_chosen: bool = False


def _int_arg(args: MultiDict[str, str], name: str) -> int | None:
    return values.parse_id(args.get(name, ""))


def parse_case_filter(
    session: Session, args: MultiDict[str, str], user: User | None = None
) -> ParsedFilter:
    """Read the list's filters, sort order and page from the query string; a front-page
    section (`afsnit`) is the `user`'s own and is left out without one."""
    names = {p.name for p in registry.all_latest(session)}
    process = args.get("proces", "")
    if process not in names:
        process = ""
    state_process, _sep, state = args.get("tilstand", "").partition(":")
    if state_process not in names or (process and state_process != process):
        state = ""
    process = process or (state_process if state else "")
    organ = args.get("organ", "")
    body = session.scalar(select(Body).where(Body.code == organ)) if organ else None
    overdue = args.get("overskredet") == "1"
    sort = args.get("sortering", "")
    descending = sort.startswith("-") or sort == "aendret"
    sort_key = sort.removeprefix("-")
    chosen = sort_key in SORT_KEYS
    if not chosen:
        # Overdue cases come most overdue first unless the user chose otherwise: the order
        # that list is read in, and the one the next_due_at index gives directly.
        sort_key, descending = ("frist", False) if overdue else ("aendret", True)
    elif sort_key != "aendret":
        descending = sort.startswith("-")
    section = args.get("afsnit", "")
    clause = None
    if section in queries.SECTION_LABELS and user is not None:
        roles = queries.roles_of(queries.active_memberships(session, user))
        known = queries.definitions(session)
        clause = queries.section_condition(section, roles, clock.now(), known)
    else:
        section = ""
    criteria = queries.CaseFilter(
        process=process,
        state=state,
        body_id=body.id if body else None,
        focus_area_id=_int_arg(args, "fokus"),
        national_goal_id=_int_arg(args, "maal"),
        overdue=overdue,
        text=args.get("q", "").strip()[:200],
        sort=sort_key,
        descending=descending,
        after=args.get("efter", "")[:2000],
        before=args.get("foer", "")[:2000],
        section=section,
        section_clause=clause,
    )
    selected = {
        "proces": process,
        "tilstand": f"{process}:{state}" if state else "",
        "organ": body.code if body else "",
        "fokus": str(criteria.focus_area_id or ""),
        "maal": str(criteria.national_goal_id or ""),
        "overskredet": "1" if criteria.overdue else "",
        "afsnit": section,
        "q": criteria.text,
        "sortering": ("-" if descending else "") + sort_key,
    }
    return ParsedFilter(criteria, selected, chosen)


# Stands for the sort order in the one address the sort links are made from (`sort_links`).
_SORT_MARK = "SORTERING"


def sort_links(current: str, filter_args: dict[str, Any]) -> dict[str, Markup]:
    """The list's sort links by key, each `<a>` as the list draws it: by that key ascending,
    or descending when the list is already sorted so, the current one marked. One address is
    made (url_for) and each link's order put into it: url_for for each link cost more than
    the rest of the list's header."""
    address = url_for("cases.index", sortering=_SORT_MARK, **filter_args)
    head, _mark, tail = address.partition(f"sortering={_SORT_MARK}")
    texts = {
        "aendret": _("Senest ændret"),
        "oprettet": _("Oprettet"),
        "frist": _("Næste frist"),
        "titel": _("Titel"),
        "nr": _("Nummer"),
    }
    ascending, descending = _("stigende"), _("faldende")
    links: dict[str, Markup] = {}
    for key, text in texts.items():
        href = escape(f"{head}sortering={'-' + key if current == key else key}{tail}")
        marked = ' aria-current="true"' if current.lstrip("-") == key else ""
        order = (
            f" ({ascending})"
            if current == key
            else f" ({descending})"
            if current == "-" + key
            else ""
        )
        # The texts are translations, shown as the template shows them (not escaped again).
        links[key] = Markup(f'<a href="{href}"{marked}>{text}{order}</a>\n')
    return links


@dataclass(frozen=True)
class KeptBulkInput:
    """A bulk action's input brought back from its confirmation page (cancelled): nothing lost."""

    chosen: dict[int, str]
    elsewhere: list[tuple[Case, str]]
    action: str
    comment: str
    meeting: str


def kept_bulk_input(
    session: Session, user: User | None, args: MultiDict[str, str], rows: Sequence[ListRow]
) -> KeptBulkInput:
    """Read `valgt` ('case_id:version'), `handling`, `kommentar` and `meeting_id` from the query.

    Cases chosen but not on this page of the list are offered, still ticked, by the bulk form,
    if the user may see them."""
    chosen: dict[int, str] = {}
    for value in args.getlist("valgt")[:MAX_CASES]:
        case_id, _sep, version = value.partition(":")
        number, seen = values.parse_id(case_id), values.parse_id(version)
        if number is not None and seen is not None:
            chosen[number] = f"{number}:{seen}"
    shown = {row.id for row in rows}
    elsewhere = []
    for number, value in chosen.items():
        if number in shown:
            continue
        case = queries.find_case(session, number)
        if case is not None and policy.may(user, "view", case, session):
            elsewhere.append((case, value))
    return KeptBulkInput(
        chosen=chosen,
        elsewhere=elsewhere,
        action=args.get("handling", ""),
        comment=args.get("kommentar", ""),
        meeting=args.get("meeting_id", ""),
    )


@bp.get("")
@login_required
def index() -> str:
    """List cases with filters, sorting and pages; chairs and secretariats may select several."""
    session = db()
    processes = registry.all_latest(session)
    user = current_actor()
    parsed = parse_case_filter(session, request.args, user)
    visible = policy.visible_cases(session, user)
    page = queries.list_cases(session, parsed.criteria, clock.now(), visible)
    bulk = policy.may(user, "act_in_bulk", None, session)
    kept = kept_bulk_input(session, user, request.args, page.rows) if bulk else None
    filter_args = {k: v for k, v in parsed.selected.items() if v and k != "sortering"}
    return render_template(
        "cases/index.html",
        page=page,
        choices=choices.filter_choices(
            session, processes, parsed.selected, parsed.criteria.process
        ),
        selected=parsed.selected,
        sort_chosen=parsed.sort_chosen,
        filter_args=filter_args,
        sort_links=sort_links(parsed.selected["sortering"], filter_args),
        bulk_actions=choices.bulk_choices(processes, kept.action if kept else "") if bulk else None,
        kept=kept,
        sections=choices.section_choices(queries.SECTION_LABELS, parsed.selected["afsnit"]),
    )


def _case_or_404(session: Session, case_id: int) -> Case:
    """The case, if the user may see it; else 404, as for a case that does not exist."""
    case = queries.find_case(session, case_id)
    if case is None or not policy.may(current_actor(), "view", case, session):
        abort(404)
    return case


def action_forms(session: Session, case: Case, user: User) -> list[ActionForm]:
    """Build a form for each action the user may take on the case now."""
    forms: list[ActionForm] = []
    meetings: list[Meeting] | None = None
    options: list[Option] = []  # the meetings described once for every form that offers them
    for transition in engine.allowed_triggers(case, user):
        permission = engine.find_permission(session, case, transition, user)
        if meetings is None and (
            transition.decision or any(f.type == "meeting" for f in transition.fields)
        ):
            meetings = queries.decision_meetings(session, case.current_body_id, clock.now())
            options = meeting_options(meetings)
        bodies = {
            spec.name: [
                Option(code, f"{code} – {name}")
                for code, name in queries.bodies_of_kinds(session, spec.body_kinds)
            ]
            for spec in transition.fields
            if spec.type == "body"
        }
        forms.append(
            build_action_form(
                transition,
                case.version,
                meetings or [],
                as_chair=permission is not None and permission.as_chair,
                bodies=bodies,
                options=options,
            )
        )
    return forms


def process_diagram(definition: ProcessDefinition, state: str) -> Markup:
    """The process as inline SVG with `state` highlighted."""
    svg = diagram.render_svg(definition, current=state, lang=current_locale())
    # The standalone document's XML declaration is not allowed inside HTML.
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2 :].lstrip()
    return Markup(svg)


def render_case(
    session: Session,
    case: Case,
    user: User,
    *,
    forms: list[ActionForm] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Render the case page; `forms` carry the user's input after a refused action."""
    definition = engine.definition_of(case)
    forms = forms if forms is not None else action_forms(session, case, user)
    wanted = request.args.get("handling", "")
    for form in forms:
        if form.trigger == wanted:
            form.is_open = True
    # Its events, open deadlines and expenses in one statement.
    records = queries.case_records(session, case, definition)
    html = render_template(
        "cases/detail.html",
        case=case,
        definition=definition,
        state=definition.states[case.state],
        timeline=records.timeline,
        deadlines=records.deadlines,
        expenses=records.expenses,
        forms=forms,
        problem=problem,
        now=clock.now(),
        diagram=process_diagram(definition, case.state),
        may_edit=policy.may(user, "edit", case, session),
    )
    return html, status


@bp.get("/<int:case_id>")
@login_required
def detail(case_id: int) -> tuple[str, int]:
    """Show a case: its fields, its history, its deadlines and the user's actions."""
    session = db()
    return render_case(session, _case_or_404(session, case_id), current_actor())


def _expected_version(raw: str | None) -> int | None:
    return values.parse_id(raw)


@bp.post("/<int:case_id>/handlinger/<trigger>")
@login_required
def perform(case_id: int, trigger: str) -> Response | tuple[str, int]:
    """Fire an action through the engine; on refusal show why and keep the input."""
    session = db()
    case = _case_or_404(session, case_id)
    user = current_actor()
    form = next((f for f in action_forms(session, case, user) if f.trigger == trigger), None)
    expected_version = _expected_version(request.form.get("expected_version"))
    if expected_version is None:
        return render_case(session, case, user, problem=missing_version(), status=400)
    submitted = read_action_input(form, request.form) if form is not None else None
    if (
        form is not None
        and submitted is not None
        and not confirmation.is_confirmed(request.form)
        and confirmation.needs_confirmation(session, case, trigger)
        and expected_version == case.version
        and not engine.check(case, trigger, user, submitted.comment, submitted.data)
    ):
        # Irreversible: say what will happen and let the user confirm. A refusal (stale
        # version, a rule that fails) is shown at once below, as for any action.
        return _confirm_page(session, case, form, submitted.raw, expected_version)
    try:
        event = engine.perform(
            case,
            trigger,
            user,
            comment=submitted.comment if submitted else None,
            data=submitted.data if submitted else None,
            expected_version=expected_version,
        )
    except WorkflowError as refusal:
        raw = submitted.raw if submitted else {}
        return _refused(session, case_id, user, trigger, refusal, raw)
    action = label(form.transition) if form is not None else trigger
    if event.trigger == PROPOSED:
        flash(
            _(
                "Din beslutning »%(action)s« er registreret som forslag. Formandskabet har "
                "besluttet, når den anden medformand har givet sit samtykke.",
                action=action,
            ),
            "success",
        )
        return redirect(url_for("cases.detail", case_id=case.id), code=303)
    definition = engine.definition_of(case)
    state_label = label(definition.states[case.state])
    done = _("Handlingen »%(action)s« er udført.", action=action)
    fired = definition.transition(trigger)
    if fired is not None and fired.records_only:
        # Only recorded: the case did not move, nor start its time in the state anew.
        flash(done + " " + _("Sagen er stadig: %(state)s.", state=state_label), "success")
    else:
        flash(done + " " + _("Sagen er nu: %(state)s.", state=state_label), "success")
    return redirect(url_for("cases.detail", case_id=case.id), code=303)


def _confirm_page(
    session: Session, case: Case, form: ActionForm, raw: dict[str, str], expected_version: int
) -> tuple[str, int]:
    """The page that asks the user to confirm an irreversible action before it fires."""
    html = render_template(
        "cases/confirm.html",
        case=case,
        confirmation=confirmation.build(session, case, form, raw, current_actor()),
        expected_version=expected_version,
        confirmed_field=confirmation.CONFIRMED_FIELD,
        confirmed_value=confirmation.CONFIRMED_VALUE,
    )
    return html, 200


STATUS_OF_REFUSAL: dict[type[WorkflowError], int] = {
    GuardFailed: 422,
    NotAllowed: 403,
    Conflict: 409,
    InvalidTrigger: 409,
}


def refusal_message(refusal: WorkflowError) -> str:
    """The engine's reason in the user's language."""
    return pick(refusal.message, refusal.message_en)


def _refused(
    session: Session,
    case_id: int,
    user: User,
    trigger: str,
    refusal: WorkflowError,
    raw: dict[str, str],
) -> tuple[str, int]:
    """Re-render the case as it is now, with the refused form open, filled and explained."""
    case = _case_or_404(session, case_id)
    forms = action_forms(session, case, user)
    form = next((f for f in forms if f.trigger == trigger), None)
    status = STATUS_OF_REFUSAL.get(type(refusal), 422)
    if form is None:
        problem = refusal_message(refusal)
        return render_case(session, case, user, forms=forms, problem=problem, status=status)
    fill(form, raw)
    if isinstance(refusal, GuardFailed):
        attach_failures(form, refusal.failures)
    else:
        form.errors.append(refusal.message if current_locale() == "da" else refusal.message_en)
    return render_case(session, case, user, forms=forms, status=status)


# The guided form ----------------------------------------------------------------------------


def _fill_choices(session: Session, form: CaseForm, bodies: list[Body]) -> None:
    form.originating_body.choices = [(b.code, f"{b.code} – {b.name}") for b in bodies]
    form.focus_area_id.choices = [("", _("Vælg fokusområde"))] + [
        (str(f.id), f.name) for f in queries.focus_areas(session)
    ]
    form.national_goals.choices = [
        (str(g.id), f"{g.number}. {g.name}") for g in queries.national_goals(session)
    ]
    parties = [("", _("Vælg part"))] + [
        (str(p.id), p.name)
        for p in session.scalars(
            select(Party)
            .where(Party.active, valid_on(Party, local_date(clock.now())))
            .order_by(Party.kind, Party.name)
        )
    ]
    for entry in form.expenses.entries:
        entry.form.party_id.choices = parties


def _load_case_into(form: CaseForm, case: Case, expenses: list[CaseExpense]) -> None:
    """Put a stored case's values into an unsubmitted form."""
    form.expected_version.data = str(case.version)
    form.originating_body.data = case.originating_body.code
    form.title.data = case.title
    for name in (
        "summary", "role_distribution", "general_practice_role", "business_case",
        "financing_proposal", "triple_aim_population", "triple_aim_quality", "triple_aim_economy",
        "triple_aim_experience", "principled", "political", "interface_change",
        "cost_driving", "large_task", "plan_year",
    ):  # fmt: skip
        getattr(form, name).data = getattr(case, name)
    form.esdh_case_number.data = case.esdh_case_number or ""
    form.focus_area_id.data = str(case.focus_area_id or "")
    form.national_goals.data = [str(g.id) for g in case.national_goals]
    while len(form.expenses.entries) < len(expenses) + 1:
        form.expenses.append_entry()
    for entry, expense in zip(form.expenses.entries, expenses, strict=False):
        entry.form.party_id.data = str(expense.party_id)
        entry.form.amount.data = expense.amount_dkk
        entry.form.note.data = expense.note


def _process_or_404(session: Session, name: str) -> ProcessDefinition:
    if name not in {p.name for p in registry.all_latest(session)}:
        abort(404)
    return registry.latest(session, name)


def _render_form(
    form: CaseForm,
    definition: ProcessDefinition,
    *,
    case: Case | None,
    problems: list[str],
    status: int = 200,
) -> tuple[str, int]:
    html = render_template(
        "cases/form.html",
        form=form,
        definition=definition,
        case=case,
        problems=problems,
        shows_plan_year=registry.declaring(db(), definition).plan_year,
    )
    return html, status


@bp.get("/ny")
@login_required
def choose_process() -> str | Response:
    """Ask which kind of case to create (a signature initiative is the usual one)."""
    session = db()
    name = request.args.get("proces")
    if name:
        return redirect(url_for("cases.create", process=name))
    # Only the kinds of case one of the user's bodies may start (the definitions' started_by).
    bodies = policy.bodies_where(session, current_actor(), "open_case")
    processes = [
        p
        for p in registry.all_latest(session)
        if any(p.may_start_in(str(b.kind), b.code) for b in bodies)
    ]
    return render_template(
        "cases/choose.html",
        processes=processes,
        may_create=policy.may(current_actor(), "create_case", None, session) and bool(processes),
    )


@bp.route("/ny/<process>", methods=["GET", "POST"])
@login_required
def create(process: str) -> Response | tuple[str, int]:
    """Create a case from the guided form; it starts as a draft and can be edited later."""
    session = db()
    user = current_actor()
    definition = _process_or_404(session, process)
    member_of = policy.bodies_where(session, user, "open_case")
    # Only the bodies that may start this kind of case (the definition's started_by).
    bodies = [b for b in member_of if definition.may_start_in(str(b.kind), b.code)]
    form = CaseForm()
    _fill_choices(session, form, bodies)
    if not member_of:
        problem = _(
            "Du er ikke medlem af et organ, der kan rejse sager. Kontakt sekretariatet for "
            "at blive tilknyttet."
        )
        return _render_form(form, definition, case=None, problems=[problem], status=403)
    if not bodies:
        who_da, who_en = engine.starters(definition)
        problem = _(
            "En sag af denne type startes af %(who)s, og du er ikke medlem af et sådant organ.",
            who=who_da if current_locale() == "da" else who_en,
        )
        return _render_form(form, definition, case=None, problems=[problem], status=403)
    if request.method == "GET":
        return _render_form(form, definition, case=None, problems=[])
    expenses, problems = expense_inputs(form)
    if not form.validate() or problems:
        return _render_form(form, definition, case=None, problems=problems, status=422)
    body = next((b for b in bodies if b.code == form.originating_body.data), bodies[0])
    changes = case_changes(form)
    title = changes.pop("title")
    try:
        case = engine.create_case(
            session,
            process=definition.name,
            title=title,
            originating_body=body,
            actor=user,
            national_goal_ids=goal_ids(form),
            expenses=expense_lines(expenses),
            **changes,
        )
    except WorkflowError as refusal:
        return _render_form(
            form, definition, case=None, problems=[refusal_message(refusal)], status=422
        )
    flash(_("Sagen »%(title)s« er gemt som kladde.", title=case.title), "success")
    return redirect(url_for("cases.detail", case_id=case.id), code=303)


@bp.route("/<int:case_id>/rediger", methods=["GET", "POST"])
@login_required
def edit(case_id: int) -> Response | tuple[str, int]:
    """Edit a case's fields; a concurrent change is reported and the user's input kept."""
    session = db()
    user = current_actor()
    case = _case_or_404(session, case_id)
    definition = engine.definition_of(case)
    stored = queries.case_expenses(session, case)
    extra_rows = max(EXPENSE_ROWS, len(stored) + 1)
    policy.require(user, "edit", case, session)
    form = CaseForm() if request.method == "POST" else CaseForm(formdata=None)
    while len(form.expenses.entries) < extra_rows:
        form.expenses.append_entry()
    _fill_choices(session, form, [case.originating_body])
    if request.method == "GET":
        _load_case_into(form, case, stored)
        _fill_choices(session, form, [case.originating_body])
        return _render_form(form, definition, case=case, problems=[])
    form.originating_body.data = case.originating_body.code
    expected = _expected_version(form.expected_version.data)
    if expected is None:
        return _render_form(form, definition, case=case, problems=[missing_version()], status=400)
    expenses, problems = expense_inputs(form)
    if not form.validate() or problems:
        return _render_form(form, definition, case=case, problems=problems, status=422)
    try:
        engine.edit_case(
            case, user, case_changes(form), expected, goal_ids(form), expense_lines(expenses)
        )
    except Conflict as conflict:
        fresh = _case_or_404(session, case_id)
        # Saving again now overwrites the other change on purpose; the input is kept.
        form.expected_version.data = str(fresh.version)
        message = _(
            "Sagen er blevet ændret af en anden, mens du redigerede (version %(old)s, nu "
            "%(new)s). Dine ændringer er ikke gemt, men står stadig i formularen. Se sagen i "
            "en anden fane, og gem igen, hvis dine ændringer skal gælde.",
            old=conflict.expected,
            new=conflict.actual,
        )
        return _render_form(form, definition, case=fresh, problems=[message], status=409)
    except WorkflowError as refusal:
        problems = [refusal_message(refusal)]
        return _render_form(form, definition, case=case, problems=problems, status=422)
    flash(_("Ændringerne er gemt."), "success")
    return redirect(url_for("cases.detail", case_id=case.id), code=303)


def expense_lines(rows: list[ExpenseInput]) -> list[engine.ExpenseLine]:
    """Turn the form's expense rows into the engine's expense lines."""
    return [engine.ExpenseLine(row.party_id, row.amount, row.note) for row in rows]
