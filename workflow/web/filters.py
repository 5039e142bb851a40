"""Jinja filters and globals: dates, amounts, role names and yes/no in the user's language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask

from models import Body, DeadlineKind, Role
from workflow import policy
from workflow.auth.login import current_user
from workflow.cases.queries import ROLE_LABELS
from workflow.engine import clock, values
from workflow.organisation import queries as organisation
from workflow.web import i18n
from workflow.web.i18n import _l


def danish_date(value: date | datetime | None) -> str:
    """Format a date like '13. november 2020' (English: '13 November 2020'); nothing for None."""
    return i18n.format_date(value) if value is not None else ""


def danish_datetime(value: datetime | None) -> str:
    """Format a moment like '13. november 2020 kl. 09:30' in Danish time; nothing for None."""
    return i18n.format_datetime(value) if value is not None else ""


def short_date(value: date | datetime | None) -> str:
    """Format a date like '13.11.2020' (English: '13/11/2020'); nothing for None."""
    return i18n.format_short_date(value) if value is not None else ""


def amount(value: Decimal | int | float | None) -> str:
    """Format an amount like '2.400.000 kr.' or '1.234,50 kr.'; nothing for None."""
    return i18n.format_amount(value) if value is not None else ""


def number(value: Decimal | int | float | None) -> str:
    """Format a number like '2.400.000' in the user's language; nothing for None."""
    return i18n.format_number(value) if value is not None else ""


def role_label(role: Role | str) -> str:
    """Name a membership role in the user's language."""
    return str(ROLE_LABELS.get(Role(role), str(role)))


DEADLINE_KIND_LABELS = {
    DeadlineKind.STATE: _l("Frist i tilstanden"),
    DeadlineKind.MATERIAL: _l("Materialefrist"),
    DeadlineKind.CONSULTATION: _l("Høringsfrist"),
    DeadlineKind.FOLLOW_UP: _l("Opfølgning"),
}


def deadline_kind_label(kind: DeadlineKind | str) -> str:
    """Name a kind of deadline in the user's language."""
    return str(DEADLINE_KIND_LABELS.get(DeadlineKind(kind), str(kind)))


def yes_no(value: bool | None) -> str:
    """Say 'Ja' or 'Nej'."""
    return i18n._("Ja") if value else i18n._("Nej")


def body_name_on(body: Body, moment: date | datetime | None = None) -> str:
    """The name a body had on `moment`'s day (a renamed body keeps its former names)."""
    return organisation.body_name(body, moment)


def may(action: str, subject: Any = None) -> bool:
    """The access policy's answer for the logged-in user (templates: `may("edit", case)`)."""
    return policy.may(current_user(), action, subject)


def init_filters(app: Flask) -> None:
    """Register the filters with the app's Jinja environment."""
    app.jinja_env.filters.update(
        dato=danish_date,
        datotid=danish_datetime,
        kortdato=short_date,
        kr=amount,
        tal=number,
        genitiv=i18n.genitive,
        rolle=role_label,
        fristtype=deadline_kind_label,
        ja_nej=yes_no,
        organnavn=body_name_on,
        # A stored link only if it is http(s): never a javascript: href.
        weblink=values.safe_link,
    )
    # The engine's clock, which runs on the demo's date in demo mode.
    app.jinja_env.globals["clock_now"] = clock.now
    # Templates show a link or a button only where the access policy lets the user follow it.
    app.jinja_env.globals["may"] = may
