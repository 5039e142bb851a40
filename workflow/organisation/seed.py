"""Load the real organisation (data/organisation.toml, data/goals.toml) — idempotently.

Rows are matched on their stable code; a changed name, planning area or parent is updated,
nothing is deleted. Process definitions in states/ are stored as versions at the same time.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Body,
    BodyKind,
    BodyName,
    FocusArea,
    FocusSubGoal,
    NationalGoal,
    Party,
    PartyKind,
    PlanningArea,
    Reorganisation,
)
from workflow.engine import admin_audit
from workflow.engine.definitions import DefinitionError, ProcessDefinition, load_definitions
from workflow.engine.paths import resource_dir
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import unit_of_work


@dataclass
class SeedReport:
    """How many rows the seed created and updated, by kind."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    # Rows that differ from the data file but were left as an admin set them.
    kept: dict[str, int] = field(default_factory=dict)
    # Overwrite existing rows with the data file's values (aftaleflow seed --update).
    update: bool = False

    def count(self, kind: str, *, created: bool) -> None:
        target = self.created if created else self.updated if self.update else self.kept
        target[kind] = target.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        """Describe the changes in one Danish line."""
        kept = ""
        if self.kept:
            total = sum(self.kept.values())
            kept = (
                f" {total} eksisterende rækker afviger fra datafilen og er bevaret, som de er "
                "rettet i Aftaleflow; kør 'aftaleflow seed --update' for at bruge datafilens "
                "værdier."
            )
        if not self.changed:
            return "Organisationen er allerede indlæst; intet ændret." + kept
        parts = [f"{n} {kind} oprettet" for kind, n in sorted(self.created.items())]
        parts += [f"{n} {kind} opdateret" for kind, n in sorted(self.updated.items())]
        return ", ".join(parts) + "." + kept


def municipality_code(name: str) -> str:
    """Derive a municipality's stable party code from its name."""
    ascii_name = name.upper().replace("Æ", "AE").replace("Ø", "OE").replace("Å", "AA")
    return "KOM-" + ascii_name.replace(" ", "-")


def municipality_codes() -> dict[str, str]:
    """The data file's short municipality names ('København') and their party codes."""
    data = _read(resource_dir("data") / "organisation.toml")
    return {name: municipality_code(name) for name in data["municipalities"]}


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _upsert(
    session: Session,
    report: SeedReport,
    kind: str,
    model: type[Any],
    key: dict[str, Any],
    values: dict[str, Any],
) -> Any:
    """Create the row matching `key`; with report.update, also overwrite values that differ.

    Without --update an existing row is left alone: an admin may have corrected it in the
    web app, and `make run` seeds on every start.
    """
    row = session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        session.add(row)
        session.flush()
        report.count(kind, created=True)
        return row
    if any(getattr(row, name) != value for name, value in values.items()):
        if report.update:
            for name, value in values.items():
                setattr(row, name, value)
        report.count(kind, created=False)
    return row


def _seed_goals(session: Session, report: SeedReport, data: dict[str, Any]) -> None:
    for spec in data["focus_areas"]:
        area = _upsert(
            session, report, "fokusområder", FocusArea, {"code": spec["code"]},
            {"name": spec["name"], "name_en": spec.get("name_en"), "period": spec["period"]},
        )  # fmt: skip
        for position, text in enumerate(spec.get("sub_goals", []), start=1):
            _upsert(
                session, report, "delmål", FocusSubGoal,
                {"focus_area_id": area.id, "position": position}, {"text": text},
            )  # fmt: skip
    for spec in data["national_goals"]:
        _upsert(
            session, report, "nationale mål", NationalGoal, {"number": spec["number"]},
            {"name": spec["name"], "name_en": spec.get("name_en")},
        )  # fmt: skip


def dates(spec: dict[str, Any]) -> dict[str, Any]:
    """The validity dates a data-file row gives (valid_from/valid_to; absent = open-ended).

    Only the keys the row names are returned, so a file without dates leaves the rows' dates
    as they are.
    """
    return {key: spec[key] for key in ("valid_from", "valid_to") if key in spec}


def seed_organisation(session: Session, report: SeedReport, data: dict[str, Any]) -> None:
    areas: dict[str, PlanningArea] = {}
    for spec in data.get("planning_areas", []):
        areas[spec["code"]] = _upsert(
            session, report, "planområder", PlanningArea, {"code": spec["code"]},
            {"name": spec["name"], **dates(spec)},
        )  # fmt: skip

    def area_id(code: str | None) -> int | None:
        if not code:
            return None
        if code not in areas:  # an area seeded earlier (a later data set builds on it)
            areas[code] = session.scalars(select(PlanningArea).filter_by(code=code)).one()
        return areas[code].id

    for spec in data.get("parties", []):
        _upsert(
            session, report, "parter", Party, {"code": spec["code"]},
            {"name": spec["name"], "kind": PartyKind(spec["kind"]),
             "planning_area_id": area_id(spec.get("planning_area")), **dates(spec)},
        )  # fmt: skip
    official = data.get("municipality_names", {})
    for name, area_code in data.get("municipalities", {}).items():
        _upsert(
            session, report, "kommuner", Party, {"code": municipality_code(name)},
            {"name": official.get(name, f"{name} Kommune"),
             "kind": PartyKind.MUNICIPALITY, "planning_area_id": area_id(area_code)},
        )  # fmt: skip

    focus_ids = {a.code: a.id for a in session.scalars(select(FocusArea))}
    existing_codes = set(session.scalars(select(Body.code)))
    bodies: dict[str, Body] = {}
    # After a reorganisation the plans own the bodies' names and parents: the data file, which
    # describes the structure before it, no longer changes an existing body's name or parent.
    reorganised = session.scalar(select(Reorganisation.id).limit(1)) is not None
    # Two passes: every body exists before parents are linked.
    for spec in data.get("bodies", []):
        kept = reorganised and spec["code"] in existing_codes
        names = {} if kept else {"name": spec["name"], "name_en": spec.get("name_en")}
        bodies[spec["code"]] = _upsert(
            session, report, "organer", Body, {"code": spec["code"]},
            {**names,
             "kind": BodyKind(spec["kind"]),
             "planning_area_id": area_id(spec.get("planning_area")),
             "focus_area_id": focus_ids.get(spec.get("focus_area", "")),
             "material_deadline_days": spec.get("material_deadline_days", 7),
             "material_deadline_working_days": spec.get("working_days", False),
             "formandskab_decides": spec.get("formandskab_decides", False),
             **dates(spec)},
        )  # fmt: skip
        for former in spec.get("former_names", []):
            _upsert(
                session, report, "tidligere navne", BodyName,
                {"body_id": bodies[spec["code"]].id, "valid_to": former["valid_to"]},
                {"name": former["name"], "name_en": former.get("name_en"), **dates(former)},
            )  # fmt: skip
    for spec in data.get("bodies", []):
        parent = _body(session, bodies, spec["parent"]).id if spec.get("parent") else None
        body = bodies[spec["code"]]
        if reorganised and body.code in existing_codes:
            continue
        if body.parent_id != parent:
            # Linking a body created in this run is part of creating it, not an update.
            if body.code in existing_codes:
                report.count("organer", created=False)
                if not report.update:
                    continue
            body.parent_id = parent


def _body(session: Session, bodies: dict[str, Body], code: str) -> Body:
    """A body of this data file, or one seeded earlier (a later data set builds on it)."""
    if code not in bodies:
        bodies[code] = session.scalars(select(Body).filter_by(code=code)).one()
    return bodies[code]


def referenced_body_codes(definition: ProcessDefinition) -> dict[str, str]:
    """Map each body code a definition names to the first key that names it."""
    codes: dict[str, str] = {}
    for state in definition.states.values():
        codes.setdefault(state.body, f"states.{state.name}.body")
    for index, transition in enumerate(definition.transitions):
        for ref in transition.allowed:
            codes.setdefault(ref.body, f"transitions[{index}].allowed")
        for code in transition.inform:
            codes.setdefault(code, f"transitions[{index}].inform")
    return {c: key for c, key in codes.items() if c not in ("", "current", "originating")}


def check_body_codes(session: Session) -> None:
    """Refuse definitions that name bodies, or kinds of body, the organisation does not have."""
    known = set(session.scalars(select(Body.code)))
    kinds = {str(kind) for kind in session.scalars(select(Body.kind).distinct())}
    for definition in load_definitions(registry.directory).values():
        for code, key in referenced_body_codes(definition).items():
            if code not in known:
                raise DefinitionError(
                    f"{definition.source_name}: {key}: organet '{code}' findes ikke i "
                    "organisationen (data/organisation.toml)"
                )
        for code, kind in definition.body_kinds.items():
            if kind not in kinds:
                raise DefinitionError(
                    f"{definition.source_name}: body_kinds.{code}: organisationen har intet "
                    f"organ af arten '{kind}' (data/organisation.toml)"
                )


def run(
    session: Session, progress: Callable[[str], None] | None = None, *, update: bool = False
) -> SeedReport:
    """Load goals, organisation and process definitions; commit; report what changed."""
    say = progress or (lambda _message: None)
    data_dir = resource_dir("data")
    report = SeedReport(update=update)
    with unit_of_work(session):
        say("Fokusområder og nationale mål …")
        _seed_goals(session, report, _read(data_dir / "goals.toml"))
        say("Planområder, parter, kommuner og organer …")
        seed_organisation(session, report, _read(data_dir / "organisation.toml"))
        say("Procesdefinitioner …")
        for version in registry.sync(session):
            report.count(f"procesversioner ({version.name})", created=True)
        check_body_codes(session)
        if report.changed:
            admin_audit.record(
                session,
                action="seed", object_type="organisation", object_id="data",
                data={"created": report.created, "updated": report.updated},
            )  # fmt: skip
    return report
