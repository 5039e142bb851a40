"""The designer's reads: a process's draft, the loader's verdict on a text, the diff against
the published version and the cases in flight on earlier versions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Case, ProcessDraft, ProcessVersion
from workflow.engine.definitions import DefinitionError, ProcessDefinition, parse_definition
from workflow.engine.processes import registry

_KEY_PART = re.compile(r"([a-z_][a-z0-9_]*)(?:\[(\d+)\])?")
_TOML_LINE = re.compile(r"at line (\d+)")
_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)")


def source_name(name: str) -> str:
    """How the loader names a draft in its messages."""
    return f"{name} (kladde)"


@dataclass(frozen=True)
class Problem:
    """What the loader refused: the key it names ("states.at_tss.deadline.days", "" for the
    text as a whole), its message, and the line of the TOML it points at (0 if unknown)."""

    key: str
    message: str
    line: int = 0


def check(name: str, source: str) -> tuple[ProcessDefinition | None, Problem | None]:
    """Validate `source` as process `name` with the loader; the definition or the problem."""
    try:
        definition = parse_definition(source, source_name(name))
    except DefinitionError as exc:
        return None, problem_of(str(exc), name, source)
    if definition.name != name:
        return None, Problem(
            "name",
            f"skal være '{name}'; en ny proces oprettes som en fil i states/",
            line_of(source, "name"),
        )
    return definition, None


def problem_of(text: str, name: str, source: str) -> Problem:
    """Split the loader's "source: key: message" into the key and the message."""
    prefix = source_name(name) + ": "
    rest = text.removeprefix(prefix)
    if rest.startswith("ugyldig TOML"):
        found = _TOML_LINE.search(rest)
        return Problem("", rest, int(found.group(1)) if found else 0)
    key, sep, message = rest.partition(": ")
    if not sep or " " in key:
        return Problem("", rest)
    return Problem(key, message, line_of(source, key))


def line_of(source: str, key: str) -> int:
    """The line (from 1) of the TOML where `key` ("transitions[2].allowed") is written, as near
    as the text's tables allow; 0 when it cannot be found."""
    parts = [m.groups() for m in (_KEY_PART.fullmatch(p) for p in key.split(".")) if m]
    if not parts:
        return 0
    lines = source.splitlines()
    start = 0
    table: list[str] = []
    remaining = list(parts)
    # Walk the tables: [states.x] for states.x.…, the n-th [[transitions]] for transitions[n].…
    while remaining:
        part, index = remaining[0]
        if index is not None:
            header = f"[[{'.'.join([*table, part])}]]"
            found = [i for i, line in enumerate(lines) if line.strip() == header]
            if int(index) >= len(found):
                break
            start = found[int(index)]
            table = [*table, part]
            remaining.pop(0)
            continue
        header = f"[{'.'.join([*table, part])}]"
        at = next((i for i, line in enumerate(lines) if line.strip() == header), None)
        if at is None:
            break
        start, table = at, [*table, part]
        remaining.pop(0)
    if not remaining:
        return start + 1
    key_name = remaining[0][0]
    for i in range(start + 1 if table else 0, len(lines)):
        stripped = lines[i].strip()
        if table and i > start and stripped.startswith("["):
            break
        if re.match(rf"{re.escape(key_name)}\s*=", stripped):
            return i + 1
    return start + 1 if table else 0


def draft_of(session: Session, name: str) -> ProcessDraft | None:
    """The draft of process `name`, if an admin has saved one."""
    return session.scalar(select(ProcessDraft).where(ProcessDraft.name == name))


@dataclass(frozen=True)
class ProcessRow:
    """A process in the designer's list: its newest version and its draft, if any."""

    definition: ProcessDefinition
    draft: ProcessDraft | None


def overview(session: Session) -> list[ProcessRow]:
    """Every process with its newest version and its draft."""
    drafts = {d.name: d for d in session.scalars(select(ProcessDraft))}
    return [ProcessRow(d, drafts.get(d.name)) for d in registry.all_latest(session)]


@dataclass(frozen=True)
class DiffLine:
    """One line of the difference: "add", "remove", "same" or "hunk" (a new stretch, whose
    text is the draft's line number it starts at)."""

    kind: str
    text: str


def diff(published: str, draft: str) -> list[DiffLine]:
    """The lines the draft adds and removes against the published text, with context."""
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(published.splitlines(), draft.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            found = _HUNK.match(line)
            lines.append(DiffLine("hunk", found.group(1) if found else ""))
        elif line.startswith("+"):
            lines.append(DiffLine("add", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("remove", line[1:]))
        else:
            lines.append(DiffLine("same", line[1:]))
    return lines


@dataclass(frozen=True)
class InFlight:
    """Open cases of a process on one earlier version, in one state."""

    version: int
    state: str
    count: int


def in_flight(session: Session, name: str, newest: int) -> list[InFlight]:
    """Open cases of `name` on versions before `newest`, counted per version and state."""
    rows = session.execute(
        select(Case.process_version, Case.state, func.count(Case.id))
        .where(Case.process == name, Case.process_version < newest)
        .group_by(Case.process_version, Case.state)
        .order_by(Case.process_version, Case.state)
    ).all()
    return [
        InFlight(version, state, count)
        for version, state, count in rows
        if not _is_final(session, name, version, state)
    ]


def _is_final(session: Session, name: str, version: int, state: str) -> bool:
    spec = registry.get(session, name, version).states.get(state)
    return spec is not None and spec.final


def versions(session: Session, name: str) -> list[ProcessVersion]:
    """The stored versions of `name`, newest first."""
    return list(
        session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.name == name)
            .order_by(ProcessVersion.version.desc())
        )
    )
