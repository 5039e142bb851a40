"""The agreement's rhythms: cases the engine opens by itself (seed 000, 001, 004).

A process whose definition declares `opens` gets its cases from the scheduler's daily rhythms
job, once each: one per calendar year (SKU's yearly review of the agreement), one per municipal and
regional electoral period (the report before the period ends; the periods are data in
`data/electoral_periods.toml`), or one per body of a kind set up from a day (a new forum's
work plan for TSS). Each case records what it was opened for, so a sweep run twice (or by two
processes in turn) opens nothing twice.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Case
from workflow.engine import core as engine
from workflow.engine.definitions import PERIOD_END_FIELD, OpensRule, ProcessDefinition
from workflow.engine.paths import resource_dir
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import unit_of_work

# The key in case.extra that names what the case was opened for ("2026", "2026-01-01").
OPENED_FOR = "opened_for"


@dataclass(frozen=True)
class ElectoralPeriod:
    """One municipal and regional electoral period."""

    starts: date
    ends: date


def electoral_periods(path: Path | None = None) -> list[ElectoralPeriod]:
    """The electoral periods of `data/electoral_periods.toml`, earliest first."""
    path = path or resource_dir("data") / "electoral_periods.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    periods = []
    for entry in raw.get("periods", []):
        starts, ends = entry["starts"], entry["ends"]
        if not isinstance(starts, date) or not isinstance(ends, date) or ends <= starts:
            raise ValueError(f"{path}: en valgperiode skal have datoerne starts < ends ({entry})")
        periods.append(ElectoralPeriod(starts, ends))
    return sorted(periods, key=lambda period: period.starts)


def period_on(day: date, periods: list[ElectoralPeriod]) -> ElectoralPeriod | None:
    """The electoral period that `day` falls in, if the data names one."""
    return next((p for p in periods if p.starts <= day <= p.ends), None)


def _opened(session: Session, process: str) -> tuple[set[str], set[int]]:
    """What the process's cases were opened for, and the bodies that raised them."""
    rows = session.execute(
        select(Case.extra, Case.originating_body_id).where(Case.process == process)
    ).all()
    keys = {str(extra.get(OPENED_FOR)) for extra, _ in rows if extra and OPENED_FOR in extra}
    return keys, {body_id for _, body_id in rows}


def _open(
    session: Session, definition: ProcessDefinition, body: Body, title: str, extra: dict[str, Any]
) -> Case:
    return engine.create_case(
        session, process=definition.name, title=title, originating_body=body, actor=None,
        extra=extra, summary=definition.description,
    )  # fmt: skip


def _bodies(session: Session, rule: OpensRule, today: date) -> list[Body]:
    """The bodies a yearly or electoral period's case is opened in: the named one (or the body
    that took over from it), or each active body of the kind."""
    if rule.body:
        return [engine.body_now(session, rule.body, day=today)]
    found = session.scalars(
        select(Body).where(Body.kind == rule.kind, Body.active.is_(True)).order_by(Body.code)
    )
    return [body for body in found if not engine.closed_on(body, today)]


def _periodic(
    session: Session,
    definition: ProcessDefinition,
    rule: OpensRule,
    today: date,
    keys: set[str],
) -> list[Case]:
    if rule.every == "year":
        period, name, extra = str(today.year), str(today.year), {}
    else:
        current = period_on(today, electoral_periods())
        if current is None:
            return []
        period = current.starts.isoformat()
        name = f"{current.starts.year}-{current.ends.year}"
        extra = {PERIOD_END_FIELD: current.ends.isoformat()}
    opened = []
    for body in _bodies(session, rule, today):
        # One case per period, or per period and body when each body of a kind gets one.
        key = period if rule.body else f"{period}:{body.code}"
        if key in keys:
            continue
        title = f"{definition.title} {name}" + ("" if rule.body else f": {body.name}")
        opened.append(_open(session, definition, body, title, {OPENED_FOR: key, **extra}))
    return opened


def _due(
    session: Session, definition: ProcessDefinition, rule: OpensRule, today: date
) -> list[Case]:
    keys, bodies = _opened(session, definition.name)
    if rule.every != "new_body":
        return _periodic(session, definition, rule, today, keys)
    new_bodies = session.scalars(
        select(Body)
        .where(Body.kind == rule.kind, Body.active.is_(True), Body.id.not_in(bodies or {0}))
        .order_by(Body.id)
    )
    opened = []
    for body in new_bodies:
        started = body.valid_from
        if started is None or started > today or (rule.since and started < rule.since):
            continue
        if body.valid_to is not None and body.valid_to < today:
            continue
        title = f"{definition.title}: {body.name}"
        opened.append(_open(session, definition, body, title, {OPENED_FOR: body.code}))
    return opened


def open_due_cases(
    session: Session, today: date, definitions: Iterable[ProcessDefinition] | None = None
) -> list[Case]:
    """Open the cases the definitions' rhythms ask for on `today` and not yet opened (the
    stored definitions' newest versions unless `definitions` are given)."""
    opened: list[Case] = []
    with unit_of_work(session):
        for definition in registry.all_latest(session) if definitions is None else definitions:
            if definition.opens is not None:
                opened.extend(_due(session, definition, definition.opens, today))
    return opened
