"""Cases whose next meeting's materialefrist is near, and what each still lacks — so missing
material is flagged before the deadline, not after it.

The lists are read in a fixed number of statements (the dashboard must not grow with the
number of cases): the open material deadlines in the window, with their cases and meetings,
and what is missing checked on the case's own fields."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, joinedload

from models import Case, Deadline, DeadlineKind, Meeting

# How many days ahead of a materialefrist a case is flagged (app config MATERIAL_WARNING_DAYS).
DEFAULT_WARNING_DAYS = 14
WATCH_LIMIT = 100


@dataclass(frozen=True)
class Missing:
    """One piece of material a case lacks, in Danish and English."""

    message: str
    message_en: str


@dataclass(frozen=True)
class MaterialWarning:
    """A case due at a meeting soon, the meeting's materialefrist and what the case lacks."""

    case: Case
    meeting: Meeting
    due_at: datetime
    missing: tuple[Missing, ...]


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def missing_material(case: Case) -> tuple[Missing, ...]:
    """What the case's material lacks for a meeting (the material checks of the process rules:
    a business case and financing with extra expense, the role distribution, Triple Aim)."""
    missing: list[Missing] = []
    if _blank(case.summary):
        missing.append(Missing("Sagen mangler et resumé.", "The case lacks a summary."))
    if case.cost_driving and _blank(case.business_case):
        missing.append(Missing("Sagen mangler en businesscase.", "The case lacks a business case."))
    if case.cost_driving and _blank(case.financing_proposal):
        missing.append(
            Missing(
                "Sagen mangler et finansieringsforslag.", "The case lacks a financing proposal."
            )
        )
    if _blank(case.role_distribution):
        missing.append(
            Missing(
                "Sagen mangler rolle- og opgavefordelingen.",
                "The case lacks the distribution of roles and tasks.",
            )
        )
    if any(
        _blank(v)
        for v in (case.triple_aim_quality, case.triple_aim_economy, case.triple_aim_experience)
    ):
        missing.append(
            Missing("Sagen mangler en Triple Aim-beskrivelse.", "The case lacks its Triple Aim.")
        )
    return tuple(missing)


def material_warnings(
    session: Session,
    body_ids: Iterable[int],
    visible: ColumnElement[bool],
    now: datetime,
    days: int = DEFAULT_WARNING_DAYS,
) -> list[MaterialWarning]:
    """Open materialefrister within `days` of the visible cases raised by or lying with the
    bodies, soonest first."""
    ids = list(body_ids)
    if not ids:
        return []
    rows = session.execute(
        select(Deadline, Case, Meeting)
        .join(Case, Case.id == Deadline.case_id)
        .join(Meeting, Meeting.id == Deadline.meeting_id)
        .options(joinedload(Meeting.body))
        .where(
            visible,
            or_(Case.originating_body_id.in_(ids), Case.current_body_id.in_(ids)),
            Deadline.kind == DeadlineKind.MATERIAL,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at >= now,
            Deadline.due_at <= now + timedelta(days=days),
        )
        .order_by(Deadline.due_at, Case.id)
        .limit(WATCH_LIMIT)
    ).all()
    seen: set[int] = set()
    warnings: list[MaterialWarning] = []
    for deadline, case, meeting in rows:
        if case.id in seen:
            continue
        seen.add(case.id)
        warnings.append(MaterialWarning(case, meeting, deadline.due_at, missing_material(case)))
    return warnings
