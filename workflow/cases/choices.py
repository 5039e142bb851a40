"""The choices of the case filters (process, state, body, focus area, national goal) and of the
bulk form's actions, rendered once per what they show.

Each list of `<option>`s depends only on versioned data: the stored process definitions
(their name, version and checksum), the reader's language and the organisation's rows. The
rendered options are kept under a key made of exactly that (for the organisation, the rows
themselves, read by a small statement on every request), so a newly published process version,
a renamed body or a new focus area shows at once; the option the reader chose is marked
afterwards, so the kept options do not depend on the request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from threading import Lock

from flask import get_template_attribute
from markupsafe import Markup, escape
from sqlalchemy import String, cast, literal, select, text, union_all
from sqlalchemy.orm import Session

from models import Body, FocusArea, NationalGoal
from workflow.engine.definitions import ProcessDefinition
from workflow.web.i18n import current_locale

TEMPLATE = "cases/_choices.html"
Choice = tuple[str, str]  # (value, text)
Group = tuple[str, tuple[Choice, ...]]  # (the group's label, its choices)

# The organisation's rows the filters name, read as plain columns on every request (cheap):
# they are the key of the options rendered from them. One statement for the three lists, each
# row (list, value, name, number) in its list's order: the bodies by code, the focus areas by
# name, the national goals by number, as the database orders them.
_BODIES, _FOCUS_AREAS, _GOALS = "bodies", "focus_areas", "goals"
# Of table columns, run on the session's connection: a statement of entities' columns takes
# the ORM's steps on every request.
_BODY, _AREA, _GOAL = Body.__table__, FocusArea.__table__, NationalGoal.__table__
_ORGANISATION_ROWS = union_all(
    select(
        literal(_BODIES).label("list"),
        _BODY.c.code.label("value"),
        _BODY.c.name.label("name"),
        literal(0).label("number"),
        _BODY.c.code.label("sort"),
    ).where(_BODY.c.active),
    select(
        literal(_FOCUS_AREAS),
        cast(_AREA.c.id, String),
        _AREA.c.name,
        literal(0),
        _AREA.c.name,
    ),
    select(
        literal(_GOALS),
        cast(_GOAL.c.id, String),
        _GOAL.c.name,
        _GOAL.c.number,
        literal(""),
    ),
).order_by(text("list"), text("number"), text("sort"))


class _Kept:
    """The options rendered for each key, the least recently used forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.found: OrderedDict[Hashable, str] = OrderedDict()
        self.lock = Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> str:
        with self.lock:
            html = self.found.get(key)
            if html is not None:
                self.found.move_to_end(key)
                return html
        html = render()
        with self.lock:
            self.found[key] = html
            while len(self.found) > self.size:
                self.found.popitem(last=False)
        return html

    def clear(self) -> None:
        with self.lock:
            self.found.clear()


KEPT = _Kept(256)


def versions_of(processes: Sequence[ProcessDefinition]) -> tuple[tuple[str, int, str], ...]:
    """What the definitions' options depend on: each one's name, version and checksum."""
    return tuple((p.name, p.version, p.sha256) for p in processes)


def _pick(english: bool, danish: str, in_english: str) -> str:
    return in_english if english and in_english else danish


def _render(macro: str, *args: object) -> str:
    return str(get_template_attribute(TEMPLATE, macro)(*args))


def mark_selected(options: str, value: str) -> Markup:
    """The options with the one whose value is `value` selected (as the template marks it)."""
    if value:
        plain = f'<option value="{escape(value)}">'
        options = options.replace(plain, f'<option value="{escape(value)}" selected>', 1)
    return Markup(options)


@dataclass(frozen=True)
class FilterChoices:
    """The filters' options, each with the reader's choice selected."""

    processes: Markup
    states: Markup
    bodies: Markup
    focus_areas: Markup
    goals: Markup


def filter_choices(
    session: Session,
    processes: Sequence[ProcessDefinition],
    selected: Mapping[str, str],
    only_process: str = "",
) -> FilterChoices:
    """The options of the case filters; `only_process` limits the states to that process's."""
    locale = current_locale()
    english = locale == "en"
    versions = versions_of(processes)

    def process_options() -> str:
        choices = tuple((p.name, _pick(english, p.title, p.title_en)) for p in processes)
        return _render("options", choices)

    def state_options() -> str:
        groups = tuple(
            (
                _pick(english, p.title, p.title_en),
                tuple(
                    (f"{p.name}:{s.name}", _pick(english, s.label, s.label_en))
                    for s in p.states.values()
                ),
            )
            for p in processes
            if not only_process or p.name == only_process
        )
        return _render("grouped_options", groups)

    rows: dict[str, list[Choice]] = {_BODIES: [], _FOCUS_AREAS: [], _GOALS: []}
    if session.autoflush:
        session.flush()  # as a read through the session would; returns at once if nothing waits
    for kind, value, name, number, _sort in session.connection().execute(_ORGANISATION_ROWS):
        shown = {_BODIES: f"{value} – {name}", _GOALS: f"{number}. {name}"}.get(kind, name)
        rows[kind].append((value, shown))
    bodies, areas, goals = (tuple(rows[kind]) for kind in (_BODIES, _FOCUS_AREAS, _GOALS))
    return FilterChoices(
        processes=mark_selected(
            KEPT.get(("processes", locale, versions), process_options), selected.get("proces", "")
        ),
        states=mark_selected(
            KEPT.get(("states", locale, versions, only_process), state_options),
            selected.get("tilstand", ""),
        ),
        bodies=mark_selected(
            KEPT.get(("bodies", bodies), lambda: _render("options", bodies)),
            selected.get("organ", ""),
        ),
        focus_areas=mark_selected(
            KEPT.get(("focus_areas", areas), lambda: _render("options", areas)),
            selected.get("fokus", ""),
        ),
        goals=mark_selected(
            KEPT.get(("goals", goals), lambda: _render("options", goals)),
            selected.get("maal", ""),
        ),
    )


def section_choices(sections: Mapping[str, str], chosen: str = "") -> Markup:
    """The front-page sections the list can show (`cases.queries.SECTION_LABELS`, whose labels
    are translated when shown), `chosen` selected."""
    locale = current_locale()

    def render() -> str:
        # Each label as a translation in a template is shown: not escaped again.
        return "".join(
            f'      <option value="{escape(key)}">{Markup(text)}</option>\n'
            for key, text in sections.items()
        )

    return mark_selected(KEPT.get(("sections", locale, tuple(sections)), render), chosen)


def bulk_choices(processes: Sequence[ProcessDefinition], chosen: str = "") -> Markup:
    """The actions offered for several cases at once, grouped by process, `chosen` selected."""
    locale = current_locale()
    english = locale == "en"

    def render() -> str:
        groups: tuple[Group, ...] = tuple(
            (
                _pick(english, p.title, p.title_en),
                tuple(
                    (f"{p.name}:{t.trigger}", _pick(english, t.label, t.label_en))
                    for t in p.transitions
                    if not t.automatic_only
                ),
            )
            for p in processes
        )
        return _render("grouped_options", groups)

    return mark_selected(KEPT.get(("bulk", locale, versions_of(processes)), render), chosen)
