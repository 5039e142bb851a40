"""The rows of a table of cases (templates/_macros.html `case_table`: the case list, the front
page's cases with other bodies, a body's open cases).

A case list page draws 25 rows of seven cells; drawn by Jinja, each cell's attribute look-ups
and escaping cost more than the rest of the page's content. The rows are written here in one
piece per row, each text escaped once, the words and a case page's address worked out once
per table. The markup is the macro's: the table, its caption and headers stay in the template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from flask import url_for
from markupsafe import Markup, escape

from workflow.engine import formats
from workflow.web.i18n import _, current_locale


class TableRow(Protocol):
    """What a row shows of a case (queries.ListRow, queries.CaseRow)."""

    @property
    def id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def process_title(self) -> str: ...
    @property
    def state_label(self) -> str: ...
    @property
    def origin_code(self) -> str: ...
    @property
    def origin_name(self) -> str: ...
    @property
    def body_code(self) -> str: ...
    @property
    def body_name(self) -> str: ...
    @property
    def next_deadline(self) -> datetime | None: ...


def case_table_rows(
    rows: Iterable[TableRow],
    show_origin: bool = False,
    select: bool = False,
    chosen: Mapping[int, str] | None = None,
) -> Markup:
    """The `<tr>`s of the cases: a checkbox per case (`select`, for the bulk form; `chosen`
    maps a case id to the 'id:version' kept from a cancelled bulk confirmation), the case's
    title linked to its page and its number, process, state, the body that raised it
    (`show_origin`), the body handling it and its next deadline."""
    locale = current_locale()
    address = str(escape(url_for("cases.detail", case_id=1)[: -len("1")]))
    number_word = str(escape(_("nr.")))
    no_deadline = f'<span class="muted">{escape(_("Ingen åben frist"))}</span>'
    choose_case = str(escape(_("Vælg sag nr. %(nr)s", nr="%(nr)s")))
    kept = chosen or {}
    # A page's rows share few processes, states, bodies and deadline days: each such cell is
    # written once per table.
    labels: dict[tuple[str, str], str] = {}
    origins: dict[tuple[str, str], str] = {}
    bodies: dict[tuple[str, str], str] = {}
    dates: dict[datetime, str] = {}
    out: list[str] = []
    for row in rows:
        case_id = row.id
        cells = ["\n    <tr>\n      "]
        if select:
            value = kept.get(case_id) or f"{case_id}:{row.version}"
            checked = " checked" if case_id in kept else ""
            cells.append(
                '<td><div class="form-group-checkbox"><input class="form-checkbox" '
                f'type="checkbox" name="sag" value="{escape(value)}" id="vaelg-{case_id}" '
                f'form="samlet-handling"{checked}><label class="form-label" '
                f'for="vaelg-{case_id}"><span class="visually-hidden">'
                f"{choose_case % {'nr': case_id}}</span></label></div></td>\n      "
            )
        key = (row.process_title, row.state_label)
        label_cells = labels.get(key)
        if label_cells is None:
            label_cells = labels[key] = (
                f"      <td>{escape(key[0])}</td>\n      <td>{escape(key[1])}</td>\n      "
            )
        cells.append(
            f'<td><a href="{address}{case_id}">{escape(row.title)}</a> '
            f'<span class="muted">({number_word} {case_id})</span></td>\n{label_cells}'
        )
        if show_origin:
            key = (row.origin_code, row.origin_name)
            origin = origins.get(key)
            if origin is None:
                origin = origins[key] = (
                    f'<td><abbr title="{escape(key[1])}">{escape(key[0])}</abbr></td>\n      '
                )
            cells.append(origin)
        key = (row.body_code, row.body_name)
        body = bodies.get(key)
        if body is None:
            body = bodies[key] = (
                f'<td><abbr title="{escape(key[1])}">{escape(key[0])}</abbr></td>\n      '
            )
        due = row.next_deadline
        if due is None:
            shown = no_deadline
        else:
            shown = dates.get(due) or dates.setdefault(
                due, str(escape(formats.format_datetime(due, locale)))
            )
        cells.append(f"{body}<td>{shown}</td>\n    </tr>")
        out.append("".join(cells))
    return Markup("".join(out))  # every text above is escaped
