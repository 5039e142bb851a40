"""Jinja filters and globals: Danish dates, role names, yes/no."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from models import DeadlineKind, Role
from workflow.localtime import format_date, format_datetime
from workflow.web.queries import ROLE_LABELS


def danish_date(value: date | datetime | None) -> str:
    """Format a date like '13. november 2020'; nothing for None."""
    return format_date(value) if value is not None else ""


def danish_datetime(value: datetime | None) -> str:
    """Format a moment like '13. november 2020 kl. 09:30'; nothing for None."""
    return format_datetime(value) if value is not None else ""


def role_label(role: Role | str) -> str:
    """Name a membership role in Danish."""
    return ROLE_LABELS.get(Role(role), str(role))


DEADLINE_KIND_LABELS = {
    DeadlineKind.STATE: "Frist i tilstanden",
    DeadlineKind.MATERIAL: "Materialefrist",
    DeadlineKind.CONSULTATION: "Høringsfrist",
    DeadlineKind.FOLLOW_UP: "Opfølgning",
}


def deadline_kind_label(kind: DeadlineKind | str) -> str:
    """Name a kind of deadline in Danish."""
    return DEADLINE_KIND_LABELS.get(DeadlineKind(kind), str(kind))


def yes_no(value: bool | None) -> str:
    """Say 'Ja' or 'Nej'."""
    return "Ja" if value else "Nej"


def init_filters(app: Flask) -> None:
    """Register the filters with the app's Jinja environment."""
    app.jinja_env.filters.update(
        dato=danish_date,
        datotid=danish_datetime,
        rolle=role_label,
        fristtype=deadline_kind_label,
        ja_nej=yes_no,
    )
